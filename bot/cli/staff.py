"""`staff add|code|list` (and `staff remove`, staff_remove.py): the people who handle tickets.

Staff belong to a community (`--community NAME`) or, without one, to the street office. The
street's level (3, `--street`) is the top of the escalation ladder, which leaves the community:
it is refused with `--community` (models/staff.py StreetLevel says why).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from models.communities import community_names
from models.staff import (
    LEVEL_COMMUNITY,
    LEVEL_STAFF,
    LEVEL_STREET,
    StaffError,
    add_staff,
    issue_code,
    staff_members,
)

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

LEVEL_NAMES = {LEVEL_STAFF: "staff", LEVEL_COMMUNITY: "supervisor", LEVEL_STREET: "street"}
STREET_NAME = "街道"  # how `staff list` names the street's staff (no community)


@click.group()
def staff() -> None:
    """Staff (工作人员): add them, issue sign-up codes, list them, remove one who leaves."""


def _assignment_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option("--name", required=True, help="The name residents and colleagues see."),
            click.option("--topic", "topics", multiple=True, help="A topic they handle."),
            click.option("--grid", "grids", multiple=True, help="A grid they work in."),
            click.option("--supervisor", is_flag=True, help="Level 2: community supervisor."),
            click.option("--street", is_flag=True, help="Level 3: street-office contact."),
            click.option(
                "--community",
                metavar="NAME",
                help="Their community (社区); without it, the street office's staff.",
            ),
        ]
    ):
        func = option(func)
    return func


def _level(supervisor: bool, street: bool) -> int:
    if supervisor and street:
        raise click.UsageError("give --supervisor or --street, not both")
    return LEVEL_STREET if street else LEVEL_COMMUNITY if supervisor else LEVEL_STAFF


@staff.command("add")
@config_option
@click.option("--openid", required=True, help="Their openid (they need not have written yet).")
@_assignment_options
@click.option("--wecom-user", help="Their WeCom (企业微信) user id, for pushes there.")
def add(
    config_path: str | None,
    openid: str,
    name: str,
    topics: tuple[str, ...],
    grids: tuple[str, ...],
    supervisor: bool,
    street: bool,
    community: str | None,
    wecom_user: str | None,
) -> None:
    """Make OPENID staff; their topics and grids (of their community) become exactly those
    given."""
    level = _level(supervisor, street)
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            person = add_staff(
                session,
                openid,
                name,
                topics,
                grids,
                wecom_user,
                level,
                datetime.now(UTC),
                community_id=scope.community_id,
            )
            role = person.role.name.lower()
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(
        f"staff {name} ({openid}): {role}, level {level} ({LEVEL_NAMES[level]}), "
        f"topics: {', '.join(topics) or '-'}, grids: {', '.join(grids) or '-'}"
        + (f", WeCom user {wecom_user}" if wecom_user else "")
        + (f", community {community.strip()}" if community else "")
    )


@staff.command("code")
@config_option
@_assignment_options
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90))
def code(
    config_path: str | None,
    name: str,
    topics: tuple[str, ...],
    grids: tuple[str, ...],
    supervisor: bool,
    street: bool,
    community: str | None,
    days: int,
) -> None:
    """Issue a one-time code; whoever sends `员工 CODE` becomes this staff member."""
    level = _level(supervisor, street)
    db = Database(settings_from(config_path))
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            issued = issue_code(
                session,
                name,
                topics,
                grids,
                level,
                None,
                now,
                timedelta(days=days),
                community_id=scope.community_id,
            )
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(issued)
    where = f", community {community.strip()}" if community else ""
    click.echo(f"for {name}: level {level} ({LEVEL_NAMES[level]}){where}, valid for {days} day(s)")
    click.echo(f"they send to the account, once: 员工 {issued}")


@staff.command("list")
@config_option
@community_option
def list_staff(config_path: str | None, community: str | None) -> None:
    """Every staff member and admin: level, topics, grids, WeCom user, community."""
    db = Database(settings_from(config_path))
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            members = staff_members(session, scope.community_id)
            # One community: no community column, as before the street had several.
            several = len(community_names(session)) > 1 or community is not None
    finally:
        db.dispose()
    if not members:
        click.echo("no staff yet: yishiting staff add ...")
    for m in members:
        level = LEVEL_NAMES.get(m.level, str(m.level))
        click.echo(
            f"{m.name or '-'}  {m.openid}  {m.role.name.lower()}  level {m.level} ({level})  "
            f"topics: {', '.join(m.topics) or '-'}  grids: {', '.join(m.grids) or '-'}"
            + (f"  WeCom: {m.wecom_user}" if m.wecom_user else "")
            + (f"  community: {m.community or STREET_NAME}" if several else "")
        )

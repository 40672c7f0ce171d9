"""`places import|list`, `residents approve|reject|pending`, `staff add|code|list`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person
from models.places import (
    BindingError,
    NoBinding,
    approve_binding,
    mask_openid,
    mask_phone,
    pending_bindings,
    reject_binding,
)
from models.placesfile import PlacesFileError, import_places, parse_places, places_overview
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
from . import privacy
from .common import config_option, settings_from

LEVEL_NAMES = {LEVEL_STAFF: "staff", LEVEL_COMMUNITY: "supervisor", LEVEL_STREET: "street"}


class _DryRun(Exception):
    """Raised inside a session to roll back what a dry run did."""


# -- places ---------------------------------------------------------------------------------


@click.group()
def places() -> None:
    """Places (网格、楼栋、户): import them from a file, list them."""


@places.command("import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
def import_file(config_path: str | None, file: str, dry_run: bool) -> None:
    """Make the grids, buildings and households in FILE (TOML) as written there."""
    try:
        spec = parse_places(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read: {exc}") from None
    except PlacesFileError as exc:
        raise _refused(file, exc) from None
    db = Database(settings_from(config_path))
    changes: list[str] = []
    try:
        with db.session() as session:
            changes = import_places(session, spec, datetime.now(UTC))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except PlacesFileError as exc:
        raise _refused(file, exc) from None
    finally:
        db.dispose()
    for change in changes:
        click.echo(change)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(changes)} change(s) {verb}" if changes else "no changes: up to date")


def _refused(file: str, exc: PlacesFileError) -> click.ClickException:
    where = f"{file}:{exc.line}" if exc.line else file
    return click.ClickException(f"{where}: {exc.reason} (nothing imported)")


@places.command("list")
@config_option
def list_places(config_path: str | None) -> None:
    """Every grid with its worker and buildings, and the households known in each."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        grids = places_overview(session)
    db.dispose()
    if not grids:
        click.echo("no places yet: yishiting places import FILE")
    for grid in grids:
        households = sum(count for _, count in grid.buildings)
        title = grid.name if grid.name is not None else "(no grid)"
        click.echo(f"{title}  worker: {grid.worker or '-'}  households: {households}")
        for building, count in grid.buildings:
            click.echo(f"  {building}: {count} household(s)")


# -- residents ------------------------------------------------------------------------------


@click.group()
def residents() -> None:
    """Residents: bindings to households (approve, reject, pending); export and erase a
    person's data."""


@residents.command("approve")
@config_option
@click.argument("openid")
def approve(config_path: str | None, openid: str) -> None:
    """Approve the pending binding of OPENID (the resident is told)."""
    place = _decide(config_path, openid, approve=True)
    click.echo(f"approved: {mask_openid(openid)} lives at {place}")


@residents.command("reject")
@config_option
@click.argument("openid")
def reject(config_path: str | None, openid: str) -> None:
    """Turn down the pending binding of OPENID (it is removed)."""
    place = _decide(config_path, openid, approve=False)
    click.echo(f"rejected: {mask_openid(openid)} at {place}")


def _decide(config_path: str | None, openid: str, *, approve: bool) -> str:
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            person = _person(session, openid)
            now = datetime.now(UTC)
            if approve:
                return approve_binding(session, person.id, "cli", now).household.label
            return reject_binding(session, person.id, "cli", now)
    except NoBinding:
        raise click.ClickException(f"{openid} has asked for no binding") from None
    except BindingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


@residents.command("pending")
@config_option
def pending(config_path: str | None) -> None:
    """The bindings waiting for approval, oldest first."""
    settings = settings_from(config_path)
    db = Database(settings)
    with db.session(read_only=True) as session:
        rows = [
            (
                mask_openid(person.openid),
                binding.household.label,
                mask_phone(binding.phone) or "-",
                binding.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M"),
            )
            for binding, person in pending_bindings(session)
        ]
    db.dispose()
    if not rows:
        click.echo("no pending bindings")
    for tag, place, phone, since in rows:
        click.echo(f"{tag}  {place}  phone {phone}  since {since}")


residents.add_command(privacy.export)
residents.add_command(privacy.erase)


def _person(session: Session, openid: str) -> Person:
    person = session.scalars(select(Person).where(Person.openid == openid)).one_or_none()
    if person is None:
        raise click.ClickException(f"no one with openid {openid} has written to the account")
    return person


# -- staff ----------------------------------------------------------------------------------


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
    wecom_user: str | None,
) -> None:
    """Make OPENID staff; their topics and grids become exactly those given."""
    level = _level(supervisor, street)
    db = Database(settings_from(config_path))
    try:
        with db.session() as session:
            person = add_staff(
                session, openid, name, topics, grids, wecom_user, level, datetime.now(UTC)
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
    days: int,
) -> None:
    """Issue a one-time code; whoever sends `员工 CODE` becomes this staff member."""
    level = _level(supervisor, street)
    db = Database(settings_from(config_path))
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            issued = issue_code(
                session, name, topics, grids, level, None, now, timedelta(days=days)
            )
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(issued)
    click.echo(f"for {name}: level {level} ({LEVEL_NAMES[level]}), valid for {days} day(s)")
    click.echo(f"they send to the account, once: 员工 {issued}")


@staff.command("list")
@config_option
def list_staff(config_path: str | None) -> None:
    """Every staff member and admin: level, topics, grids, WeCom user."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        members = staff_members(session)
    db.dispose()
    if not members:
        click.echo("no staff yet: yishiting staff add ...")
    for m in members:
        level = LEVEL_NAMES.get(m.level, str(m.level))
        click.echo(
            f"{m.name or '-'}  {m.openid}  {m.role.name.lower()}  level {m.level} ({level})  "
            f"topics: {', '.join(m.topics) or '-'}  grids: {', '.join(m.grids) or '-'}"
            + (f"  WeCom: {m.wecom_user}" if m.wecom_user else "")
        )

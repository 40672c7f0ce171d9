"""`yishiting agenda …`: 议题 from the command line (the commands are added per stage).

立项 lives here: `list`, `show` (`--json` prints models/agenda_json.agenda_json, the contract),
`create` (an admin opens an item at `accepted`; prints `#N title` first, like `poll create`),
`accept` and `decline` (with a reason). With `--community NAME` a command sees that
community's items and the street's; another community's item is "no 议题 #N", like a missing
one, and a street-wide item is changed only without --community (by the street).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.agenda import ACTOR_MAX, STAGES, AgendaError, AgendaItem, agenda_by_number, timeline
from models.agenda_json import agenda_json
from models.proposals import accept as accept_item
from models.proposals import create as create_item
from models.proposals import decline as decline_item
from words.agenda import EVENT_NAMES

from ..db import Database
from .common import community_option, config_option, row_in_scope, scope_of, settings_from

# AgendaError reasons, as an admin at the command line reads them.
REFUSALS = {
    "title": "a title is needed (--title)",
    "title_long": "the title is too long (at most {limit} characters)",
    "reason": "a reason is needed: residents are told why",
    "reason_long": "the reason is too long (at most {limit} characters)",
    "stage": "议题 #{number} is {stage}: it cannot be {wanted} now",
}


@click.group()
def agenda() -> None:
    """议题: proposals, the agenda, 公示 and 落实."""


def refusal(exc: AgendaError) -> click.ClickException:
    template = REFUSALS.get(exc.reason, exc.reason)
    return click.ClickException(template.format(**exc.details))


def _name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--by NAME fits the timeline's column (a longer one would fail on PostgreSQL)."""
    if len(value.strip()) > ACTOR_MAX:
        raise click.BadParameter(f"at most {ACTOR_MAX} characters")
    return value.strip()


def item_for(session: Session, number: int, community: str | None, *, changing: bool) -> AgendaItem:
    """议题 #number as `--community` sees it (common.row_in_scope): every 议题 command's."""
    found = agenda_by_number(session, number)
    return row_in_scope(scope_of(session, community), found, f"议题 #{number}", changing=changing)


def _local(iso: str | None, tz: tzinfo) -> str:
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _print_item(data: dict[str, Any], events: list[tuple[str, str, str, str]]) -> None:
    backing = f"{data['backing']}/{data['backing_threshold'] or '-'}"
    click.echo(f"#{data['number']}  {data['title']}  [{data['stage']}]")
    click.echo(f"community {data['community'] or 'street-wide'}  backing {backing}")
    click.echo(data["text"])
    for at, kind, actor, text in events:
        by = f" ({actor})" if actor else ""
        click.echo(f"  {at}  {EVENT_NAMES.get(kind, kind)}{by}" + (f": {text}" if text else ""))


@agenda.command("show")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (one object).")
@community_option
def show(config_path: str | None, number: int, as_json: bool, community: str | None) -> None:
    """Show 议题 #NUMBER: its stage, backing, the proposal as written and its timeline."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            item = item_for(session, number, community, changing=False)
            data = agenda_json(session, item, settings.tz, settings.app.public_url)
            events = [
                (_local(e.at.isoformat(), settings.tz), e.kind, e.actor, e.text)
                for e in timeline(session, item.id)
            ]
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    _print_item(data, events)


@agenda.command("list")
@config_option
@click.option("--stage", type=click.Choice(STAGES), help="Only items at this stage.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@community_option
def list_items(
    config_path: str | None, stage: str | None, as_json: bool, community: str | None
) -> None:
    """The 议题, newest first: number, stage, backing, title. With --community: that
    community's and the street-wide ones."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            query = select(AgendaItem).order_by(AgendaItem.number.desc())
            if stage is not None:
                query = query.where(AgendaItem.stage == stage)
            wanted = scope_of(session, community).community_id
            if wanted is not None:
                query = query.where(
                    or_(AgendaItem.community_id.is_(None), AgendaItem.community_id == wanted)
                )
            rows = [
                agenda_json(session, item, settings.tz, settings.app.public_url)
                for item in session.scalars(query)
            ]
    finally:
        db.dispose()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        backing = f"{row['backing']}/{row['backing_threshold'] or '-'}"
        click.echo(f"#{row['number']}  {row['stage']}  backing {backing}  {row['title']}")


@agenda.command("create")
@config_option
@click.option("--title", required=True, help="The 议题's title, as residents will read it.")
@click.option("--text", default="", help="What it is about (default: the title).")
@click.option(
    "--by", "by", default="", metavar="NAME", callback=_name, help="Who opens it (the timeline)."
)
@click.option(
    "--community",
    metavar="NAME",
    help="For this community's residents; without it, the whole street's.",
)
def create(config_path: str | None, title: str, text: str, by: str, community: str | None) -> None:
    """Open a 议题 directly, already on the agenda (立项); prints `#N title`."""
    settings = settings_from(config_path)
    now = datetime.now(UTC)
    deliberation = settings.deliberation
    db = Database(settings)
    try:
        with db.session() as session:
            community_id = scope_of(session, community).community_id
            try:
                item = create_item(
                    session,
                    title,
                    text,
                    community_id,
                    now,
                    actor=by or "命令行",
                    unit=deliberation.backing_unit,
                    threshold=deliberation.backing_threshold,
                )
            except AgendaError as exc:
                raise refusal(exc) from None
            number, title = item.number, item.title
    finally:
        db.dispose()
    click.echo(f"#{number} {title}")
    click.echo(f"议题 #{number}: accepted (立项), open to 附议", err=True)


@agenda.command("accept")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option(
    "--by", "by", default="", metavar="NAME", callback=_name, help="Who decided (the timeline)."
)
@click.option(
    "--title",
    metavar="TEXT",
    help="The committee's name for it from now on (minutes, polls, the public 公示 page); "
    "default: the start of the proposal as the resident wrote it.",
)
@community_option
def accept(
    config_path: str | None, number: int, by: str, title: str | None, community: str | None
) -> None:
    """立项: put 议题 #NUMBER on the agenda; its proposer and backers are told."""
    _decide(config_path, number, community, by, reason=None, title=title)


@agenda.command("decline")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("reason")
@click.option(
    "--by", "by", default="", metavar="NAME", callback=_name, help="Who decided (the timeline)."
)
@community_option
def decline(
    config_path: str | None, number: int, reason: str, by: str, community: str | None
) -> None:
    """不予立项: decline 议题 #NUMBER for REASON; its proposer and backers are told it."""
    _decide(config_path, number, community, by, reason=reason)


def _decide(
    config_path: str | None,
    number: int,
    community: str | None,
    by: str,
    reason: str | None,
    title: str | None = None,
) -> None:
    settings = settings_from(config_path)
    now = datetime.now(UTC)
    db = Database(settings)
    try:
        with db.session() as session:
            item = item_for(session, number, community, changing=True)
            try:
                if reason is None:
                    moved = accept_item(session, item, now, actor=by or "命令行", title=title)
                else:
                    moved = decline_item(session, item, reason, now, actor=by or "命令行")
            except AgendaError as exc:
                raise refusal(exc) from None
    finally:
        db.dispose()
    done = "accepted (立项)" if reason is None else "declined (不予立项)"
    if not moved:
        click.echo(f"#{number} was already {done}")
        return
    click.echo(f"#{number} {done}; its proposer and backers are told")

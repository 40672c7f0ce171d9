"""`meeting create|show|list|minutes`: 议事会 from the command line.

`create` prints `#M title` first; `show --json` prints the meeting's one JSON form
(models/meetings.py `meeting_json`, a contract); what happened besides goes to stderr. A time
without an offset is in the configured time zone. `--community NAME` acts for that community:
another community's meeting or 议题 is "not found", like a missing one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.communities import Scope
from models.meeting_minutes import record_minutes
from models.meeting_ops import MeetingError, MeetingSpec, agenda_of, call_meeting
from models.meetings import Meeting, meeting_by_number, meeting_json
from models.minutesfile import MinutesFileError, parse_minutes

from ..db import Database
from .common import community_option, config_option, row_in_scope, scope_of, settings_from
from .pollparams import IsoTime, aware

REASONS = {
    "title": "--title must be 1 to {limit} characters (it has {length})",
    "place": "--place must be 1 to {limit} characters (it has {length})",
    "invite": "--invite: cannot read {part!r}: use reps, all, grid:NAME or building:NAME[,NAME…]",
    "invite_long": "--invite is longer than {limit} characters",
    "past": "--at is not in the future: a meeting is called before it is held",
    "no_agenda": "give at least one --agenda N (an accepted 议题)",
    "unknown_item": "no 议题 #{number}",
    "street_item": "议题 #{number} is the whole street's: call its meeting without --community",
    "item_stage": "议题 #{number} is {stage}: only accepted items (or ones already deliberating "
    "or voting) go to a meeting",
    "mixed_items": "these 议题 are of different communities: call one meeting per community",
    "places": "--invite: {message}",
    "not_held": "meeting #{number} has not started yet: record its minutes after it is held",
    "no_attendees": "the minutes name no attendees",
    "no_text": "the minutes have no text",
    "not_on_agenda": "议题 #{number} is not on this meeting's agenda ({agenda})",
}


def refusal(exc: MeetingError) -> click.ClickException:
    details: dict[str, Any] = dict(exc.details)
    if "agenda" in details:
        details["agenda"] = ", ".join(f"#{n}" for n in details["agenda"])
    return click.ClickException(REASONS.get(exc.reason, exc.reason).format(**details))


def _meeting_for(session: Session, number: int, scope: Scope, *, changing: bool) -> Meeting:
    found = meeting_by_number(session, number)
    return row_in_scope(scope, found, f"meeting #{number}", changing=changing)


@click.group()
def meeting() -> None:
    """议事会: call one, list them, show one, record its minutes (纪要)."""


@meeting.command("create")
@config_option
@click.option("--title", required=True, help="What the meeting is (up to 100 characters).")
@click.option("--at", "at", required=True, type=IsoTime(), help='When, e.g. "2026-12-10 19:00".')
@click.option("--place", required=True, help="Where (up to 100 characters).")
@click.option(
    "--agenda",
    "agenda",
    multiple=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="An accepted 议题 to deliberate (repeat for several).",
)
@click.option(
    "--invite",
    "invite",
    multiple=True,
    required=True,
    metavar="WHO",
    help="reps, all, grid:NAME or building:NAME[,NAME…] (repeat or comma-separate; each "
    "person is invited once).",
)
@community_option
def create(
    config_path: str | None,
    title: str,
    at: datetime,
    place: str,
    agenda: tuple[int, ...],
    invite: tuple[str, ...],
    community: str | None,
) -> None:
    """Call a meeting on the agenda items; invitees are pushed the invitation. Prints `#M
    title`."""
    settings = settings_from(config_path)
    spec = MeetingSpec(title, aware(at, settings.tz), place, agenda, ",".join(invite), "cli")
    db = Database(settings)
    try:
        with db.session() as session:
            scope = scope_of(session, community)
            try:
                found = call_meeting(
                    session, spec, scope.community_id, datetime.now(UTC), settings.tz
                )
            except MeetingError as exc:
                raise refusal(exc) from None
            data = meeting_json(session, found, settings.tz)
    finally:
        db.dispose()
    click.echo(f"#{data['number']} {data['title']}")
    items = ", ".join(f"#{n}" for n in data["agenda"])
    click.echo(
        f"meeting #{data['number']}: {data['at']} at {data['place']}, agenda {items}, "
        f"{data['invited']} invited",
        err=True,
    )
    if not data["invited"]:
        click.echo(
            "warning: the invitation reached no one (no representatives listed? "
            "`yishiting people reps add`; no bound residents there?)",
            err=True,
        )


@meeting.command("show")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@community_option
def show(config_path: str | None, number: int, as_json: bool, community: str | None) -> None:
    """Show meeting #NUMBER: time, place, agenda, answers, minutes."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            found = _meeting_for(session, number, scope_of(session, community), changing=False)
            data = meeting_json(session, found, settings.tz)
            items = [(i.number, i.title, r.outcome) for r, i in agenda_of(session, found)]
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(f"#{data['number']}  {data['title']}")
    click.echo(f"at {data['at']}  place {data['place']}  invite {data['invite']}")
    for item, title, outcome in items:
        click.echo(f"  议题 #{item} {title}" + (f"  → {outcome}" if outcome else ""))
    click.echo(
        f"invited {data['invited']}  attending {data['attending']}  excused {data['excused']}"
    )
    click.echo(f"attendees: {data['attendees'] or '-'}")
    click.echo(f"minutes: {data['minutes'] or '-'}")


@meeting.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@community_option
def list_meetings(config_path: str | None, as_json: bool, community: str | None) -> None:
    """The meetings, latest first. With --community: its own and the street's."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            query = select(Meeting).order_by(Meeting.at.desc(), Meeting.number.desc())
            wanted = scope_of(session, community).community_id
            if wanted is not None:
                query = query.where(
                    or_(Meeting.community_id.is_(None), Meeting.community_id == wanted)
                )
            rows = [meeting_json(session, m, settings.tz) for m in session.scalars(query)]
    finally:
        db.dispose()
    for data in rows:
        if as_json:
            click.echo(json.dumps(data, ensure_ascii=False))
            continue
        state = "minutes in" if data["minutes"] is not None else "no minutes"
        click.echo(
            f"#{data['number']}  {data['at']}  {data['title']}  "
            f"{data['attending']}/{data['invited']} attending  {state}"
        )


@meeting.command("minutes")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("file", type=click.Path(dir_okay=False))
@community_option
def minutes(config_path: str | None, number: int, file: str, community: str | None) -> None:
    """Record meeting #NUMBER's minutes from FILE (plain UTF-8 text: see README). The first
    time they are pushed to the invitees and the items' backers; recording again corrects
    them without pushing again."""
    settings = settings_from(config_path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read it as UTF-8 text: {exc}") from None
    try:
        written, lines = parse_minutes(text)
    except MinutesFileError as exc:
        raise click.ClickException(f"{file}:{exc.line}: {exc.reason}") from None
    db = Database(settings)
    try:
        with db.session() as session:
            found = _meeting_for(session, number, scope_of(session, community), changing=True)
            try:
                first = record_minutes(session, found, written, "cli", datetime.now(UTC))
            except MeetingError as exc:
                line = lines.get(int(str(exc.details.get("number", 0))))
                where = f"{file}:{line}: " if exc.reason == "not_on_agenda" and line else ""
                raise click.ClickException(where + refusal(exc).message) from None
    finally:
        db.dispose()
    if first:
        click.echo(f"#{number} minutes recorded; pushed to the invitees and the items' backers")
    else:
        click.echo(f"#{number} minutes corrected (not pushed again)")

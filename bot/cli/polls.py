"""`poll create|list|show|close|decide`: polls (议事投票) from the command line.

Machine output goes to stdout (`create` prints `#N title` first; `show --json` one JSON
object); what happened besides goes to stderr. Times given without an offset are in the
configured time zone (`[app] timezone`) and stored as UTC.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.agenda import AgendaError
from models.poll_json import poll_json
from models.polls import (
    BOUND,
    CLOSED,
    DECIDED,
    DRAFT,
    FOLLOWERS,
    HOUSEHOLD_UNIT,
    OPEN,
    PERSON_UNIT,
    Poll,
    PollError,
    PollSpec,
    close_poll,
    create_poll,
    decide_poll,
    poll_by_number,
    tally,
)
from models.publicity import open_agenda_poll

from ..db import Database
from .agenda import item_for
from .common import community_option, config_option, row_in_scope, scope_of, settings_from
from .poll_json import local_time, print_poll
from .pollparams import Duration, IsoTime, Scope, aware, closing_time
from .publicity import ACTOR, agenda_refusal

STATUSES = (DRAFT, OPEN, CLOSED, DECIDED)


def _refusal(exc: PollError) -> click.ClickException:
    message = exc.details.get("message")
    return click.ClickException(f"{message} ({exc.reason})" if message else exc.reason)


@click.group()
def poll() -> None:
    """Polls (议事投票): create one, list them, show the tally, close, record the decision."""


@poll.command("create")
@config_option
@click.option("--title", required=True, help="The question, shown to residents.")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="TEXT",
    help="An option (repeat: 2 to 20; labelled A, B, C … in order).",
)
@click.option("--description", default="", help="Background for the residents.")
@click.option(
    "--scope",
    type=Scope(),
    default="all",
    show_default=True,
    help="Who may vote: all, grid:NAME, or building:NAME[,NAME…].",
)
@click.option(
    "--unit",
    type=click.Choice((PERSON_UNIT, HOUSEHOLD_UNIT)),
    default=PERSON_UNIT,
    show_default=True,
    help="One ballot per person, or per household (户决制).",
)
@click.option(
    "--choices",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Options per ballot.",
)
@click.option("--anonymous", is_flag=True, help="Do not show who voted what.")
@click.option("--hide-results", is_flag=True, help="Residents see results only once closed.")
@click.option("--anyone", is_flag=True, help="Anyone following may vote, not only bound residents.")
@click.option("--opens-at", type=IsoTime(), help="When it opens (default: now).")
@click.option("--closes-at", type=IsoTime(), help="When it closes (or --closes-in).")
@click.option(
    "--closes-in",
    type=Duration(),
    help="How long from now it closes, e.g. 7d, 36h, 1d12h (instead of --closes-at).",
)
@click.option(
    "--quorum", type=float, default=0.0, show_default=True, help="Turnout needed, 0 to 1."
)
@click.option(
    "--threshold",
    type=float,
    default=0.5,
    show_default=True,
    help="Share of ballots the leader needs to pass.",
)
@click.option(
    "--community",
    metavar="NAME",
    help="For this community's residents (grids and buildings are its own); without it, "
    "street-wide, or the community of the grid or buildings named.",
)
@click.option(
    "--agenda",
    "agenda_number",
    type=click.IntRange(min=1),
    metavar="N",
    help="The 议题 #N this poll decides (its community's; the item moves to voting).",
)
def create(
    config_path: str | None,
    title: str,
    options: tuple[str, ...],
    description: str,
    scope: tuple[str, str | None, list[str]],
    unit: str,
    choices: int,
    anonymous: bool,
    hide_results: bool,
    anyone: bool,
    opens_at: datetime | None,
    closes_at: datetime | None,
    closes_in: timedelta | None,
    quorum: float,
    threshold: float,
    community: str | None,
    agenda_number: int | None,
) -> None:
    """Create a poll; prints `#N title`. It closes at --closes-at, or --closes-in from now.
    With --agenda N it decides that 议题 (same community; the item moves to voting)."""
    settings = settings_from(config_path)
    now = datetime.now(UTC)
    kind, grid, buildings = scope
    spec = PollSpec(
        title=title,
        options=list(options),
        closes_at=closing_time(closes_at, closes_in, now, settings.tz),
        description=description,
        scope=kind,
        grid=grid,
        buildings=buildings,
        unit=unit,
        max_choices=choices,
        anonymous=anonymous,
        hide_results=hide_results,
        eligibility=FOLLOWERS if anyone else BOUND,
        opens_at=aware(opens_at, settings.tz) if opens_at is not None else None,
        quorum=quorum,
        threshold=threshold,
    )
    db = Database(settings)
    try:
        with db.session() as session:
            spec = replace(spec, community_id=scope_of(session, community).community_id)
            try:
                if agenda_number is None:
                    created = create_poll(session, spec, now)
                else:
                    item = item_for(session, agenda_number, community, changing=True)
                    created = open_agenda_poll(session, item, spec, now, actor=ACTOR)
            except PollError as exc:
                raise _refusal(exc) from None
            except AgendaError as exc:
                raise agenda_refusal(exc) from None
            number, status = created.number, created.status
            opens, closes = created.opens_at, created.closes_at
            title = created.title
    finally:
        db.dispose()
    click.echo(f"#{number} {title}")
    state = "open now" if status == OPEN else f"opens {local_time(opens, settings.tz)}"
    click.echo(f"poll #{number}: {state}, closes {local_time(closes, settings.tz)}", err=True)


@poll.command("list")
@config_option
@click.option("--status", type=click.Choice(STATUSES), help="Only polls in this state.")
@community_option
def list_polls(config_path: str | None, status: str | None, community: str | None) -> None:
    """The polls, newest first: number, status, closing time (local), title. With
    --community: that community's polls and the street-wide ones."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            query = select(Poll).order_by(Poll.number.desc())
            if status is not None:
                query = query.where(Poll.status == status)
            wanted = scope_of(session, community).community_id
            if wanted is not None:
                query = query.where(or_(Poll.community_id.is_(None), Poll.community_id == wanted))
            rows = [(p.number, p.status, p.closes_at, p.title) for p in session.scalars(query)]
    finally:
        db.dispose()
    for number, state, closes, title in rows:
        click.echo(f"#{number}  {state}  closes {local_time(closes, settings.tz)}  {title}")


def _poll_for(session: Session, number: int, community: str | None, *, changing: bool) -> Poll:
    """Poll #number as `--community` sees it (common.row_in_scope)."""
    found = poll_by_number(session, number)
    return row_in_scope(scope_of(session, community), found, f"poll #{number}", changing=changing)


@poll.command("show")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@community_option
def show(config_path: str | None, number: int, as_json: bool, community: str | None) -> None:
    """Show poll #NUMBER with its tally (counts too while hidden from residents)."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            data = poll_json(session, _poll_for(session, number, community, changing=False))
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    print_poll(data, settings.tz)


@poll.command("close")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@community_option
def close(config_path: str | None, number: int, community: str | None) -> None:
    """Close poll #NUMBER now (before its closing time). Closing a closed poll is a no-op."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            found = _poll_for(session, number, community, changing=True)
            closed = close_poll(session, found, datetime.now(UTC))
            status = found.status
            result = tally(session, found)
    finally:
        db.dispose()
    if not closed:
        click.echo(f"#{number} was already closed ({status})")
        return
    if not result.leaders:
        outcome = "no votes"
    elif result.tie:
        outcome = "tie " + ", ".join(result.leaders)
    else:
        outcome = f"leader {result.leaders[0]}" + (" (passed)" if result.passed else "")
    click.echo(f"#{number} closed: {result.ballots}/{result.eligible} ballots, {outcome}")


@poll.command("decide")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("decision")
@community_option
def decide(config_path: str | None, number: int, decision: str, community: str | None) -> None:
    """Record the committee's DECISION (决议) on closed poll #NUMBER."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session() as session:
            found = _poll_for(session, number, community, changing=True)
            previous = found.decision
            try:
                decide_poll(session, found, decision, datetime.now(UTC))
            except PollError as exc:
                raise _refusal(exc) from None
            recorded = found.decision
    finally:
        db.dispose()
    if previous is not None and previous != recorded:
        click.echo(f"poll #{number}: replaced the earlier decision {previous!r}", err=True)
    click.echo(f"#{number} decided: {recorded}")

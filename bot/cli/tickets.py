"""`tickets list|show|retopic|export`: tickets from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, object_session, selectinload

from models import (
    Person,
    Ticket,
    TicketEvent,
    confirmed_tickets,
    set_topic,
    ticket_by_number,
    topic_by_name,
)
from models.communities import Scope
from models.community_topics import SwitchedOff
from models.lifecycle import SYSTEM, route_under_topic
from models.onbehalf import needs_callback
from models.places import grid_by_name
from models.tickets import OPEN_STATUSES

from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

STATUSES = (
    "new",
    "accepted",
    "in_progress",
    "resolved",
    "closed",
    "reopened",
    "escalated",
    "rejected",
)


@click.group()
def tickets() -> None:
    """Tickets (诉求): list them, show one, set its topic, export the confirmed ones."""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _person(db: Session | None, person_id: int | None) -> Person | None:
    # Session.get answers from the identity map after the first time: one query per person.
    return db.get(Person, person_id) if db is not None and person_id is not None else None


def ticket_json(ticket: Ticket, *, events: bool = True) -> dict[str, Any]:
    """A ticket as `tickets show --json` prints it (`events=False`: as `tickets list`)."""
    db = object_session(ticket)
    assignee = _person(db, ticket.assignee_id)
    data: dict[str, Any] = {
        "number": ticket.number,
        "community": ticket.community.name,
        "status": ticket.status,
        "topic": ticket.topic.name if ticket.topic is not None else None,
        "topic_confirmed": ticket.topic_confirmed,
        "score": ticket.score,
        "unsure": ticket.unsure,
        "text": ticket.text,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "attachments": [
            {"kind": a.kind, **json.loads(a.data), "created_at": a.created_at.isoformat()}
            for a in ticket.attachments
        ],
        "assignee": (
            {"openid": assignee.openid, "name": assignee.name} if assignee is not None else None
        ),
        "assigned_reason": ticket.assigned_reason,
        "due_at": _iso(ticket.due_at),
        "level": ticket.level,
        "place": ticket.place,
        "outcome": ticket.outcome,
        "rating": ticket.rating,
        # How it came in; who filed it for the resident (staff, on-behalf); the phone the
        # resident gave; whether staff must call them back (the account cannot reach them).
        "channel": ticket.channel,
        "filed_by": _who(_person(db, ticket.filed_by_id)),
        "phone": ticket.phone,
        "callback": db is not None and needs_callback(db, ticket),
    }
    if events:
        data["events"] = [_event_json(db, event) for event in ticket.events]
    return data


def _who(person: Person | None) -> dict[str, Any] | None:
    return {"openid": person.openid, "name": person.name} if person is not None else None


def _event_json(db: Session | None, event: TicketEvent) -> dict[str, Any]:
    actor = _person(db, event.actor_id)
    return {
        "at": event.at.isoformat(),
        "actor": actor.openid if actor is not None else None,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "note": event.note,
    }


def _local(iso: str | None, tz: tzinfo) -> str:
    """An ISO time from ticket_json as local "YYYY-MM-DD HH:MM", or "-"."""
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _print_ticket(data: dict[str, Any], tz: tzinfo) -> None:
    click.echo(f"#{data['number']}  {data['topic'] or '(triage)'}  {data['status']}")
    click.echo(f"created {data['created_at']}  confirmed topic: {data['topic_confirmed']}")
    click.echo(data["text"])
    assignee = data["assignee"]
    who = f"{assignee['name'] or ''} {assignee['openid']}".strip() if assignee else "-"
    reason = f" ({data['assigned_reason']})" if data["assigned_reason"] else ""
    click.echo(f"assignee: {who}{reason}  level: {data['level']}  place: {data['place'] or '-'}")
    click.echo(f"due: {_local(data['due_at'], tz)}  rating: {data['rating'] or '-'}")
    if data["outcome"]:
        click.echo(f"outcome: {data['outcome']}")
    if data["channel"] != "wechat" or data["callback"]:
        filer = data["filed_by"]
        by = f" by {filer['name'] or filer['openid']}" if filer else ""
        call = f"  电话回访 {data['phone'] or '(no phone)'}" if data["callback"] else ""
        click.echo(f"channel: {data['channel']}{by}{call}")
    for event in data["events"]:
        change = f"  {event['from'] or ''}→{event['to']}" if event["to"] else ""
        note = f"  {event['note']}" if event["note"] else ""
        actor = event["actor"] or "system"
        click.echo(f"  {_local(event['at'], tz)}  {event['action']}  {actor}{change}{note}")


def ticket_in_scope(session: Session, number: int, community: str | None) -> Ticket:
    """Ticket #number; with --community, a ticket of another community is not found either
    (the same message and exit status as a number nobody has: it does not say it exists)."""
    ticket = ticket_by_number(session, number)
    if ticket is None or not scope_of(session, community).covers(ticket.community_id):
        raise click.ClickException(f"no ticket #{number}")
    return ticket


@tickets.command("show")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@community_option
def show(config_path: str | None, number: int, as_json: bool, community: str | None) -> None:
    """Show ticket #NUMBER and its timeline."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            data = ticket_json(ticket_in_scope(session, number, community))
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    _print_ticket(data, settings.tz)


def _list_query(
    session: Session,
    *,
    statuses: tuple[str, ...],
    topic: str | None,
    grid: str | None,
    assignee: str | None,
    overdue: bool,
    now: datetime,
    scope: Scope,
) -> Select[Ticket]:
    """The tickets matching the filters: newest first, or oldest deadline first if overdue."""
    query = select(Ticket).options(
        selectinload(Ticket.topic),
        selectinload(Ticket.attachments),
        selectinload(Ticket.community),
    )
    if scope.community_id is not None:
        query = query.where(Ticket.community_id == scope.community_id)
    if statuses:
        query = query.where(Ticket.status.in_(statuses))
    if topic is not None:
        found = topic_by_name(session, topic)
        if found is None:
            raise click.ClickException(f"no topic named {topic!r}")
        query = query.where(Ticket.topic_id == found.id)
    if grid is not None:
        found_grid = grid_by_name(session, grid, scope.community_id)
        if found_grid is None:
            raise click.ClickException(f"no grid named {grid!r} (or several: add --community)")
        query = query.where(Ticket.grid_id == found_grid.id)
    if assignee is not None:
        person = session.scalars(select(Person).where(Person.openid == assignee)).one_or_none()
        if person is None:
            raise click.ClickException(f"no person with openid {assignee!r}")
        query = query.where(Ticket.assignee_id == person.id)
    if overdue:
        query = query.where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at < now)
        return query.order_by(Ticket.due_at, Ticket.number)
    return query.order_by(Ticket.number.desc())


def _list_line(data: dict[str, Any], tz: tzinfo) -> str:
    assignee = data["assignee"]
    who = (assignee["name"] or assignee["openid"]) if assignee else "-"
    text = " ".join(data["text"].split())[:30]
    due = _local(data["due_at"], tz)
    return (
        f"#{data['number']}  {data['status']}  {data['topic'] or '(triage)'}  {who}  {due}  {text}"
    )


@tickets.command("list")
@config_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only tickets in this status (repeat for several).",
)
@click.option("--topic", help="Only tickets under this topic.")
@click.option("--grid", help="Only tickets from this grid.")
@click.option("--assignee", metavar="OPENID", help="Only tickets assigned to this person.")
@click.option("--overdue", is_flag=True, help="Only open tickets past their deadline.")
@community_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, as `show --json` less events.")
def list_tickets(
    config_path: str | None,
    statuses: tuple[str, ...],
    topic: str | None,
    grid: str | None,
    assignee: str | None,
    overdue: bool,
    community: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List tickets, newest first (with --overdue: the oldest deadline first)."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            query = _list_query(
                session,
                statuses=statuses,
                topic=topic,
                grid=grid,
                assignee=assignee,
                overdue=overdue,
                now=datetime.now(UTC),
                scope=scope_of(session, community),
            )
            found = [ticket_json(t, events=False) for t in session.scalars(query.limit(limit))]
    finally:
        db.dispose()
    for data in found:
        click.echo(
            json.dumps(data, ensure_ascii=False) if as_json else _list_line(data, settings.tz)
        )


@tickets.command("retopic")
@config_option
@click.argument("number", type=click.IntRange(min=1))
@click.argument("topic")
@community_option
def retopic(config_path: str | None, number: int, topic: str, community: str | None) -> None:
    """Put ticket #NUMBER under TOPIC and mark the topic confirmed (labeled data).

    An open ticket is routed afresh under the topic (assignee, deadline, push); a closed one
    is only relabeled."""
    settings = settings_from(config_path)
    db = Database(settings)
    holder = None
    with db.session() as session:
        ticket = ticket_in_scope(session, number, community)
        found = topic_by_name(session, topic)
        if found is None:
            raise click.ClickException(f"no topic named {topic!r}")
        now = datetime.now(UTC)
        routed = ticket.status in OPEN_STATUSES
        if routed:
            if not found.enabled:
                raise click.ClickException(f"topic {topic!r} is switched off; enable it first")
            try:
                person = route_under_topic(
                    session, ticket, SYSTEM, found, now, settings.tz, event="retopic"
                )
            except SwitchedOff:
                raise click.ClickException(
                    f"topic {topic!r} is switched off in #{number}'s community"
                ) from None
            holder = (person.name or person.openid) if person is not None else None
        else:
            set_topic(session, ticket, found, confirmed=True, now=now)
    db.dispose()
    click.echo(f"#{number} → {topic} (confirmed)")  # unchanged: scripts read this line
    if routed:
        click.echo(f"#{number} routed: assigned to {holder or 'nobody (triage queue)'}", err=True)


@tickets.command("export")
@config_option
@click.option(
    "--confirmed",
    is_flag=True,
    required=True,
    help="Only tickets whose topic a person set or kept (the labeled data).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="-")
@community_option
def export(config_path: str | None, confirmed: bool, output: str, community: str | None) -> None:
    """Write {"number","text","label"} JSON lines, for `rules suggest` and `rules backtest`."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        scope = scope_of(session, community)
        lines = [
            json.dumps(
                {"number": t.number, "text": t.text, "label": t.topic.name if t.topic else None},
                ensure_ascii=False,
            )
            for t in confirmed_tickets(session)
            if scope.covers(t.community_id)
        ]
    db.dispose()
    text = "".join(line + "\n" for line in lines)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(lines)} ticket(s) to {output}", err=True)

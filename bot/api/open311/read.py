"""GET /open311/v2/requests.json and /requests/{id}.json (tickets:read): tickets as GeoReport
service requests.

- `service_request_id` is the ticket's number, as text.
- `status`: "open" while the ticket is in one of today's open states (new, accepted,
  in_progress, reopened, escalated), "closed" once resolved, closed or rejected (退回) —
  GeoReport has only these two. `status_notes` says how it ended: the outcome (办理结果) as
  written, or the reason it was sent back.
- `agency_responsible` is the community (居委会) that handles it; `address` the building
  it is about; `expected_datetime` its deadline. Nothing personal is ever in a request
  (no phone, openid or resident's name, whatever the key's scopes): GeoReport has no field
  for them.
- A community key sees its community; another community's ticket is "not found".

Filters as GeoReport has them: `service_request_id` (a comma list; it overrides the others),
`service_code` (a comma list of topic ids), `start_date`/`end_date` (ISO 8601 on the time it
was filed; a time without an offset is the street's local time), `status` (open, closed).
Without dates, the last 90 days; at most 1000 requests, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from models.places import Building
from models.tickets import OPEN_STATUSES, Ticket, TicketEvent

from ...extension import yishiting
from .. import texts
from ..auth import caller, needs
from .door import Refused, answer, bp, jurisdiction, parameters

DEFAULT_DAYS = 90
MOST = 1000
STATUSES = ("open", "closed")


@dataclass(frozen=True)
class Filters:
    numbers: tuple[int, ...] = ()
    topic_ids: tuple[int, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset()


@bp.get("/requests.<fmt>", endpoint="requests")
@needs("tickets:read")
def list_requests(fmt: str) -> Response:
    """The tickets the filters ask for, in the key's community (or `jurisdiction_id`)."""
    given = parameters()
    ys = yishiting(current_app)
    filters = _filters(given, ys.settings.tz)
    with ys.db.session(read_only=True) as db:
        community_id = jurisdiction(db, given.get("jurisdiction_id"), caller())
        query = _query(filters, ys.conversation.clock())
        if community_id is not None:
            query = query.where(Ticket.community_id == community_id)
        tickets = list(db.scalars(query))
        return answer(service_requests(db, tickets))


@bp.get("/requests/<sid>.<fmt>", endpoint="request")
@needs("tickets:read")
def show_request(sid: str, fmt: str) -> Response:
    """One ticket, as a one-element array (GeoReport's shape); 404 when the key cannot see it."""
    given = parameters()
    with yishiting(current_app).db.session(read_only=True) as db:
        community_id = jurisdiction(db, given.get("jurisdiction_id"), caller())
        number = int(sid) if sid.isascii() and sid.isdigit() and len(sid) < 10 else None
        query = select(Ticket).where(Ticket.number == number)
        ticket = db.scalars(query).one_or_none() if number is not None else None
        if ticket is None or community_id not in (None, ticket.community_id):
            raise Refused(404, texts.O311_NO_REQUEST.format(value=sid))
        return answer(service_requests(db, [ticket]))


def _codes(given: dict[str, str], name: str) -> tuple[int, ...]:
    """A comma list of numbers (ticket numbers, topic ids)."""
    if name not in given:
        return ()
    parts = [p.strip() for p in given[name].split(",") if p.strip()]
    if len(parts) > MOST:
        raise Refused(400, texts.O311_TOO_MANY.format(name=name, most=MOST))
    for part in parts:
        if not (part.isascii() and part.isdigit() and len(part) < 10):
            raise Refused(400, texts.O311_BAD_CODE.format(name=name, value=part[:40]))
    return tuple(int(p) for p in parts)


def _moment(given: dict[str, str], name: str, tz: tzinfo) -> datetime | None:
    if name not in given:
        return None
    raw = given[name].strip()
    try:
        moment = datetime.fromisoformat(raw)
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
        return moment.astimezone(UTC)  # (year 1 or 9999 with an offset: out of range)
    except (ValueError, OverflowError):
        raise Refused(400, texts.O311_BAD_DATE.format(name=name, value=raw[:40])) from None


def _filters(given: dict[str, str], tz: tzinfo) -> Filters:
    statuses = {s.strip() for s in given.get("status", "").split(",") if s.strip()}
    unknown = sorted(statuses - set(STATUSES))
    if unknown:
        raise Refused(400, texts.O311_BAD_STATUS.format(value=unknown[0][:40]))
    start, end = _moment(given, "start_date", tz), _moment(given, "end_date", tz)
    if start is not None and end is not None and start > end:
        raise Refused(400, texts.O311_DATES_REVERSED)
    return Filters(
        numbers=_codes(given, "service_request_id"),
        topic_ids=_codes(given, "service_code"),
        start=start,
        end=end,
        statuses=frozenset(statuses),
    )


def _query(filters: Filters, now: datetime) -> Select[Ticket]:
    query = select(Ticket).options(selectinload(Ticket.topic), selectinload(Ticket.community))
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MOST)
    if filters.numbers:  # GeoReport: the ids asked for override every other filter
        return query.where(Ticket.number.in_(filters.numbers))
    if filters.topic_ids:
        query = query.where(Ticket.topic_id.in_(filters.topic_ids))
    if filters.statuses == {"open"}:
        query = query.where(Ticket.status.in_(OPEN_STATUSES))
    elif filters.statuses == {"closed"}:
        query = query.where(Ticket.status.not_in(OPEN_STATUSES))
    start = filters.start
    if start is None and filters.end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    if start is not None:
        query = query.where(Ticket.created_at >= start)
    if filters.end is not None:
        query = query.where(Ticket.created_at <= filters.end)
    return query


def service_requests(db: Session, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """`tickets` as GeoReport service requests (two queries for all: buildings, reasons)."""
    buildings = _building_names(db, {t.building_id for t in tickets if t.building_id})
    reasons = _reasons(db, [t.id for t in tickets if t.status == "rejected"])
    return [_service_request(t, buildings, reasons) for t in tickets]


def _service_request(
    ticket: Ticket, buildings: dict[int, str], reasons: dict[int, str]
) -> dict[str, Any]:
    topic = ticket.topic
    closed = ticket.status not in OPEN_STATUSES  # a reopened ticket's old outcome is no note
    notes = reasons.get(ticket.id) if ticket.status == "rejected" else ticket.outcome
    return {
        "service_request_id": str(ticket.number),
        "status": "closed" if closed else "open",
        "status_notes": notes if closed else None,
        "service_name": topic.name if topic is not None else None,
        "service_code": str(topic.id) if topic is not None else None,
        "description": ticket.text,
        "agency_responsible": ticket.community.name,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(ticket.due_at),
        "address": buildings.get(ticket.building_id) if ticket.building_id else None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _building_names(db: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.execute(select(Building.id, Building.name).where(Building.id.in_(wanted)))
    return {building_id: name for building_id, name in rows}


def _reasons(db: Session, ticket_ids: list[int]) -> dict[int, str]:
    """Why each rejected ticket was sent back (its latest 退回's note, as written)."""
    if not ticket_ids:
        return {}
    rows = db.execute(
        select(TicketEvent.ticket_id, TicketEvent.note)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.to_status == "rejected")
        .order_by(TicketEvent.id)
    )
    return {ticket_id: note for ticket_id, note in rows if note}

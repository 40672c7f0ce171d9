"""A ticket as the API shows it (GET /api/v1/tickets/{number}, webhook deliveries, Open311):
THE contract of those bodies — extend it only by adding fields.

`status` uses today's state names (models/lifecycle.py). Texts are as written. A phone or an
openid is shown only to a key with the `personal` scope; to others it is masked
("138****5678", "oAbC****"), and so is a resident's name; staff are named.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..people import Person, Role
from ..tickets import Ticket, TicketEvent


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_openid(openid: str | None) -> str | None:
    return openid[:4] + "****" if openid else openid


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def api_ticket(
    db: Session, ticket: Ticket, *, personal: bool, timeline: bool = True
) -> dict[str, Any]:
    """`ticket` as the API shows it; `timeline` adds its events, oldest first."""
    people = _people(db, ticket, timeline)
    phone = ticket.phone if personal else mask_phone(ticket.phone)
    resident = people.get(ticket.person_id) if ticket.person_id is not None else None
    holder = people.get(ticket.assignee_id) if ticket.assignee_id is not None else None
    data: dict[str, Any] = {
        "number": ticket.number,
        "status": ticket.status,
        "topic": ticket.topic.name if ticket.topic is not None else None,
        "community": ticket.community.name,
        "text": ticket.text,
        "source": ticket.source,
        "external_id": ticket.external_id,
        "channel": ticket.channel,
        "place": ticket.place,  # the resident's home
        "spot": ticket.spot,  # where the problem is, when the report named it (3号楼)
        "phone": phone,
        "resident": _who(resident, personal),
        "assignee": _who(holder, personal),
        "level": ticket.level,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "due_at": _iso(ticket.due_at),
        "accepted_at": _iso(ticket.accepted_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "outcome": ticket.outcome,
        "rating": ticket.rating,
    }
    if timeline:
        data["timeline"] = [_event(e, people, personal) for e in ticket.events]
    return data


def _who(person: Person | None, personal: bool) -> dict[str, Any] | None:
    """Staff by name; a resident's name only to a `personal` key; openids masked unless."""
    if person is None:
        return None
    openid = person.openid if personal else mask_openid(person.openid)
    name = person.name if personal or person.role >= Role.STAFF else None
    return {"name": name, "openid": openid}


def _event(event: TicketEvent, people: dict[int, Person], personal: bool) -> dict[str, Any]:
    actor = people.get(event.actor_id) if event.actor_id is not None else None
    return {
        "at": event.at.isoformat(),
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "note": event.note,
        "actor": _who(actor, personal),
    }


def _people(db: Session, ticket: Ticket, timeline: bool) -> dict[int, Person]:
    """Everyone the body names, in one query."""
    ids = {ticket.person_id, ticket.assignee_id}
    if timeline:
        ids |= {e.actor_id for e in ticket.events}
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in db.scalars(select(Person).where(Person.id.in_(wanted)))}

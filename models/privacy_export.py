"""Everything held about one person, as plain JSON-ready data (PIPL's right of access).

Walks every table that references the person (by id or openid): the person row, the binding
(household and phone, unmasked: it is their own), inbound messages, tickets with their
timeline and attachments, ballots, conversation states, pushes to them, announcements
addressed to them, staff assignments and the linked console account, and their part in the
议 cycle (privacy_agenda.py). Tickets a staff member
holds are listed by number and state only: their texts are other residents' data.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session

from .accounts import ConsoleAccount
from .announcements import Announcement
from .base import Base
from .communities import community_names
from .inbound import InboundMessage
from .outbox import OutboxMessage
from .people import Person
from .places import Binding, Grid
from .polls import Ballot, Poll
from .privacy_agenda import AGENDA_COVERED, export_agenda
from .staff import StaffCode, StaffGrid, StaffTopic
from .states import ConversationState
from .tickets import Ticket, TicketEvent
from .topics import Topic

SECRET_COLUMNS = {"password_hash"}
# (table, column) pairs referencing person.id that have their own section; any other table
# that references a person is exported whole under "other" (a table added later included).
COVERED = {
    ("binding", "person_id"),
    ("inbound_message", "person_id"),
    ("ticket", "person_id"),
    ("ticket", "assignee_id"),
    ("ticket", "filed_by_id"),
    ("ticket_event", "actor_id"),
    ("ballot", "voter_id"),
    ("conversation_state", "person_id"),
    ("outbox", "person_id"),
    ("staff_topic", "person_id"),
    ("staff_grid", "person_id"),
    ("grid", "worker_id"),
    ("staff_code", "used_by"),
    ("console_account", "person_id"),
    *AGENDA_COVERED,
}


def plain(value: Any) -> Any:
    """A column value as JSON has it: datetimes in ISO 8601, enums by name."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name.lower()
    return value


def row(obj: Any, *skip: str) -> dict[str, Any]:
    """Every column of a mapped object (except `skip` and secrets), JSON-ready."""
    columns = inspect(obj).mapper.column_attrs
    return {
        c.key: plain(getattr(obj, c.key))
        for c in columns
        if c.key not in skip and c.key not in SECRET_COLUMNS
    }


def export_person(db: Session, person: Person, now: datetime) -> dict[str, Any]:
    """All the data held about `person`, section by section (table by table)."""
    pid = person.id
    return {
        "exported_at": now.isoformat(),
        "person": row(person),
        "binding": _binding(db, pid),
        "inbound_messages": [
            row(m)
            for m in db.scalars(
                select(InboundMessage)
                .where(or_(InboundMessage.person_id == pid, InboundMessage.openid == person.openid))
                .order_by(InboundMessage.id)
            )
        ],
        "tickets": _tickets(db, pid),
        # Filed by staff for someone the account did not know, with this person's bound phone.
        "tickets_with_their_phone": _tickets_by_phone(db, pid),
        "ballots": _ballots(db, pid),
        "conversation_states": _owned(db, ConversationState, pid),
        "pushes": _owned(db, OutboxMessage, pid),
        "announcements": [
            row(a)
            for a in db.scalars(
                select(Announcement).where(Announcement.audience == f"openid:{person.openid}")
            )
        ],
        "staff": _staff(db, pid),
        "console_accounts": _owned(db, ConsoleAccount, pid),
        "agenda": export_agenda(db, pid, row),
        "other": _other_tables(db, pid),
    }


def _owned(db: Session, model: Any, pid: int) -> list[dict[str, Any]]:
    """Every row of `model` whose person_id is `pid`, oldest first."""
    rows = db.scalars(select(model).where(model.person_id == pid).order_by(model.id))
    return [row(r) for r in rows]


def person_references() -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to person.id, in the models' schema."""
    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table.name == "person" for fk in column.foreign_keys)
    ]


def _other_tables(db: Session, pid: int) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for name, column in person_references():
        if (name, column) in COVERED:
            continue
        table = Base.metadata.tables[name]
        rows = db.execute(select(table).where(table.c[column] == pid)).mappings()
        found.setdefault(name, []).extend(
            {k: plain(v) for k, v in r.items() if k not in SECRET_COLUMNS} for r in rows
        )
    return found


def _binding(db: Session, pid: int) -> dict[str, Any] | None:
    binding = db.scalars(select(Binding).where(Binding.person_id == pid)).one_or_none()
    if binding is None:
        return None
    return {
        **row(binding),
        "household": binding.household.label,
        "community": community_names(db).get(binding.household.building.community_id),
    }


def _tickets(db: Session, pid: int) -> list[dict[str, Any]]:
    tickets = db.scalars(select(Ticket).where(Ticket.person_id == pid).order_by(Ticket.id))
    return [
        {
            **row(t),
            "topic": t.topic.name if t.topic else None,
            # Every community the person wrote to: a street's export covers them all.
            "community": t.community.name,
            "events": [row(e) for e in t.events],
            "attachments": [row(a) for a in t.attachments],
        }
        for t in tickets
    ]


def _tickets_by_phone(db: Session, pid: int) -> list[dict[str, Any]]:
    binding = db.scalars(select(Binding).where(Binding.person_id == pid)).one_or_none()
    if binding is None or not binding.phone:
        return []
    found = db.scalars(
        select(Ticket)
        .where(Ticket.phone == binding.phone, Ticket.person_id.is_(None))
        .order_by(Ticket.id)
    )
    return [{**row(t), "topic": t.topic.name if t.topic else None} for t in found]


def _ballots(db: Session, pid: int) -> list[dict[str, Any]]:
    rows = db.execute(
        select(Ballot, Poll.number, Poll.title)
        .join(Poll, Poll.id == Ballot.poll_id)
        .where(Ballot.voter_id == pid)
        .order_by(Ballot.id)
    )
    return [{**row(b), "poll_number": number, "poll_title": title} for b, number, title in rows]


def _staff(db: Session, pid: int) -> dict[str, Any]:
    """Assignments and the tickets a staff member holds or acted on (numbers only)."""
    topics = db.scalars(
        select(Topic.name)
        .join(StaffTopic, StaffTopic.topic_id == Topic.id)
        .where(StaffTopic.person_id == pid)
    )
    grids = db.scalars(
        select(Grid.name)
        .join(StaffGrid, StaffGrid.grid_id == Grid.id)
        .where(StaffGrid.person_id == pid)
    )
    filed = db.execute(
        select(Ticket.number, Ticket.channel).where(Ticket.filed_by_id == pid).order_by(Ticket.id)
    )
    held = db.execute(
        select(Ticket.number, Ticket.status).where(Ticket.assignee_id == pid).order_by(Ticket.id)
    )
    acted = db.execute(
        select(Ticket.number, TicketEvent.action, TicketEvent.at)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        # A ticket filed for someone the account does not know has no person: theirs too.
        .where(
            TicketEvent.actor_id == pid,
            or_(Ticket.person_id.is_(None), Ticket.person_id != pid),
        )
        .order_by(TicketEvent.id)
    )
    codes = db.scalars(select(StaffCode).where(StaffCode.used_by == pid))
    return {
        "topics": sorted(topics),
        "grids": sorted(grids),
        "worker_of_grids": sorted(db.scalars(select(Grid.name).where(Grid.worker_id == pid))),
        "tickets_held": [{"number": n, "status": s} for n, s in held],
        "tickets_filed_for_residents": [{"number": n, "channel": c} for n, c in filed],
        "ticket_actions": [{"number": n, "action": a, "at": plain(at)} for n, a, at in acted],
        "codes_redeemed": [row(c, "code_hash", "spec") for c in codes],
    }

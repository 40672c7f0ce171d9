"""评 evaluate: what the resident says about a ticket's outcome (models/lifecycle.py moves it).

满意 (1) and 基本满意 (2) close a resolved ticket; 不满意 (3) reopens it and tells the holder
and the duty supervisor; 回头看 weeks later can reopen a closed one. What the resident adds
(what is still wrong) goes on the timeline and to the holder.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from .api.webhooks import emit
from .lifecycle import SYSTEM, Actor, move, push_assignee, record_event, route_again
from .outbox import enqueue
from .people import Person, Role
from .pushes import TICKET_REOPENED, TICKET_RESIDENT_NOTE
from .routing import duty_at_level
from .staff import LEVEL_COMMUNITY
from .tickets import Ticket

SATISFIED, FAIRLY_SATISFIED, DISSATISFIED = 1, 2, 3
RATINGS = (SATISFIED, FAIRLY_SATISFIED, DISSATISFIED)


def resident_note(db: Session, ticket: Ticket, resident_id: int, text: str, now: datetime) -> None:
    """What the resident adds (e.g. what is still wrong): on the timeline, and to the holder."""
    record_event(db, ticket, "note", Actor(resident_id), now, before=ticket.status, note=text)
    ticket.updated_at = now
    if ticket.assignee_id is not None:
        push = TICKET_RESIDENT_NOTE.push(
            ticket.assignee_id, ticket=ticket.id, number=ticket.number, text=text, now=now
        )
        enqueue(db, push, now)


def rate(
    db: Session,
    ticket: Ticket,
    resident_id: int | None,
    score: int,
    now: datetime,
    tz: tzinfo,
    *,
    sla_hours: float,
    actor: Actor | None = None,
) -> None:
    """评价: 1 满意 / 2 基本满意 close the ticket; 3 不满意 reopens it and tells the
    assignee and their supervisor. `actor`: the staff member who recorded the resident's
    answer on the phone (电话回访), when it is not the resident."""
    if score not in RATINGS:
        raise ValueError(f"a rating is 1, 2 or 3, not {score}")
    actor = actor or Actor(resident_id)
    values: dict[str, Any] = {"rating": score, "rated_at": now}
    if score in (SATISFIED, FAIRLY_SATISFIED):
        values["closed_at"] = now
        move(db, ticket, "close", actor, now, note=f"rating {score}", values=values, event="rated")
        emit(db, "ticket.rated", now, ticket=ticket)
        return
    values.update(
        reopen_count=Ticket.reopen_count + 1,
        due_at=now + timedelta(hours=sla_hours),
        warned_at=None,
        resolved_at=None,
    )
    move(db, ticket, "reopen", actor, now, note="rating 3", values=values, event="reopened")
    emit(db, "ticket.rated", now, ticket=ticket)
    _reroute_if_holder_left(db, ticket, now)
    push_assignee(db, ticket, now, tz, "reopened", kind=TICKET_REOPENED)
    supervisor = duty_at_level(db.connection(), LEVEL_COMMUNITY, ticket.community_id)
    if supervisor is not None and supervisor != ticket.assignee_id:
        push = TICKET_REOPENED.push_variant(
            "supervisor",
            supervisor,
            ticket=ticket.id,
            number=ticket.number,
            topic=(ticket.topic.name if ticket.topic is not None else None),
            text=ticket.text,
            supervisor=True,
            now=now,
        )
        enqueue(db, push, now)


def reopen_by_followup(
    db: Session,
    ticket: Ticket,
    resident_id: int | None,
    now: datetime,
    tz: tzinfo,
    *,
    sla_hours: float,
    actor: Actor | None = None,
) -> None:
    """回头看 says the problem is back: reopened, the assignee told."""
    move(
        db,
        ticket,
        "reopen",
        actor or Actor(resident_id),
        now,
        note="回头看",
        values={
            "reopen_count": Ticket.reopen_count + 1,
            "due_at": now + timedelta(hours=sla_hours),
            "warned_at": None,
            "closed_at": None,
            "resolved_at": None,
        },
        event="reopened",
    )
    _reroute_if_holder_left(db, ticket, now)
    push_assignee(db, ticket, now, tz, "followup", kind=TICKET_REOPENED)


def _reroute_if_holder_left(db: Session, ticket: Ticket, now: datetime) -> None:
    """A reopened ticket whose holder is no longer staff (`staff remove`) is routed afresh, as
    a new ticket would be, rather than pushed to someone who has left."""
    if ticket.assignee_id is None:
        return
    holder = db.get(Person, ticket.assignee_id)
    if holder is not None and holder.role >= Role.STAFF:
        return
    found = route_again(db, ticket, ticket.topic_id)
    ticket.assignee_id = found.assignee_id
    ticket.assigned_reason = found.reason
    note = "原办理人已不在岗，重新分派"
    record_event(db, ticket, "reassigned", SYSTEM, now, before=ticket.status, note=note)

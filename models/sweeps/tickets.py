"""督·评 in time: warn before a ticket's deadline, escalate after it, tell the supervisor of
what nobody took, ask for the rating again, and 回头看 weeks after the close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..lifecycle import SYSTEM, IllegalMove, escalate, move, record_event
from ..outbox import enqueue
from ..pushes import (
    TICKET_DUE_SOON,
    TICKET_FOLLOWUP,
    TICKET_OVERDUE,
    TICKET_RATING_REMINDER,
    TICKET_UNASSIGNED,
    PushKind,
)
from ..routing import duty_at_level
from ..staff import LEVEL_COMMUNITY, LEVEL_STREET
from ..states import FOLLOWUP, RATE, push_state
from ..tickets import OPEN_STATUSES, Ticket, assigned_push, deadline_hours

BATCH = 200  # tickets per sweep and kind; the rest wait for the next sweep
FOLLOWUP_ANSWER_DAYS = 7  # how long the 回头看 question waits for an answer


@dataclass(frozen=True)
class TicketPolicy:
    """The `[tickets]` numbers the sweeps act by, and the community's time zone."""

    tz: tzinfo
    ladder: tuple[str, ...]
    triage_hours: float
    triage_sla_hours: float
    warn_before_hours: float
    rating_days: float


def _sla_hours(ticket: Ticket, policy: TicketPolicy) -> float:
    return deadline_hours(ticket, policy.triage_sla_hours)  # the community's, if it set one


def _tell_holder(
    db: Session,
    ticket: Ticket,
    kind: PushKind,
    now: datetime,
    policy: TicketPolicy,
    event: str,
    *,
    to: int | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Push `kind` about the ticket to its holder (or to `to`); nobody to tell: nothing."""
    recipient = to if to is not None else ticket.assignee_id
    if recipient is None:
        return
    push = assigned_push(
        ticket_id=ticket.id,
        number=ticket.number,
        assignee_id=recipient,
        topic=ticket.topic.name if ticket.topic else None,
        place=ticket.place,
        spot=ticket.spot,
        phone=None,
        text=ticket.text,
        due_at=ticket.due_at,
        tz=policy.tz,
        event=event,
        kind=kind,
        extra=extra,
        source=ticket.source,
        external_id=ticket.external_id,
    )
    enqueue(db, push, now)


def triage_unassigned(db: Session, now: datetime, policy: TicketPolicy) -> str | None:
    """Nothing waits unseen: an open ticket nobody holds `triage_hours` after it was filed
    goes to the duty supervisor (community, else street), once."""
    cutoff = now - timedelta(hours=policy.triage_hours)
    waiting = db.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.assignee_id.is_(None),
            Ticket.triage_pushed_at.is_(None),
            Ticket.created_at <= cutoff,
        )
        .order_by(Ticket.id)
        .limit(BATCH)
    ).all()
    if not waiting:
        return None
    conn = db.connection()
    hours = f"{policy.triage_hours:g}"
    told = 0
    for ticket in waiting:
        # The ticket's community's supervisor, else the street's.
        duty = duty_at_level(conn, LEVEL_COMMUNITY, ticket.community_id) or duty_at_level(
            conn, LEVEL_STREET, ticket.community_id
        )
        if duty is None:
            continue  # kept unmarked: the first supervisor registered hears of it next sweep
        told += 1
        ticket.triage_pushed_at = now
        extra = {"hours": hours}
        _tell_holder(db, ticket, TICKET_UNASSIGNED, now, policy, "triage", to=duty, extra=extra)
        note = f"超过{hours}小时无人认领，已提醒值班负责人"
        record_event(db, ticket, "triage", SYSTEM, now, before=ticket.status, note=note)
    if not told:
        return f"{len(waiting)} unassigned, no supervisor to tell"
    return f"{told} unassigned told to the supervisor"


def _warn_soon(db: Session, now: datetime, policy: TicketPolicy) -> int:
    """The holder of each ticket whose deadline is near hears of it, once per deadline."""
    warn_before = timedelta(hours=policy.warn_before_hours)
    soon = db.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.due_at > now,
            Ticket.due_at <= now + warn_before,
            Ticket.warned_at.is_(None),
        )
        .limit(BATCH)
    ).all()
    for ticket in soon:
        ticket.warned_at = now
        _tell_holder(db, ticket, TICKET_DUE_SOON, now, policy, f"due:{ticket.due_at}")
        note = "临近办理时限，已提醒"
        record_event(db, ticket, "warned", SYSTEM, now, before=ticket.status, note=note)
    return len(soon)


def watch_deadlines(db: Session, now: datetime, policy: TicketPolicy) -> str | None:
    """Warn before a deadline; on a breach, escalate one level (or, at the top, say so once)."""
    warned = _warn_soon(db, now, policy)
    late = db.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.due_at <= now,
            or_(Ticket.warned_at.is_(None), Ticket.warned_at < Ticket.due_at),
        )
        .order_by(Ticket.due_at)
        .limit(BATCH)
    ).all()
    escalated = stuck = 0
    for ticket in late:
        sla_hours = _sla_hours(ticket, policy)
        if escalate(db, ticket, now, policy.tz, ladder=policy.ladder, sla_hours=sla_hours):
            escalated += 1
            continue
        stuck += 1
        ticket.warned_at = now
        _tell_holder(db, ticket, TICKET_OVERDUE, now, policy, f"overdue:{ticket.due_at}")
        note = "已逾期，无更高一级可升级"
        record_event(db, ticket, "warned", SYSTEM, now, before=ticket.status, note=note)
    done = []
    if warned:
        done.append(f"{warned} warned")
    if escalated:
        done.append(f"{escalated} escalated")
    if stuck:
        done.append(f"{stuck} overdue at the top level")
    return ", ".join(done) or None


def remind_ratings(db: Session, now: datetime, policy: TicketPolicy) -> str | None:
    """No rating after `rating_days`: one reminder; after as long again: closed unrated."""
    wait = timedelta(days=policy.rating_days)
    remind = db.scalars(
        select(Ticket)
        .where(
            Ticket.status == "resolved",
            Ticket.rating_asked_at <= now - wait,
            Ticket.rating_reminded_at.is_(None),
        )
        .limit(BATCH)
    ).all()
    for ticket in remind:
        ticket.rating_reminded_at = now
        asked = _ask(
            db, ticket, TICKET_RATING_REMINDER, RATE, wait, now, asked_at=ticket.rating_asked_at
        )
        note = "提醒居民评价" if asked else "待电话回访"
        record_event(db, ticket, "reminded", SYSTEM, now, before=ticket.status, note=note)
    close = db.scalars(
        select(Ticket)
        .where(Ticket.status == "resolved", Ticket.rating_reminded_at <= now - wait)
        .limit(BATCH)
    ).all()
    closed = 0
    for ticket in close:
        try:
            note, values = "未评价，自动关闭", {"closed_at": now}
            move(db, ticket, "close", SYSTEM, now, note=note, values=values)
            closed += 1
        except IllegalMove:
            continue  # rated in the meantime
    done = []
    if remind:
        done.append(f"{len(remind)} reminded to rate")
    if closed:
        done.append(f"{closed} closed unrated")
    return ", ".join(done) or None


def ask_followups(db: Session, now: datetime) -> str | None:
    """回头看: weeks after a ticket closed, ask the resident whether the problem is back."""
    due = db.scalars(
        select(Ticket)
        .where(
            Ticket.status == "closed",
            Ticket.followup_due_at <= now,
            Ticket.followup_asked_at.is_(None),
        )
        .limit(BATCH)
    ).all()
    ttl = timedelta(days=FOLLOWUP_ANSWER_DAYS)
    for ticket in due:
        ticket.followup_asked_at = now
        asked = _ask(db, ticket, TICKET_FOLLOWUP, FOLLOWUP, ttl, now, due_at=ticket.followup_due_at)
        note = "回头看：已询问居民" if asked else "回头看：待电话回访"
        record_event(db, ticket, "followup", SYSTEM, now, before=ticket.status, note=note)
    return f"{len(due)} follow-ups asked" if due else None


def _ask(
    db: Session,
    ticket: Ticket,
    kind: PushKind,
    state: str,
    ttl: timedelta,
    now: datetime,
    **key: Any,
) -> bool:
    """Push `kind`'s question about the ticket to its resident and wait `ttl` for the answer
    under `state`. False when the ticket has no resident (filed for someone the account does
    not know): staff call back instead (电话回访) and record the answer."""
    if ticket.person_id is None:
        return False
    push = kind.push(ticket.person_id, ticket=ticket.id, number=ticket.number, **key)
    enqueue(db, push, now)
    push_state(db, ticket.person_id, state, {"ticket": ticket.number}, now=now, ttl=ttl)
    return True

"""督·评 in time: the sweeps that watch tickets' deadlines, ratings and follow-ups.

Each runs inside the scheduler's sweep (jobs.py), acts on what is due by `now`, and records
what it did on the ticket (warned_at, rating_reminded_at, followup_asked_at, the state), so
running it again does nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Ticket, push_state
from models.lifecycle import SYSTEM, IllegalMove, escalate, move, record_event
from models.outbox import Push, enqueue
from models.routing import duty_at_level
from models.staff import LEVEL_COMMUNITY, LEVEL_STREET
from models.tickets import OPEN_STATUSES, assigned_push

from ..config import Settings
from .jobs import register_sweep

BATCH = 200  # tickets per sweep and kind; the rest wait for the next sweep


def _sla_hours(ticket: Ticket, settings: Settings) -> float:
    if ticket.topic is not None and ticket.topic.sla_hours:
        return float(ticket.topic.sla_hours)
    return settings.tickets.triage_sla_hours


def _staff_push(
    session: Session,
    ticket: Ticket,
    kind: str,
    now: datetime,
    settings: Settings,
    event: str,
    *,
    to: int | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """Push `kind` about the ticket to its holder (or to `to`); nobody to tell: nothing."""
    recipient = to if to is not None else ticket.assignee_id
    if recipient is None:
        return
    enqueue(
        session,
        assigned_push(
            ticket_id=ticket.id,
            number=ticket.number,
            assignee_id=recipient,
            topic=ticket.topic.name if ticket.topic else None,
            place=ticket.place,
            phone=None,
            text=ticket.text,
            due_at=ticket.due_at,
            tz=settings.tz,
            event=event,
            kind=kind,
            extra=extra,
        ),
        now,
    )


@register_sweep("ticket_triage")
def triage(session: Session, now: datetime, settings: Settings) -> str | None:
    """Nothing waits unseen: an open ticket nobody holds `[tickets] triage_hours` after it was
    filed goes to the duty supervisor (community, else street), once."""
    cutoff = now - timedelta(hours=settings.tickets.triage_hours)
    waiting = session.scalars(
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
    conn = session.connection()
    duty = duty_at_level(conn, LEVEL_COMMUNITY) or duty_at_level(conn, LEVEL_STREET)
    if duty is None:
        # Kept unmarked: the first supervisor registered hears of them at the next sweep.
        return f"{len(waiting)} unassigned, no supervisor to tell"
    hours = f"{settings.tickets.triage_hours:g}"
    for ticket in waiting:
        ticket.triage_pushed_at = now
        extra = {"hours": hours}
        _staff_push(
            session, ticket, "ticket.unassigned", now, settings, "triage", to=duty, extra=extra
        )
        note = f"超过{hours}小时无人认领，已提醒值班负责人"
        record_event(session, ticket, "triage", SYSTEM, now, before=ticket.status, note=note)
    return f"{len(waiting)} unassigned told to the supervisor"


@register_sweep("ticket_deadlines")
def deadlines(session: Session, now: datetime, settings: Settings) -> str | None:
    """Warn before a deadline; on a breach, escalate one level (or, at the top, say so once)."""
    warn_before = timedelta(hours=settings.tickets.warn_before_hours)
    soon = session.scalars(
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
        _staff_push(session, ticket, "ticket.due_soon", now, settings, f"due:{ticket.due_at}")
        record_event(
            session,
            ticket,
            "warned",
            SYSTEM,
            now,
            before=ticket.status,
            note="临近办理时限，已提醒",
        )
    late = session.scalars(
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
        if escalate(
            session,
            ticket,
            now,
            settings.tz,
            ladder=settings.ladder,
            sla_hours=_sla_hours(ticket, settings),
        ):
            escalated += 1
            continue
        stuck += 1
        ticket.warned_at = now
        _staff_push(session, ticket, "ticket.overdue", now, settings, f"overdue:{ticket.due_at}")
        record_event(
            session,
            ticket,
            "warned",
            SYSTEM,
            now,
            before=ticket.status,
            note="已逾期，无更高一级可升级",
        )
    done = []
    if soon:
        done.append(f"{len(soon)} warned")
    if escalated:
        done.append(f"{escalated} escalated")
    if stuck:
        done.append(f"{stuck} overdue at the top level")
    return ", ".join(done) or None


@register_sweep("ticket_ratings")
def ratings(session: Session, now: datetime, settings: Settings) -> str | None:
    """No rating after `rating_days`: one reminder; after as long again: closed unrated."""
    wait = timedelta(days=settings.tickets.rating_days)
    remind = session.scalars(
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
        if ticket.person_id is None:
            # Filed for a resident the account does not know: staff call back (电话回访).
            record_event(
                session, ticket, "reminded", SYSTEM, now, before=ticket.status, note="待电话回访"
            )
            continue
        enqueue(
            session,
            Push(
                "ticket.rating_reminder",
                ticket.person_id,
                {"ticket": ticket.id, "number": ticket.number},
                f"ticket.rating_reminder:{ticket.id}:{ticket.rating_asked_at}",
            ),
            now,
        )
        push_state(session, ticket.person_id, "rate", {"ticket": ticket.number}, now=now, ttl=wait)
        record_event(
            session, ticket, "reminded", SYSTEM, now, before=ticket.status, note="提醒居民评价"
        )
    close = session.scalars(
        select(Ticket)
        .where(Ticket.status == "resolved", Ticket.rating_reminded_at <= now - wait)
        .limit(BATCH)
    ).all()
    closed = 0
    for ticket in close:
        try:
            move(
                session,
                ticket,
                "close",
                SYSTEM,
                now,
                note="未评价，自动关闭",
                values={"closed_at": now},
            )
            closed += 1
        except IllegalMove:
            continue  # rated in the meantime
    done = []
    if remind:
        done.append(f"{len(remind)} reminded to rate")
    if closed:
        done.append(f"{closed} closed unrated")
    return ", ".join(done) or None


@register_sweep("ticket_followups")
def followups(session: Session, now: datetime, settings: Settings) -> str | None:
    """回头看: weeks after a ticket closed, ask the resident whether the problem is back."""
    due = session.scalars(
        select(Ticket)
        .where(
            Ticket.status == "closed",
            Ticket.followup_due_at <= now,
            Ticket.followup_asked_at.is_(None),
        )
        .limit(BATCH)
    ).all()
    for ticket in due:
        ticket.followup_asked_at = now
        if ticket.person_id is None:
            # Nobody to ask by chat: the 回头看 is a call (电话回访), recorded by staff.
            record_event(
                session,
                ticket,
                "followup",
                SYSTEM,
                now,
                before=ticket.status,
                note="回头看：待电话回访",
            )
            continue
        enqueue(
            session,
            Push(
                "ticket.followup",
                ticket.person_id,
                {"ticket": ticket.id, "number": ticket.number},
                f"ticket.followup:{ticket.id}:{ticket.followup_due_at}",
            ),
            now,
        )
        push_state(
            session,
            ticket.person_id,
            "followup",
            {"ticket": ticket.number},
            now=now,
            ttl=timedelta(days=7),
        )
        record_event(
            session,
            ticket,
            "followup",
            SYSTEM,
            now,
            before=ticket.status,
            note="回头看：已询问居民",
        )
    return f"{len(due)} follow-ups asked" if due else None

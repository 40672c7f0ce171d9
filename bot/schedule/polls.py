"""议 in time: polls open and close on time, and the people they concern are told.

The sweep, on whatever is due: a draft poll opens at `opens_at`; an open poll past
`closes_at` closes. Then, once each (the poll records when): eligible residents are told a
poll opened; units that have not voted are reminded `[polls] remind_before_hours` before the
close; at the close the tally goes to the voters; the committee's decision goes to the same
people, and `followup_days` later they are asked whether it was carried out. Every push has a
dedupe key per poll and person, so a sweep that runs again queues nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.outbox import Push, enqueue
from models.polls import (
    CLOSED,
    DECIDED,
    DRAFT,
    OPEN,
    Poll,
    close_poll,
    eligible_people,
    tally,
    unit_key_of,
    voted_units,
    voters,
)
from words import when

from ..config import Settings
from .jobs import register_sweep


def _tell(
    session: Session, poll: Poll, kind: str, people: list[int], now: datetime, **values: object
) -> int:
    payload = {"poll": poll.id, "number": poll.number, "title": poll.title, **values}
    for person_id in people:
        enqueue(session, Push(kind, person_id, payload, f"{kind}:{poll.id}:{person_id}"), now)
    return len(people)


def _options(poll: Poll) -> str:
    return "\n".join(
        f"{label} {text}" for label, text in zip(poll.labels, poll.options, strict=True)
    )


@register_sweep("polls")
def open_and_close(session: Session, now: datetime, settings: Settings) -> str | None:
    done: list[str] = []
    opened = session.scalars(
        select(Poll).where(Poll.status == DRAFT, Poll.opens_at <= now, Poll.closes_at > now)
    ).all()
    for poll in opened:
        poll.status = OPEN
    due = session.scalars(
        select(Poll).where(Poll.status.in_((DRAFT, OPEN)), Poll.closes_at <= now)
    ).all()
    for poll in due:
        close_poll(session, poll, now)
    if opened:
        done.append(f"{len(opened)} opened")
    if due:
        done.append(f"{len(due)} closed")

    tz = settings.tz
    for poll in session.scalars(
        select(Poll).where(Poll.status == OPEN, Poll.announced_at.is_(None))
    ).all():
        poll.announced_at = now
        told = _tell(
            session,
            poll,
            "poll.opened",
            eligible_people(session, poll),
            now,
            options=_options(poll),
            closes=when(poll.closes_at, tz),
        )
        done.append(f"#{poll.number} announced to {told}")

    lead = timedelta(hours=settings.polls.remind_before_hours)
    for poll in session.scalars(
        select(Poll).where(
            Poll.status == OPEN, Poll.reminded_at.is_(None), Poll.closes_at <= now + lead
        )
    ).all():
        poll.reminded_at = now
        if poll.closes_at - poll.opens_at <= lead:
            continue  # shorter than the reminder's lead time: no reminder
        voted = voted_units(session, poll)
        waiting = [
            p for p in eligible_people(session, poll) if unit_key_of(session, poll, p) not in voted
        ]
        told = _tell(
            session,
            poll,
            "poll.reminder",
            waiting,
            now,
            closes=when(poll.closes_at, tz),
        )
        done.append(f"#{poll.number} reminded {told}")

    for poll in session.scalars(
        select(Poll).where(Poll.status.in_((CLOSED, DECIDED)), Poll.result_pushed_at.is_(None))
    ).all():
        poll.result_pushed_at = now
        counted = tally(session, poll)
        lines = [
            f"{label} {text}：{counted.counts[label]} 票"
            for label, text in zip(poll.labels, poll.options, strict=True)
        ]
        told = _tell(
            session,
            poll,
            "poll.result",
            voters(session, poll),
            now,
            counts="\n".join(lines),
            tie=counted.tie,
            leaders="、".join(counted.leaders),
            quorum_met=counted.quorum_met,
        )
        done.append(f"#{poll.number} result to {told}")

    for poll in session.scalars(
        select(Poll).where(Poll.status == DECIDED, Poll.decision_pushed_at.is_(None))
    ).all():
        poll.decision_pushed_at = now
        poll.followup_due_at = now + timedelta(days=settings.polls.followup_days)
        told = _tell(
            session, poll, "poll.decision", voters(session, poll), now, decision=poll.decision or ""
        )
        done.append(f"#{poll.number} decision to {told}")

    for poll in session.scalars(
        select(Poll).where(
            Poll.status == DECIDED,
            Poll.followup_due_at <= now,
            Poll.followup_asked_at.is_(None),
        )
    ).all():
        poll.followup_asked_at = now
        told = _tell(
            session, poll, "poll.followup", voters(session, poll), now, decision=poll.decision or ""
        )
        done.append(f"#{poll.number} follow-up to {told}")
    return ", ".join(done) or None

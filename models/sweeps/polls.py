"""议 in time: polls open and close on time, and the people they concern are told.

On whatever is due: a draft poll opens at `opens_at`; an open poll past `closes_at` closes.
Then, once each (the poll records when): eligible residents are told a poll opened; units
that have not voted are reminded `remind_before_hours` before the close; at the close the
tally goes to the voters; the committee's decision goes to the same people, and
`followup_days` later they are asked whether it was carried out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..outbox import enqueue
from ..polls import (
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
from ..pushes import (
    POLL_DECISION,
    POLL_FOLLOWUP,
    POLL_OPENED,
    POLL_REMINDER,
    POLL_RESULT,
    PushKind,
)


@dataclass(frozen=True)
class PollPolicy:
    """The `[polls]` numbers the sweep acts by, and the community's time zone."""

    tz: tzinfo
    remind_before_hours: float
    followup_days: float


def _tell(
    db: Session, poll: Poll, kind: PushKind, people: list[int], now: datetime, **values: Any
) -> int:
    for person_id in people:
        push = kind.push(person_id, poll=poll.id, number=poll.number, title=poll.title, **values)
        enqueue(db, push, now)
    return len(people)


def _options(poll: Poll) -> list[list[str]]:
    return [[label, text] for label, text in zip(poll.labels, poll.options, strict=True)]


def _open_and_close(db: Session, now: datetime) -> list[str]:
    opened = db.scalars(
        select(Poll).where(Poll.status == DRAFT, Poll.opens_at <= now, Poll.closes_at > now)
    ).all()
    for poll in opened:
        poll.status = OPEN
    due = db.scalars(select(Poll).where(Poll.status.in_((DRAFT, OPEN)), Poll.closes_at <= now))
    closed = 0
    for poll in due.all():
        close_poll(db, poll, now)
        closed += 1
    return [f"{len(opened)} opened"] * bool(opened) + [f"{closed} closed"] * bool(closed)


def _announce(db: Session, poll: Poll, now: datetime, policy: PollPolicy) -> str:
    poll.announced_at = now
    closes_at = poll.closes_at.astimezone(policy.tz).isoformat()
    people = eligible_people(db, poll)
    told = _tell(db, poll, POLL_OPENED, people, now, options=_options(poll), closes_at=closes_at)
    return f"#{poll.number} announced to {told}"


def _remind(db: Session, poll: Poll, now: datetime, policy: PollPolicy) -> str | None:
    poll.reminded_at = now
    if poll.closes_at - poll.opens_at <= timedelta(hours=policy.remind_before_hours):
        return None  # shorter than the reminder's lead time: no reminder
    voted = voted_units(db, poll)
    waiting = [p for p in eligible_people(db, poll) if unit_key_of(db, poll, p) not in voted]
    closes_at = poll.closes_at.astimezone(policy.tz).isoformat()
    told = _tell(db, poll, POLL_REMINDER, waiting, now, closes_at=closes_at)
    return f"#{poll.number} reminded {told}"


def _result(db: Session, poll: Poll, now: datetime, policy: PollPolicy) -> str:
    poll.result_pushed_at = now
    counted = tally(db, poll)
    counts = [
        [label, text, counted.counts[label]]
        for label, text in zip(poll.labels, poll.options, strict=True)
    ]
    told = _tell(
        db,
        poll,
        POLL_RESULT,
        voters(db, poll),
        now,
        counts=counts,
        tie=counted.tie,
        leaders=list(counted.leaders),
        quorum_met=counted.quorum_met,
    )
    return f"#{poll.number} result to {told}"


def _decision(db: Session, poll: Poll, now: datetime, policy: PollPolicy) -> str:
    poll.decision_pushed_at = now
    poll.followup_due_at = now + timedelta(days=policy.followup_days)
    decision = poll.decision or ""
    told = _tell(db, poll, POLL_DECISION, voters(db, poll), now, decision=decision)
    return f"#{poll.number} decision to {told}"


def _followup(db: Session, poll: Poll, now: datetime, policy: PollPolicy) -> str:
    poll.followup_asked_at = now
    decision = poll.decision or ""
    told = _tell(db, poll, POLL_FOLLOWUP, voters(db, poll), now, decision=decision)
    return f"#{poll.number} follow-up to {told}"


Step = Callable[[Session, Poll, datetime, PollPolicy], str | None]


def sweep_polls(db: Session, now: datetime, policy: PollPolicy) -> str | None:
    """Open and close what is due, then tell each poll's people what they have not heard."""
    done = _open_and_close(db, now)
    lead = now + timedelta(hours=policy.remind_before_hours)
    steps: list[tuple[Any, Step]] = [
        (select(Poll).where(Poll.status == OPEN, Poll.announced_at.is_(None)), _announce),
        (
            select(Poll).where(
                Poll.status == OPEN, Poll.reminded_at.is_(None), Poll.closes_at <= lead
            ),
            _remind,
        ),
        (
            select(Poll).where(Poll.status.in_((CLOSED, DECIDED)), Poll.result_pushed_at.is_(None)),
            _result,
        ),
        (select(Poll).where(Poll.status == DECIDED, Poll.decision_pushed_at.is_(None)), _decision),
        (
            select(Poll).where(
                Poll.status == DECIDED,
                Poll.followup_due_at <= now,
                Poll.followup_asked_at.is_(None),
            ),
            _followup,
        ),
    ]
    for query, step in steps:
        for poll in db.scalars(query).all():
            said = step(db, poll, now, policy)
            if said:
                done.append(said)
    return ", ".join(done) or None

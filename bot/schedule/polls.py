"""议 in time: polls open at `opens_at` and close at `closes_at`, whatever process made them.

(The pushes a poll causes — opened, reminder, result, decision — are not built yet: issue #6.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.polls import DRAFT, OPEN, Poll, close_poll

from ..config import Settings
from .jobs import register_sweep


@register_sweep("polls")
def open_and_close(session: Session, now: datetime, settings: Settings) -> str | None:
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
    done = []
    if opened:
        done.append(f"{len(opened)} opened")
    if due:
        done.append(f"{len(due)} closed")
    return ", ".join(done) or None

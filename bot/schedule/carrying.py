"""落实 and 评议 in time: overdue work is warned and escalated; 评议 and the 回头看 are asked.

The acts live in models/sweeps/carrying.py; here they are registered with the scheduler's
sweep (jobs.py) and given the clock, the ladder's names and the `[deliberation]` numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps.carrying import CarryingPolicy, ask_reviews, watch_carrying

from ..config import Settings
from .jobs import register_sweep


def policy(settings: Settings) -> CarryingPolicy:
    return CarryingPolicy(
        tz=settings.tz,
        ladder=settings.ladder,
        escalate_after_hours=settings.deliberation.escalate_after_hours,
    )


@register_sweep("agenda_overdue")
def overdue(session: Session, now: datetime, settings: Settings) -> str | None:
    return watch_carrying(session, now, policy(settings))


@register_sweep("agenda_reviews")
def reviews(session: Session, now: datetime, settings: Settings) -> str | None:
    return ask_reviews(session, now)

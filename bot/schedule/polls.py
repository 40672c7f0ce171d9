"""议 in time: the sweep that opens and closes polls and tells the people they concern.

The act lives in models/sweeps/polls.py; here it is registered with the scheduler's sweep
(jobs.py) and given the clock and the `[polls]` numbers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps import PollPolicy, sweep_polls

from ..config import Settings
from .jobs import register_sweep


@register_sweep("polls")
def open_and_close(session: Session, now: datetime, settings: Settings) -> str | None:
    polls = settings.polls
    policy = PollPolicy(settings.tz, polls.remind_before_hours, polls.followup_days)
    return sweep_polls(session, now, policy)

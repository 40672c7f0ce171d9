"""议事会 in time: the day-before reminder to those who said 参加."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps.meetings import remind_meetings

from ..config import Settings
from .jobs import register_sweep


@register_sweep("meetings")
def remind(session: Session, now: datetime, settings: Settings) -> str | None:
    hours = settings.deliberation.meeting_reminder_hours
    return ", ".join(remind_meetings(session, now, hours, settings.tz)) or None

"""公示 in time: the publicity period ends; objections wait for an admin.

The act lives in models/sweeps/publicity.py; here it is registered with the scheduler's sweep.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps.publicity import sweep_publicity

from ..config import Settings
from .jobs import register_sweep


@register_sweep("publicity")
def end_periods(session: Session, now: datetime, settings: Settings) -> str | None:
    return sweep_publicity(session, now)

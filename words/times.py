"""Times as people read them, in Chinese, and times of day as admins write them."""

from __future__ import annotations

from datetime import datetime, tzinfo


def when(moment: datetime, tz: tzinfo | None = None) -> str:
    """A time as people read it, e.g. 11月23日 18:00 (in `tz`, else the moment's own zone)."""
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def parse_time_of_day(text: str) -> tuple[int, int, int]:
    """ "HH:MM" or "HH:MM:SS" -> (h, m, s); ValueError when it is not a time of day."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a time of day (HH:MM or HH:MM:SS): {text!r}")
    numbers = [int(p) for p in parts] + ([0] if len(parts) == 2 else [])
    hour, minute, second = numbers
    if not (0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60):
        raise ValueError(f"not a time of day: {text!r}")
    return hour, minute, second

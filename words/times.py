"""Times as people read them, in Chinese."""

from __future__ import annotations

from datetime import datetime, tzinfo


def when(moment: datetime, tz: tzinfo | None = None) -> str:
    """A time as people read it, e.g. 11月23日 18:00 (in `tz`, else the moment's own zone)."""
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{local.month}月{local.day}日 {local:%H:%M}"

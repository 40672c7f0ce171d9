"""`Rendered`: what a push says, in every form a channel needs; and the helpers renderers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from words import when

ELLIPSIS = "……"


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    fields: tuple[str, ...] = field(default_factory=tuple)  # keyword1, keyword2, …
    remark: str = ""
    # What the person can do next, short enough for a template's thing field (20 characters).
    next_step: str = ""
    # Values the renderer put in words that a typed template may name too ({closes}).
    values: dict[str, str] = field(default_factory=dict)
    # Set by render(): the payload's values (times as datetimes), the renderer's `values`,
    # headline and next_step.
    parts: dict[str, str | datetime] = field(default_factory=dict)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def when_iso(iso: str | None) -> str:
    """A time in a payload as people read it: 11月23日 18:00 (in the community's time zone)."""
    if not iso:
        return "无"
    return when(datetime.fromisoformat(iso))  # stored with the community's offset

"""The command-line values `poll create` reads: times, durations and scopes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import click


class IsoTime(click.ParamType):
    """An ISO 8601 time, with an offset or naive (left naive: the caller applies the zone)."""

    name = "ISO-TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time (e.g. 2026-12-01T20:00 or "
                "2026-12-01T20:00+08:00)",
                param,
                ctx,
            )


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


class Duration(click.ParamType):
    """A span from now such as `7d`, `36h`, `1d12h` or `90m` (weeks w, days d, hours h,
    minutes m): an example or a script that must stay valid whatever day it runs on."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        text = str(value).strip().lower()
        found = _DURATION.fullmatch(text)
        if found is None or not text:
            self.fail(f"{value!r} is not a duration (e.g. 7d, 36h, 1d12h, 90m)", param, ctx)
        weeks, days, hours, minutes = (int(part or 0) for part in found.groups())
        span = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
        if span <= timedelta(0):
            self.fail(f"{value!r}: a duration must be longer than zero", param, ctx)
        return span


class Scope(click.ParamType):
    """`all`, `grid:G` or `building:B1,B2,…` -> (scope, grid, buildings)."""

    name = "SCOPE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        kind, _, rest = text.partition(":")
        kind = kind.strip().lower()
        if kind == "all" and not rest.strip():
            return ("all", None, [])
        if kind == "grid" and rest.strip():
            return ("grid", rest.strip(), [])
        if kind in ("building", "buildings"):
            names = [n.strip() for n in rest.replace("，", ",").split(",") if n.strip()]
            if names:
                return ("buildings", None, names)
        self.fail(f"{text!r}: use all, grid:NAME or building:NAME[,NAME…]", param, ctx)


def aware(moment: datetime, tz: tzinfo) -> datetime:
    """A naive time is in the configured zone; every time comes back as aware UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def closing_time(
    closes_at: datetime | None, closes_in: timedelta | None, now: datetime, tz: tzinfo
) -> datetime:
    """`--closes-at` or `--closes-in` (from now), exactly one of them, as aware UTC."""
    if (closes_at is None) == (closes_in is None):
        raise click.UsageError("give --closes-at ISO-TIME or --closes-in DURATION (one of them)")
    if closes_in is not None:
        return now + closes_in
    assert closes_at is not None
    return aware(closes_at, tz)

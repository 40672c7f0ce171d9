"""The street's view (街道看板): each community's 接诉即办 rates for a month, ranked, and the trend.

The rates are those of models/kpi.py, over the tickets filed in the month (local time):
- 响应率 (response) = tickets accepted within the response window of being filed ÷
  (tickets − rejected). The window is the one the console already holds staff to: `[tickets]
  triage_hours` (a ticket nobody has taken by then goes to the duty supervisor and shows on
  the dashboard as 超过认领时限). kpi.py's "responded" is the same acceptance at any time;
- 解决率 = resolved ÷ (tickets − rejected); 满意率 = 满意 or 基本满意 ÷ rated;
  按时率 = resolved on time ÷ resolved with a deadline (kpi.py's definitions, its measures);
- a rate whose denominator is 0 is None (undefined), never 0.
The month's 12345 orders are counted too, for the city's 三率 (models/kpi_hotline.py).
Counts: 新增 (tickets filed in the month), 未办结 (of those, still open now) and 超时 (of
those, still open past their deadline now) — of the chosen month only: the trend's earlier
months carry None there (their score and rank need neither, and they cost a fifth of a month's
query).

Ranking, the way 接诉即办 ranks (Beijing's 12345 assessment weighs 响应率 10 %, 解决率 45 %,
满意率 45 %): the score is 100 × the weighted mean of those three rates over the ones that are
defined (their weights scaled up to 1), so a month with nothing rated yet still ranks on the
other two; None when none is defined (no tickets), and those rank last. Ties: 解决率, then
满意率, then 响应率, then 按时率 (a defined rate before None, higher first), then more tickets,
then the name, so every community gets its own rank 1..N, the same on every run.

One query per month, grouped by community, between the month's local midnights (so months are
cut in the configured time zone the same way on SQLite and PostgreSQL). Six such queries cost
a fifth less than one over six months bucketed by a CASE on the bounds (PostgreSQL, 300,000
tickets: bench/README.md, "Issue #16").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Interval, and_, func, literal, select
from sqlalchemy.orm import Session

from .communities import community_names
from .kpi import _count_if, _measures, _rate
from .kpi_hotline import HotlineCounts, by_community, due_measure
from .tickets import OPEN_STATUSES, Ticket

TREND_MONTHS = 6
# 接诉即办's weights for the composite score: response, resolution, satisfaction.
WEIGHTS = (0.10, 0.45, 0.45)
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_RATE_NAMES = ("tickets", "resolved", "rejected", "on_time", "timed", "satisfied", "rated")


# The four 接诉即办 rates, in the order they are shown.
RATE_KEYS = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate")


@dataclass(frozen=True)
class CommunityMonth:
    """One community's figures for one month, and its place among the street's communities."""

    community_id: int
    community: str
    tickets: int
    open: int | None  # None: not counted (the trend's earlier months)
    overdue: int | None
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None
    score: float | None  # 0-100, see the module's docstring
    rank: int = 0
    # The month's 12345 orders, counted for the city's three rates (models/kpi_hotline.py);
    # None: not counted (the trend's earlier months).
    hotline: HotlineCounts | None = None

    def cells(self, rate: Callable[[float], Any]) -> list[Any]:
        """The row in the order of words/ranking.py's RANKING_HEADERS, each rate written by
        `rate` (None stays None)."""
        rates = (getattr(self, name) for name in RATE_KEYS)
        return [
            self.rank,
            self.community,
            self.tickets,
            self.open,
            self.overdue,
            *(None if value is None else rate(value) for value in rates),
            self.score,
        ]


def parse_month(text: str) -> date:
    """The first day of `YYYY-MM`; ValueError with the reason otherwise."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_of(moment: datetime, tz: ZoneInfo) -> date:
    """The first day of the month `moment` falls in, in the time zone."""
    return moment.astimezone(tz).date().replace(day=1)


def shift(month: date, months: int) -> date:
    """The first day of the month `months` after (negative: before) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_starts(first: date, count: int, tz: ZoneInfo) -> list[datetime]:
    """The local midnights that start `count` months from `first`, and the one after."""
    return [datetime.combine(shift(first, n), time(), tzinfo=tz) for n in range(count + 1)]


def standings(
    db: Session,
    month: date,
    tz: ZoneInfo,
    *,
    now: datetime,
    response_hours: float,
) -> list[CommunityMonth]:
    """Every community's figures for `month`, ranked (communities without tickets included)."""
    return trend(db, month, tz, now=now, response_hours=response_hours, months=1)[0][1]


def trend(
    db: Session,
    month: date,
    tz: ZoneInfo,
    *,
    now: datetime,
    response_hours: float,
    months: int = TREND_MONTHS,
) -> list[tuple[date, list[CommunityMonth]]]:
    """The ranked figures of `months` months, the earliest first, `month` the last."""
    first = shift(month, 1 - months)
    starts = month_starts(first, months, tz)
    names = community_names(db)
    figures = []
    for n in range(months):
        last = n == months - 1
        found = _month_rows(db, starts[n], starts[n + 1], now, response_hours, counts_now=last)
        rows = [_figures(cid, name, found.get(cid), last) for cid, name in names.items()]
        figures.append((shift(first, n), ranked(rows)))
    return figures


def _month_rows(
    db: Session,
    since: datetime,
    until: datetime,
    now: datetime,
    response_hours: float,
    *,
    counts_now: bool,
) -> dict[int, Any]:
    """The counts of each community's tickets filed in [since, until), by community id; with
    `counts_now`, also how many are open and overdue now, and its 12345 orders' counts
    (`hotline`): the rows are then grouped by channel and source too, and summed here — a
    12345 order's group carries its counts, cheaper than a CASE per count over every row."""
    is_open = Ticket.status.in_(OPEN_STATUSES)
    responded = and_(_responded_within(db, response_hours), Ticket.status != "rejected")
    now_counts = [
        _count_if(is_open).label("open"),
        _count_if(and_(is_open, Ticket.due_at < now)).label("overdue"),
        due_measure(now),
    ]
    groups = [Ticket.community_id, *((Ticket.channel, Ticket.source) if counts_now else ())]
    rows = db.execute(
        select(
            *groups,
            *[m for m in _measures() if m.name in _RATE_NAMES],
            _count_if(responded).label("responded"),
            *(now_counts if counts_now else []),
        )
        .where(Ticket.created_at >= since, Ticket.created_at < until)
        .group_by(*groups)
    ).all()
    if not counts_now:
        return {row.community_id: row for row in rows}
    return by_community(rows)


def _responded_within(db: Session, hours: float) -> ColumnElement[bool]:
    """Accepted at most `hours` after being filed. Date arithmetic is the dialect's own:
    julianday() of the stored text on SQLite, timestamp + interval on PostgreSQL (an
    interval's epoch is a numeric there, several times slower over a month of rows)."""
    accepted, created = Ticket.accepted_at, Ticket.created_at
    if db.get_bind().dialect.name == "sqlite":
        days = func.julianday(accepted) - func.julianday(created)
        return and_(accepted.is_not(None), days * 86_400 <= hours * 3600)
    window = literal(timedelta(hours=hours), Interval())
    return accepted <= created + window


def _figures(community_id: int, name: str, row: Any, counts_now: bool) -> CommunityMonth:
    zero = 0 if counts_now else None
    if row is None:
        empty = HotlineCounts() if counts_now else None
        return CommunityMonth(
            community_id, name, 0, zero, zero, None, None, None, None, None, hotline=empty
        )
    handled = row.tickets - row.rejected
    rates = (
        _rate(row.responded, handled),
        _rate(row.resolved, handled),
        _rate(row.satisfied, row.rated),
    )
    return CommunityMonth(
        community_id,
        name,
        row.tickets,
        row.open if counts_now else None,
        row.overdue if counts_now else None,
        *rates,
        on_time_rate=_rate(row.on_time, row.timed),
        score=score(rates),
        hotline=row.hotline if counts_now else None,
    )


def score(rates: Sequence[float | None]) -> float | None:
    """100 × the weighted mean of (响应率, 解决率, 满意率) over the defined ones."""
    pairs = [(w, r) for w, r in zip(WEIGHTS, rates, strict=True) if r is not None]
    weight = sum(w for w, _ in pairs)
    return round(100 * sum(w * r for w, r in pairs) / weight, 2) if pairs else None


def _order(row: CommunityMonth) -> tuple[Any, ...]:
    def high_first(value: float | None) -> tuple[bool, float]:
        return (value is None, -(value or 0.0))

    return (
        high_first(row.score),
        high_first(row.resolution_rate),
        high_first(row.satisfaction_rate),
        high_first(row.response_rate),
        high_first(row.on_time_rate),
        -row.tickets,
        row.community,
        row.community_id,
    )


def ranked(rows: list[CommunityMonth]) -> list[CommunityMonth]:
    """The rows in rank order, each with its rank (1 = first), as the module's docstring says."""
    ordered = sorted(rows, key=_order)
    return [replace(row, rank=n) for n, row in enumerate(ordered, start=1)]


def month_label(month: date) -> str:
    """`YYYY-MM`, as `parse_month` reads it."""
    return f"{month.year}-{month.month:02d}"

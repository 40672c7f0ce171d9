"""Key figures (考核指标) over the tickets filed in a period, per topic, per grid or overall.

Counts are aggregated in the database (one GROUP BY query, one for the total); response times
are computed in Python from the (created_at, accepted_at) pairs, because the median has no
portable SQL and date arithmetic differs between SQLite and PostgreSQL.

Definitions (a rate is None when its denominator is 0 — undefined, not 0 %):
- responded: accepted_at is set (the first response); response time = accepted_at − created_at;
- resolved: status resolved, or closed after being resolved (resolved_at set);
  解决率 = resolved / (tickets − rejected);
- 按时率 = on_time true / on_time set (set when a ticket is resolved);
- 满意率 = rating 1 (满意) or 2 (基本满意) / rated;
- 重开率 = reopened (reopen_count > 0) / ever resolved (resolved_at set, or reopened — a
  ticket can only be reopened after it was resolved, whatever became of resolved_at since).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, case, func, literal_column, null, or_, select, text
from sqlalchemy.orm import Session

from words.channels import CHANNEL_NAMES, SOURCE_GROUPS

from .kpi_sources import SourceShare, group_of, source_shares
from .places import Grid
from .tickets import OPEN_STATUSES, Ticket
from .topics import Topic

GROUPINGS = ("topic", "grid", "channel", "all")  # the CLI's --by
BY_SOURCE = "source"  # 微信, 12345, 代居民登记, 网格平台, 其他平台 (models/kpi_sources.py)
NO_TOPIC = "（未分类）"
NO_GRID = "（未分网格）"
TOTAL = "合计"


@dataclass(frozen=True)
class KpiRow:
    """The figures of one group (a topic, a grid) or of all tickets (`total`)."""

    group: str
    tickets: int
    responded: int
    mean_response_hours: float | None
    median_response_hours: float | None
    resolved: int
    resolution_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    reopen_rate: float | None
    rejected: int
    total: bool = False


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # CASE without ELSE is NULL, which COUNT skips: portable across SQLite and PostgreSQL.
    return func.count(case((condition, 1)))


def _measures() -> list[Any]:
    resolved = or_(
        Ticket.status == "resolved",
        and_(Ticket.status == "closed", Ticket.resolved_at.is_not(None)),
    )
    reopened = Ticket.reopen_count > 0
    ever_resolved = or_(Ticket.resolved_at.is_not(None), reopened)
    return [
        func.count(Ticket.id).label("tickets"),
        _count_if(Ticket.accepted_at.is_not(None)).label("responded"),
        _count_if(resolved).label("resolved"),
        _count_if(Ticket.status == "rejected").label("rejected"),
        _count_if(Ticket.on_time.is_(True)).label("on_time"),
        _count_if(Ticket.on_time.is_not(None)).label("timed"),
        _count_if(Ticket.rating.in_((1, 2))).label("satisfied"),
        _count_if(Ticket.rating.is_not(None)).label("rated"),
        _count_if(reopened).label("reopened"),
        _count_if(ever_resolved).label("ever_resolved"),
    ]


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _row(group: str, counts: Any, hours: Sequence[float], *, total: bool = False) -> KpiRow:
    return KpiRow(
        group=group,
        tickets=counts.tickets,
        responded=counts.responded,
        mean_response_hours=statistics.fmean(hours) if hours else None,
        median_response_hours=statistics.median(hours) if hours else None,
        resolved=counts.resolved,
        resolution_rate=_rate(counts.resolved, counts.tickets - counts.rejected),
        on_time_rate=_rate(counts.on_time, counts.timed),
        satisfaction_rate=_rate(counts.satisfied, counts.rated),
        reopen_rate=_rate(counts.reopened, counts.ever_resolved),
        rejected=counts.rejected,
        total=total,
    )


def _grouping(by: str) -> tuple[Any, Any, Any, str] | None:
    """The name column, its table, the join condition and the unnamed group's label."""
    if by == "topic":
        return Topic.name, Topic, Ticket.topic_id == Topic.id, NO_TOPIC
    if by == "grid":
        return Grid.name, Grid, Ticket.grid_id == Grid.id, NO_GRID
    if by == "channel":
        # On the ticket itself: no table to join; every ticket has one (wechat by default).
        return Ticket.channel, None, None, TOTAL
    if by == BY_SOURCE:
        return group_of(), None, None, TOTAL
    if by == "all":
        return None
    raise ValueError(f"by must be one of {', '.join((*GROUPINGS, BY_SOURCE))}, not {by!r}")


def kpis(
    db: Session,
    *,
    since: datetime,
    until: datetime,
    by: str = "topic",
    channel: str | None = None,
    community_id: int | None = None,
) -> list[KpiRow]:
    """The figures of tickets created in [since, until): one row per group, then the total.

    `by`: "topic" (the unnamed group is 「（未分类）」), "grid" (「（未分网格）」), "channel"
    (微信, 电话, 来访, 巡查, 平台: how each came in), "source" (微信, 12345, 代居民登记,
    网格平台, 其他平台: models/kpi_sources.py) or "all" (the total only). Groups without
    tickets are left out; the biggest come first. `channel`: only tickets that came in so;
    `community_id`: only that community's (None: the whole street's).
    """
    grouping = _grouping(by)
    in_period = and_(Ticket.created_at >= since, Ticket.created_at < until)
    if channel is not None:
        in_period = and_(in_period, Ticket.channel == channel)
    if community_id is not None:
        in_period = and_(in_period, Ticket.community_id == community_id)
    name, table, join_on, unnamed = grouping or (null(), None, None, TOTAL)

    responses = select(name, Ticket.created_at, Ticket.accepted_at).select_from(Ticket)
    if table is not None:
        responses = responses.outerjoin(table, join_on)
    hours: defaultdict[str, list[float]] = defaultdict(list)
    for group, created, accepted in db.execute(
        responses.where(in_period, Ticket.accepted_at.is_not(None))
    ):
        hours[group or unnamed].append((accepted - created).total_seconds() / 3600)
    all_hours = [h for group_hours in hours.values() for h in group_hours]

    total = db.execute(select(*_measures()).where(in_period)).one()
    total_row = _row(TOTAL, total, all_hours, total=True)
    if grouping is None:
        return [total_row]
    query = select(name.label("group_name"), *_measures()).select_from(Ticket)
    if table is not None:
        query = query.outerjoin(table, join_on)
    # A CASE is grouped by its place: PostgreSQL does not match a repeated CASE's parameters.
    grouped = db.execute(
        query.where(in_period).group_by(text("1") if by == BY_SOURCE else name)
    ).all()
    names: dict[str, str] = {"channel": CHANNEL_NAMES, BY_SOURCE: SOURCE_GROUPS}.get(by, {})
    rows = []
    for r in grouped:
        key = r.group_name or unnamed
        rows.append(_row(names.get(key, key), r, hours[key]))
    rows.sort(key=lambda r: (-r.tickets, r.group == unnamed, r.group))
    return [*rows, total_row]


# --- the console's dashboard: counts only, each figure from one pass, all in the database ---


@dataclass(frozen=True)
class Rates:
    """解决率, 满意率 and 按时率 (as defined above) of the tickets filed in a period."""

    tickets: int
    resolution_rate: float | None
    satisfaction_rate: float | None
    on_time_rate: float | None


@dataclass(frozen=True)
class Share:
    """One group's tickets in a period (a topic or a grid; id None: the unnamed group)."""

    id: int | None
    name: str
    tickets: int
    open: int


def per_day(
    db: Session, column: Any, starts: Sequence[datetime], community_id: int | None = None
) -> list[int]:
    """How many tickets (of one community; None: all) have `column` (a timestamp) in each
    day [starts[i], starts[i+1])."""
    bucket, day_of = _buckets(db, column, starts)
    counts = [0] * (len(starts) - 1)
    where = [column >= starts[0], column < starts[-1], *of_community(community_id)]
    for key, count in db.execute(select(bucket, func.count()).where(*where).group_by(text("1"))):
        if (day := day_of(key)) is not None:
            counts[day] += count
    return counts


def of_community(community_id: int | None) -> list[ColumnElement[bool]]:
    """The condition for one community's tickets; none for the whole street (None)."""
    return [] if community_id is None else [Ticket.community_id == community_id]


def _buckets(
    db: Session, column: Any, starts: Sequence[datetime]
) -> tuple[ColumnElement[Any], Callable[[Any], int | None]]:
    """A bucket expression and the day each bucket falls in.

    The caller cuts the days at local midnights. SQLite and PostgreSQL share no function for
    "the local date of a UTC timestamp", and SQLite's date() parses every row: so rows are
    grouped by their UTC hour (the stored text's first 13 characters on SQLite, date_trunc
    on PostgreSQL) and the hours put in days here — exact when the zone's offsets are whole
    hours (DST included). Otherwise a CASE over the bounds buckets each row (slower).
    """
    if any(cast(timedelta, s.utcoffset()) % timedelta(hours=1) for s in starts):
        case_bucket = case(*((column < bound, n) for n, bound in enumerate(starts[1:])))
        return case_bucket, lambda day: None if day is None else int(day)
    dialect = db.get_bind().dialect.name
    if dialect == "sqlite":
        hour: ColumnElement[Any] = func.substr(column, 1, 13)
    else:
        hour = func.date_trunc(literal_column("'hour'"), column)

    def day_of(value: Any) -> int | None:
        at = datetime.fromisoformat(f"{value}:00") if isinstance(value, str) else value
        local = at.replace(tzinfo=UTC).astimezone(starts[0].tzinfo)
        days = (local.date() - starts[0].date()).days
        return days if 0 <= days < len(starts) - 1 else None

    return hour, day_of


# Only what the rates need: each measure is a CASE on every row of the month.
_RATE_NAMES = ("tickets", "resolved", "rejected", "on_time", "timed", "satisfied", "rated")
_RATE_MEASURES = [m for m in _measures() if m.name in _RATE_NAMES]


@dataclass(frozen=True)
class Breakdown:
    """The tickets filed in a period: their rates, and per topic and per grid."""

    rates: Rates
    topics: list[Share]
    grids: list[Share]
    channels: list[Share] = field(default_factory=list)  # name: 微信, 电话 ... (id None)
    sources: list[SourceShare] = field(default_factory=list)  # 微信, 12345, 代居民登记 …


def breakdown(
    db: Session, *, since: datetime, until: datetime, community_id: int | None = None
) -> Breakdown:
    """Rates, and tickets (and how many still open) per topic and per grid, biggest first,
    of the tickets filed in [since, until) (of one community; None: all): one pass grouped
    on the ticket's own columns, the names looked up after."""
    rows = db.execute(
        select(
            Ticket.topic_id,
            Ticket.grid_id,
            Ticket.channel,
            Ticket.source,
            _count_if(Ticket.status.in_(OPEN_STATUSES)).label("open"),
            *_RATE_MEASURES,
        )
        .where(Ticket.created_at >= since, Ticket.created_at < until, *of_community(community_id))
        .group_by(Ticket.topic_id, Ticket.grid_id, Ticket.channel, Ticket.source)
    ).all()
    by_topic: defaultdict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    by_grid: defaultdict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    by_channel: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        for totals, key in ((by_topic, row.topic_id), (by_grid, row.grid_id)):
            totals[key][0] += row.tickets
            totals[key][1] += row.open
        by_channel[row.channel][0] += row.tickets
        by_channel[row.channel][1] += row.open
    total = {n: sum(getattr(r, n) for r in rows) for n in _RATE_NAMES}
    rates = Rates(
        total["tickets"],
        _rate(total["resolved"], total["tickets"] - total["rejected"]),
        _rate(total["satisfied"], total["rated"]),
        _rate(total["on_time"], total["timed"]),
    )
    topics = {key: name for key, name in db.execute(select(Topic.id, Topic.name))}
    grids = {key: name for key, name in db.execute(select(Grid.id, Grid.name))}
    channels = [Share(None, CHANNEL_NAMES.get(c, c), *n) for c, n in by_channel.items()]
    channels.sort(key=lambda s: (-s.tickets, s.name))
    return Breakdown(
        rates,
        _shares(by_topic, topics, NO_TOPIC),
        _shares(by_grid, grids, NO_GRID),
        channels,
        source_shares(rows),
    )


def _shares(
    totals: dict[int | None, list[int]], names: dict[int, str], unnamed: str
) -> list[Share]:
    shares = [
        Share(key, names.get(key, unnamed) if key is not None else unnamed, *counts)
        for key, counts in totals.items()
    ]
    shares.sort(key=lambda s: (-s.tickets, s.id is None, s.name))
    return shares

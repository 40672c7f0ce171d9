"""The three rates the city ranks streets by for 12345 work orders (接诉即办 考核 “三率”), per
community and for the street, over the 12345 orders filed in a month (local time):

- 响应率 = orders accepted (接单) within the response window of being filed ÷ (orders − 退单).
  The window is the one the street dashboard already uses for all tickets, `[tickets]
  triage_hours` (4 h by default): the time after which an order nobody has taken goes to the
  duty supervisor (models/kpi_communities.py's 响应率, restricted to 12345 orders). A 退单 (a
  12345 order sent back as not this community's) is counted in neither part, as kpi.py leaves
  退回 out of its rates: it is 12345's to send elsewhere, not the community's to answer.
- 解决率 = resolved (办结: status resolved, or closed after being resolved) ÷ the orders due:
  not 退单 and either resolved or past their deadline (the order's own due_at) now. An order
  still open before its deadline is not counted yet — it may still be answered in time.
- 满意率 = rated 满意 or 基本满意 ÷ rated (the resident's rating, or the callback's).
A rate whose denominator is 0 is None (undefined, shown —), never 0.

The counts come from the street dashboard's own month query (models/kpi_communities.py): for
the month shown it groups by community, channel and source, so a 12345 group's row carries
kpi.py's counts of those orders, plus one more count (due now): no second query, and a seventh
of the cost that a CASE per count over every row took (bench/README.md, issue #18).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_

from words.channels import source_group

from .tickets import Ticket

DUE = "due_now"


@dataclass(frozen=True)
class HotlineCounts:
    """A community's (or the street's) 12345 orders filed in a month, counted for the rates."""

    orders: int = 0
    refused: int = 0  # 退单
    responded: int = 0  # accepted within the window (退单 not counted)
    due: int = 0  # not 退单, and resolved or past the deadline now
    resolved: int = 0
    satisfied: int = 0
    rated: int = 0

    @property
    def response_rate(self) -> float | None:
        return _rate(self.responded, self.orders - self.refused)

    @property
    def resolution_rate(self) -> float | None:
        return _rate(self.resolved, self.due)

    @property
    def satisfaction_rate(self) -> float | None:
        return _rate(self.satisfied, self.rated)

    def __add__(self, other: HotlineCounts) -> HotlineCounts:
        return HotlineCounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def due_measure(now: datetime) -> Any:
    """The count of tickets due now (not 退回, and resolved or past their deadline): with
    kpi.py's counts, what a 12345 group's row needs for HotlineCounts."""
    resolved = or_(
        Ticket.status == "resolved",
        and_(Ticket.status == "closed", Ticket.resolved_at.is_not(None)),
    )
    due = and_(Ticket.status != "rejected", or_(resolved, Ticket.due_at < now))
    return _count_if(due).label(DUE)


def by_community(rows: Sequence[Any]) -> dict[int, Any]:
    """Rows grouped by community, channel and source, carrying kpi.py's counts (tickets,
    rejected, responded — within the window, not 退回 —, resolved, satisfied, rated …) and
    `due_measure`: per community, every count summed, and its 12345 orders' as `hotline`."""
    summed: dict[int, dict[str, Any]] = {}
    for row in rows:
        counts = row._asdict()
        names = [n for n in counts if n not in ("community_id", "channel", "source")]
        mine = summed.setdefault(row.community_id, {**dict.fromkeys(names, 0)})
        mine.setdefault("hotline", HotlineCounts())
        for name in names:
            mine[name] += counts[name]
        if source_group(row.channel, row.source) == "12345":
            mine["hotline"] += HotlineCounts(
                orders=row.tickets,
                refused=row.rejected,
                responded=row.responded,
                due=counts[DUE],
                resolved=row.resolved,
                satisfied=row.satisfied,
                rated=row.rated,
            )
    return {cid: SimpleNamespace(community_id=cid, **c) for cid, c in summed.items()}

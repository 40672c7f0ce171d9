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

The counts are extra conditional counts in the street dashboard's own month query (one pass
over the month's tickets grouped by community, models/kpi_communities.py): no second query.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_

from .kpi_sources import in_group
from .tickets import Ticket

_PREFIX = "hotline_"


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


def hotline_measures(responded_within: ColumnElement[bool], now: datetime) -> list[Any]:
    """The labelled counts of HotlineCounts, to add to a query over tickets (grouped as the
    caller likes); `responded_within` is the dialect's "accepted within the window"."""
    order = in_group("12345")
    kept = and_(order, Ticket.status != "rejected")
    resolved = and_(
        kept,
        or_(
            Ticket.status == "resolved",
            and_(Ticket.status == "closed", Ticket.resolved_at.is_not(None)),
        ),
    )
    counted = {
        "orders": order,
        "refused": and_(order, Ticket.status == "rejected"),
        "responded": and_(kept, responded_within),
        "due": or_(resolved, and_(kept, Ticket.due_at < now)),
        "resolved": resolved,
        "satisfied": and_(order, Ticket.rating.in_((1, 2))),
        "rated": and_(order, Ticket.rating.is_not(None)),
    }
    return [_count_if(c).label(_PREFIX + name) for name, c in counted.items()]


def hotline_counts(row: Any) -> HotlineCounts:
    """The counts `hotline_measures` added to a result row."""
    return HotlineCounts(*(getattr(row, _PREFIX + f.name) for f in fields(HotlineCounts)))

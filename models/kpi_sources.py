"""Where a ticket came from, as the KPIs and the console's filter group it: 微信 (wechat),
12345 (the city hotline's orders), 代居民登记 (phone / visit / patrol, filed by staff), 网格平台
(source "grid") and 其他平台 (any other platform's order) — words/channels.py SOURCE_GROUPS.

One SQL expression per group, on the ticket's `channel` and `source` columns, so a count per
group is one GROUP BY and a filter is one WHERE, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_

from words.channels import GRID, HOTLINE, ON_BEHALF_CHANNELS, SOURCE_GROUPS, source_group

from .tickets import Ticket

GROUPS = tuple(SOURCE_GROUPS)  # wechat, 12345, on_behalf, grid, other


def in_group(group: str, table: Any = Ticket) -> ColumnElement[bool]:
    """The tickets of `group` (one of GROUPS; KeyError otherwise)."""
    channel, source = table.channel, table.source
    api = channel == "api"
    conditions: dict[str, ColumnElement[bool]] = {
        "wechat": and_(channel != "api", channel.not_in(ON_BEHALF_CHANNELS)),
        "12345": and_(api, source == HOTLINE),
        "on_behalf": channel.in_(ON_BEHALF_CHANNELS),
        "grid": and_(api, source == GRID),
        "other": and_(api, or_(source.is_(None), source.not_in((HOTLINE, GRID)))),
    }
    return conditions[group]


def group_of(table: Any = Ticket) -> ColumnElement[str]:
    """The group of each ticket, as a column (for GROUP BY)."""
    return case(*((in_group(g, table), g) for g in GROUPS[1:]), else_="wechat")


@dataclass(frozen=True)
class SourceShare:
    """One source group's tickets in a period: how many, still open, and their 解决率 and
    满意率 (models/kpi.py's definitions; None when undefined)."""

    key: str  # a GROUPS key (the console's ?source= filter)
    name: str  # 微信, 12345, 代居民登记, 网格平台, 其他平台
    tickets: int
    open: int
    resolution_rate: float | None
    satisfaction_rate: float | None


_SUMMED = ("tickets", "open", "resolved", "rejected", "satisfied", "rated")


def source_shares(rows: Sequence[Any]) -> list[SourceShare]:
    """The groups of rows grouped (at least) by channel and source, carrying kpi.py's
    counts: one share per group with tickets, in GROUPS' order."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        group = source_group(row.channel, row.source)
        counts = totals.setdefault(group, dict.fromkeys(_SUMMED, 0))
        for name in _SUMMED:
            counts[name] += getattr(row, name)
    shares = []
    for group in GROUPS:
        if group not in totals:
            continue
        c = totals[group]
        handled = c["tickets"] - c["rejected"]
        shares.append(
            SourceShare(
                group,
                SOURCE_GROUPS[group],
                c["tickets"],
                c["open"],
                c["resolved"] / handled if handled else None,
                c["satisfied"] / c["rated"] if c["rated"] else None,
            )
        )
    return shares

"""Where a ticket came from, as the KPIs and the console's filter group it: 微信 (wechat),
12345 (the city hotline's orders), 代居民登记 (phone / visit / patrol, filed by staff), 网格平台
(source "grid") and 其他平台 (any other platform's order) — words/channels.py SOURCE_GROUPS.

One SQL expression per group, on the ticket's `channel` and `source` columns, so a count per
group is one GROUP BY and a filter is one WHERE, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
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
    """The groups of result rows grouped (at least) by channel and source, carrying kpi.py's
    counts: one share per group with tickets, in GROUPS' order. Rows are read by position
    (a Row's attribute lookup costs ten times as much, over thousands of rows)."""
    if not rows:
        return []
    names = rows[0]._fields
    origin = itemgetter(names.index("channel"), names.index("source"))
    counts = itemgetter(*(names.index(n) for n in _SUMMED))
    by_group: dict[str, list[tuple[int, ...]]] = {}
    groups: dict[tuple[str, str | None], str] = {}  # a few (channel, source) pairs
    for row in rows:
        key = origin(row)
        group = groups.get(key) or groups.setdefault(key, source_group(*key))
        by_group.setdefault(group, []).append(counts(row))
    shares = []
    for group in GROUPS:
        if group in by_group:
            summed = [sum(column) for column in zip(*by_group[group], strict=True)]
            shares.append(_share(group, dict(zip(_SUMMED, summed, strict=True))))
    return shares


def _share(group: str, c: dict[str, int]) -> SourceShare:
    handled = c["tickets"] - c["rejected"]
    return SourceShare(
        group,
        SOURCE_GROUPS[group],
        c["tickets"],
        c["open"],
        c["resolved"] / handled if handled else None,
        c["satisfied"] / c["rated"] if c["rated"] else None,
    )

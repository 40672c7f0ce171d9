"""`report`: the key figures (考核指标) of the tickets filed in a period."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click

from models.intake import CHANNELS
from models.kpi import BY_SOURCE, GROUPINGS, KpiRow, kpis
from models.kpi_communities import (
    RATE_KEYS,
    CommunityMonth,
    month_label,
    month_of,
    parse_month,
    shift,
    standings,
)
from words.channels import CHANNEL_NAMES
from words.ranking import RANKING_HEADERS

from ..config import Settings
from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

DEFAULT_DAYS = 30
GROUP_HEADERS = {"topic": "类别", "grid": "网格", "channel": "渠道", "all": "范围"}
BY_COMMUNITY = "community"
HEADERS = ("诉求数", "响应", "平均响应(小时)", "解决率", "按时率", "满意率", "重开率", "退回")
UNDEFINED = "—"


def _percent(rate: float | None) -> str:
    return UNDEFINED if rate is None else f"{rate * 100:.1f}%"


def _hours(hours: float | None) -> str:
    return UNDEFINED if hours is None else f"{hours:.1f}"


def _width(text: str) -> int:
    """Columns on a terminal: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cells(row: KpiRow) -> list[str]:
    return [
        row.group,
        str(row.tickets),
        str(row.responded),
        _hours(row.mean_response_hours),
        _percent(row.resolution_rate),
        _percent(row.on_time_rate),
        _percent(row.satisfaction_rate),
        _percent(row.reopen_rate),
        str(row.rejected),
    ]


def table(rows: list[KpiRow], by: str) -> str:
    """An aligned text table: the group left-aligned, the figures right-aligned."""
    return _aligned([[GROUP_HEADERS[by], *HEADERS], *(_cells(row) for row in rows)])


def _aligned(lines: list[list[str]]) -> str:
    widths = [max(_width(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for line in lines:
        cells = [line[0] + " " * (widths[0] - _width(line[0]))]
        cells += [" " * (w - _width(c)) + c for c, w in zip(line[1:], widths[1:], strict=True)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def _row_json(row: KpiRow) -> dict[str, Any]:
    data = asdict(row)
    del data["total"]
    for key in ("mean_response_hours", "median_response_hours"):
        if data[key] is not None:
            data[key] = round(data[key], 2)
    for key in ("resolution_rate", "on_time_rate", "satisfaction_rate", "reopen_rate"):
        if data[key] is not None:
            data[key] = round(data[key], 4)
    return data


def _community_json(row: CommunityMonth, month: date) -> dict[str, Any]:
    rates = {k: None if (v := getattr(row, k)) is None else round(v, 4) for k in RATE_KEYS}
    return {
        "month": month_label(month),
        "community": row.community,
        "tickets": row.tickets,
        "open": row.open,
        "overdue": row.overdue,
        **rates,
        "score": row.score,
        "rank": row.rank,
    }


def _community_table(rows: list[CommunityMonth]) -> str:
    def line(row: CommunityMonth) -> list[str]:
        cells = row.cells(lambda rate: _percent(rate))
        cells[-1] = None if row.score is None else f"{row.score:.1f}"
        return [UNDEFINED if cell is None else str(cell) for cell in cells]

    return _aligned([list(RANKING_HEADERS), *(line(row) for row in rows)])


def _month_option(month: str | None) -> date | None:
    if month is None:
        return None
    try:
        return parse_month(month)
    except ValueError as why:
        raise click.UsageError(f"--month: {why}") from None


def _period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise click.UsageError(f"--from {start} is after --to {end}")
    return start, end


@click.command()
@config_option
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help=f"First day (default: {DEFAULT_DAYS} days up to --to).",
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: today).")
@click.option(
    "--month",
    metavar="YYYY-MM",
    help="One calendar month instead of --from/--to (--by community: default this month).",
)
@click.option(
    "--by",
    type=click.Choice((*GROUPINGS, BY_SOURCE, BY_COMMUNITY)),
    default="topic",
    show_default=True,
)
@click.option(
    "--channel",
    type=click.Choice(CHANNELS),
    help="Only tickets that came in this way (wechat; filed by staff: phone, visit, patrol; "
    "api: a city platform's work order).",
)
@community_option
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object (--by community: a line each)."
)
def report(
    config_path: str | None,
    start: datetime | None,
    end: datetime | None,
    month: str | None,
    by: str,
    channel: str | None,
    community: str | None,
    as_json: bool,
) -> None:
    """Response, resolution, on-time, satisfaction and reopen rates of tickets filed from
    --from to --to (both included, days in [app] timezone), per topic, per grid, per channel,
    per source (微信, 12345, 代居民登记, 网格平台, 其他平台) or overall; every channel counts
    unless --channel picks one. --by community: each
    community's 接诉即办 rates for a month, ranked."""
    in_month = _month_option(month)
    if in_month is not None and (start or end):
        raise click.UsageError("--month replaces --from and --to: give one or the other")
    settings = settings_from(config_path)
    tz = settings.tz
    if by == BY_COMMUNITY:
        if start or end or channel:
            raise click.UsageError("--by community takes --month, not --from/--to/--channel")
        _report_communities(settings, in_month, community, as_json)
        return
    if in_month is not None:
        start = datetime.combine(in_month, time())
        end = datetime.combine(shift(in_month, 1), time()) - timedelta(days=1)
    first, last = _period(
        start.date() if start else None,
        end.date() if end else None,
        datetime.now(UTC).astimezone(tz).date(),
    )
    since = datetime.combine(first, time(), tzinfo=tz)
    until = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            rows = kpis(
                session,
                since=since,
                until=until,
                by=by,
                channel=channel,
                community_id=scope.community_id,
            )
    finally:
        db.dispose()
    groups, total = [r for r in rows if not r.total], next(r for r in rows if r.total)
    if as_json:
        data = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "by": by,
            "rows": [_row_json(r) for r in groups],
            "total": _row_json(total),
        }
        if channel is not None:
            data["channel"] = channel
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    only = f"（{CHANNEL_NAMES[channel]}）" if channel is not None else ""
    click.echo(f"诉求统计 {first.isoformat()} 至 {last.isoformat()}{only}")
    click.echo(table([*groups, total], by))


def _report_communities(
    settings: Settings, month: date | None, community: str | None, as_json: bool
) -> None:
    """Each community's figures for the month, in rank order; --community: that one's only
    (with its rank among all)."""
    month = month or month_of(datetime.now(UTC), settings.tz)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            rows = standings(
                session,
                month,
                settings.tz,
                now=datetime.now(UTC),
                response_hours=settings.tickets.triage_hours,
            )
    finally:
        db.dispose()
    rows = [row for row in rows if scope.owns(row.community_id)]
    if as_json:
        for row in rows:
            click.echo(json.dumps(_community_json(row, month), ensure_ascii=False))
        return
    click.echo(f"社区排名 {month_label(month)}")
    click.echo(_community_table(rows))

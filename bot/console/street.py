"""街道看板: the street office's view of its communities — a month's 接诉即办 rates, ranked,
the trend over the months before, a drill-down into each community's own 工作台, and the
month's table as CSV and XLSX; the month's 12345 三率 per community and for the street
(models/kpi_hotline.py), which the XLSX carries as a third sheet; below it, each community's
议题 pipeline (models/kpi_agenda.py: items by stage now, the median days from 提议 to 立项
and to 完成 and the 满意率 over the last 365 days), which the XLSX carries as a second
sheet. The CSV stays the month's ranking alone: a CSV is one table, and the pipeline is not a
month's figure.

Street accounts only (community_id NULL): a community's account gets a 403 here — its own
figures are on its 工作台, and another community's are not its business. The figures and the
ranking rule are models/kpi_communities.py's.

The page is the month's table (one query over the month's tickets); the trend reads six
months of tickets (~6× the work), so it is its own fragment, /admin/street/trend, which the
page fetches once it is shown (a link without JavaScript): the ranking never waits for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from models import ConsoleRole
from models.kpi_agenda import WINDOW_DAYS, cells, street_rows
from models.kpi_communities import (
    TREND_MONTHS,
    CommunityMonth,
    month_label,
    month_of,
    parse_month,
    shift,
    trend,
)
from models.kpi_hotline import HotlineCounts
from words.agenda_report import PIPELINE_HEADERS
from words.channels import HOTLINE_HEADERS, HOTLINE_SHEET, HOTLINE_TOTAL
from words.ranking import RANKING_HEADERS

from ..spreadsheets import CSV, XLSX, Sheet, csv_bytes, xlsx_bytes
from .access import current_scope, guard, requires
from .common import now, problem, reading, ys

bp = Blueprint("console_street", __name__, url_prefix="/admin")
bp.before_request(guard)

# The ranking's rate columns (0-based), and the pipeline's 满意率; the 12345 table's rates.
RATE_COLUMNS = (5, 6, 7, 8)
HOTLINE_RATES = (3, 4, 5)
PIPELINE_RATE = len(PIPELINE_HEADERS) - 1


def _street_only() -> None:
    if not current_scope().street:
        abort(403)


def _month() -> date:
    """?month=YYYY-MM, else this month (local time); nonsense is said and this month shown."""
    this_month = month_of(now(), ys().settings.tz)
    raw = request.args.get("month", "").strip()
    if not raw:
        return this_month
    try:
        return parse_month(raw)
    except ValueError:
        problem(
            f"月份“{raw[:20]}”无法识别，请按 YYYY-MM 填写"
            f"（如 {month_label(this_month)}）；下面是本月。"
        )
        return this_month


def _figures(month: date, months: int) -> list[tuple[date, list[CommunityMonth]]]:
    settings = ys().settings
    with reading() as db:
        return trend(
            db,
            month,
            settings.tz,
            now=now(),
            response_hours=settings.tickets.triage_hours,
            months=months,
        )


@bp.route("/street", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    _street_only()
    month = _month()
    table = _figures(month, 1)[-1][1]
    return render_template(
        "console/street.html",
        title="街道看板",
        month=month_label(month),
        previous=month_label(shift(month, -1)),
        following=month_label(shift(month, 1)),
        headers=RANKING_HEADERS,
        table=table,
        hotline_headers=HOTLINE_HEADERS,
        hotline=hotline_rows(table),
        response_hours=f"{ys().settings.tickets.triage_hours:g}",
        trend_months=TREND_MONTHS,
        agenda_headers=PIPELINE_HEADERS,
        agenda=_pipeline(),
        window_days=WINDOW_DAYS,
        year=now().astimezone(ys().settings.tz).year,
    )


def hotline_rows(table: list[CommunityMonth]) -> list[list[Any]]:
    """The 12345 三率 per community (in the ranking's order), then the street's: the name, the
    orders, the 退单, and the three rates (None: undefined)."""
    rows, total = [], HotlineCounts()
    for row in table:
        counts = row.hotline or HotlineCounts()
        total += counts
        rows.append(_hotline_cells(row.community, counts))
    return [*rows, _hotline_cells(HOTLINE_TOTAL, total)]


def _hotline_cells(name: str, c: HotlineCounts) -> list[Any]:
    return [name, c.orders, c.refused, c.response_rate, c.resolution_rate, c.satisfaction_rate]


def _pipeline() -> list[list[object]]:
    with reading() as db:
        return [cells(name, figures) for name, figures in street_rows(db, now())]


@bp.route("/street/trend")
@requires(ConsoleRole.VIEWER)
def trend_fragment() -> str:
    """The last six months up to ?month=, per community: a table the page puts in place."""
    _street_only()
    month = _month()
    months = _figures(month, TREND_MONTHS)
    return render_template(
        "console/street_trend.html",
        trend=trend_rows(months[-1][1], months),
        trend_months=[month_label(m) for m, _ in months],
    )


def trend_rows(
    table: list[CommunityMonth], months: list[tuple[date, list[CommunityMonth]]]
) -> list[dict[str, Any]]:
    """Per community (in this month's rank order): its score and rank in each month, and the
    points of a small line of the score (0-100 drawn in a 126 × 28 box; none where None)."""
    by_month = [{row.community_id: row for row in rows} for _, rows in months]
    rows = []
    for row in table:
        cells = [found[row.community_id] for found in by_month]
        step = 120 / max(len(cells) - 1, 1)
        points = [
            (round(n * step + 3, 1), round(27 - 24 * (c.score or 0) / 100 - 1, 1))
            for n, c in enumerate(cells)
            if c.score is not None
        ]
        line = " ".join(f"{x},{y}" for x, y in points)
        rows.append({"community": row.community, "cells": cells, "line": line, "dots": points})
    return rows


def _download(body: bytes, mimetype: str, month: date, suffix: str) -> Response:
    name = f"street-{month_label(month)}.{suffix}"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/street.csv")
@requires(ConsoleRole.VIEWER)
def export_csv() -> Response:
    """The month's table, UTF-8 with a BOM (so that Excel reads the Chinese), rates in %."""
    _street_only()
    month = _month()
    rows = (row.cells(lambda v: v) for row in _figures(month, 1)[-1][1])
    body = csv_bytes(RANKING_HEADERS, rows, lambda v: f"{v * 100:.1f}%", RATE_COLUMNS)
    return _download(body, CSV, month, "csv")


@bp.route("/street.xlsx")
@requires(ConsoleRole.VIEWER)
def export_xlsx() -> Response:
    """The month's table as a workbook: rates as numbers (0-1) shown as percentages; the
    议题 pipeline on a second sheet."""
    _street_only()
    month = _month()
    table = _figures(month, 1)[-1][1]
    ranking = Sheet(
        month_label(month),
        RANKING_HEADERS,
        [row.cells(lambda v: round(v, 4)) for row in table],
        percent_columns=RATE_COLUMNS,
        widths={1: 16},
    )
    agenda = Sheet("议题进展", PIPELINE_HEADERS, _pipeline(), (PIPELINE_RATE,), {0: 16})
    hotline = [
        [round(v, 4) if n in HOTLINE_RATES and v is not None else v for n, v in enumerate(row)]
        for row in hotline_rows(table)
    ]
    orders = Sheet(HOTLINE_SHEET, HOTLINE_HEADERS, hotline, HOTLINE_RATES, {0: 16})
    return _download(xlsx_bytes([ranking, agenda, orders]), XLSX, month, "xlsx")

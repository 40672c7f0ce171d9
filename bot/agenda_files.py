"""The annual 议题 report as a file (CSV or XLSX), for `agenda report` and the console's
download alike: the rows are models/agenda_report.py's, the columns words/agenda_report.py's."""

from __future__ import annotations

from typing import Any

from models.agenda_report import Row
from words.agenda_report import REPORT_COLUMNS, REPORT_HEADERS, REPORT_SHEET

from .spreadsheets import CSV, XLSX, Sheet, csv_bytes, xlsx_bytes

FORMATS = {"csv": CSV, "xlsx": XLSX}
KEYS = [key for key, _ in REPORT_COLUMNS]
RATE = KEYS.index("satisfaction")
# Wide columns for the texts people wrote (0-based): title, proposal, decision, result.
WIDTHS = {KEYS.index(k): w for k, w in (("title", 24), ("body", 40), ("decision", 30))}
WIDTHS[KEYS.index("result")] = 30


def _lines(rows: list[Row]) -> list[list[Any]]:
    return [[row[key] for key in KEYS] for row in rows]


def report_file(rows: list[Row], year: int, fmt: str) -> bytes:
    """The report in `fmt` ("csv" or "xlsx"); the 满意率 as a percentage."""
    if fmt == "csv":
        return csv_bytes(REPORT_HEADERS, _lines(rows), lambda v: f"{v * 100:.1f}%", (RATE,))
    sheet = Sheet(REPORT_SHEET.format(year=year), REPORT_HEADERS, _lines(rows), (RATE,), WIDTHS)
    return xlsx_bytes([sheet])


def file_name(year: int, fmt: str, community: str | None = None) -> str:
    """agenda-2026.csv, or agenda-2026-<community>.xlsx for one community's."""
    return f"agenda-{year}{'-' + community if community else ''}.{fmt}"

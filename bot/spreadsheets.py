"""Tables as files people open in Excel or WPS: CSV (UTF-8 with a BOM, so that Excel reads the
Chinese) and XLSX (openpyxl), for the console's downloads and the CLI alike.

What residents write may look like a formula ("=1+1", "+86…", "@…"). Opened in a spreadsheet,
such a cell must stay the text it is, never be computed (CSV/formula injection):
- XLSX: every text cell is written as a string cell, whatever it starts with (openpyxl would
  otherwise store "=…" as a formula), so the workbook holds the text exactly as written;
- CSV has no cell types: Excel computes any field starting with = + - @ (or a tab / carriage
  return before one). Such a field gets a leading apostrophe — the mark Excel itself shows for
  "typed as text" (OWASP's advice) — the one change a CSV makes to a text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PERCENT = "0.0%"


def csv_text(value: str) -> str:
    """A text as a CSV field Excel will not compute (see the module's docstring)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_bytes(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    percent: Callable[[float], str] | None = None,
    percent_columns: Sequence[int] = (),
) -> bytes:
    """The table as CSV, UTF-8 with a BOM; None is an empty field; numbers in the
    `percent_columns` (0-based) written by `percent`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        cells = []
        for n, value in enumerate(row):
            if value is None:
                cells.append("")
            elif isinstance(value, str):
                cells.append(csv_text(value))
            elif percent is not None and n in percent_columns:
                cells.append(percent(value))
            else:
                cells.append(value)
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@dataclass
class Sheet:
    """One sheet of a workbook: its title, head and rows; percentages (0-1 numbers) in the
    `percent_columns` (0-based); column widths by 0-based index."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    percent_columns: Sequence[int] = ()
    widths: Mapping[int, float] = field(default_factory=dict)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as one workbook; every text a string cell (never a formula)."""
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has one sheet
    book.remove(first)
    for spec in sheets:
        sheet = book.create_sheet(spec.title[:31])  # Excel's limit on a sheet's name
        sheet.append(list(spec.headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(spec.rows, start=2):
            for column, value in enumerate(row, start=1):
                if isinstance(value, str):
                    # Control characters (other than tab and newlines) cannot be stored in
                    # XLSX at all: each shows as U+FFFD rather than failing the download.
                    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
                cell = sheet.cell(row=number, column=column, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text as written, even "=1+1"
                elif column - 1 in spec.percent_columns and value is not None:
                    cell.number_format = PERCENT
        for column, width in spec.widths.items():
            sheet.column_dimensions[get_column_letter(column + 1)].width = width
    body = io.BytesIO()
    book.save(body)
    return body.getvalue()

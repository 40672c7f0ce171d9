"""The annual 议题 report as a download: /admin/agenda/report.csv and /admin/agenda/report.xlsx,
`?year=YYYY` (default: this year, local time).

A community's account gets its own community's items; a street account every item, or one
community's with `?community=<id>`. The rows and the files are those of `agenda report`
(models/agenda_report.py, bot/agenda_files.py). These paths do not collide with the item page,
/admin/agenda/<int:number>: `report.csv` is no number.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, request

from models import ConsoleRole
from models.agenda_report import annual_report
from models.communities import Community

from ..agenda_files import FORMATS, file_name, report_file
from .access import current_scope, guard, requires
from .common import now, reading, small_int, ys

bp = Blueprint("console_agenda_export", __name__, url_prefix="/admin/agenda")
bp.before_request(guard)


def _year() -> int:
    raw = request.args.get("year", "").strip()
    if not raw:
        return now().astimezone(ys().settings.tz).year
    year = small_int(raw)
    if year is None or not 2000 <= year <= 9998:
        abort(400, f"年份“{raw[:20]}”无法识别，请写四位数字，如 2026。")
    return year


def _download(fmt: str) -> Response:
    year, scope = _year(), current_scope()
    raw = request.args.get("community", "")
    asked = small_int(raw) if raw else None
    if raw and asked is None:
        abort(404)
    if not scope.street:
        if asked is not None and asked != scope.community_id:
            abort(403)
        asked = scope.community_id
    with reading() as db:
        community = db.get(Community, asked) if asked is not None else None
        if asked is not None and community is None:
            abort(404)
        rows = annual_report(db, year, ys().settings.tz, asked)
    name = file_name(year, fmt, community.name if community else None)
    return Response(
        report_file(rows, year, fmt),
        mimetype=FORMATS[fmt],
        headers={"Content-Disposition": _disposition(name)},
    )


def _disposition(name: str) -> str:
    """An attachment's name: ASCII for old clients, the community's Chinese name (RFC 5987)
    for the rest."""
    plain = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


@bp.route("/report.csv")
@requires(ConsoleRole.VIEWER)
def report_csv() -> Response:
    return _download("csv")


@bp.route("/report.xlsx")
@requires(ConsoleRole.VIEWER)
def report_xlsx() -> Response:
    return _download("xlsx")

"""Public pages: a 公示 at /p/<token>, readable by anyone with the link (no login).

Plain HTML that WeChat's in-app browser shows well: a phone viewport, inline styles, no
script, nothing from a CDN. Not part of the console (not under /admin, no sign-in, no CSRF:
nothing here is a form). What a page shows is decided in models/public_page.py.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, render_template
from werkzeug.wrappers import Response

from models.public_page import public_page
from words import when

from .extension import yishiting

bp = Blueprint("public", __name__, url_prefix="/p", template_folder="templates")


def _date(local: datetime) -> str:
    return f"{local.year}年{local.month}月{local.day}日"


@bp.route("/<token>")
def agenda_page(token: str) -> Response:
    ys = yishiting(current_app)
    tz = ys.settings.tz
    now = ys.conversation.clock()
    with ys.db.session(read_only=True) as db:
        page = public_page(db, token)
    if page is None:
        body = render_template("public/not_found.html")
        return Response(body, status=404, mimetype="text/html")
    body = render_template(
        "public/agenda.html",
        page=page,
        open=page.withdrawn is None and now < page.until,
        when=lambda moment: when(moment, tz),
        date=lambda moment: _date(moment.astimezone(tz)),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # a withdrawal shows at once
    return response

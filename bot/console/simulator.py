"""/simulator: placeholder until the page is built (development mode only, no login)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("simulator", __name__, url_prefix="/simulator")


@bp.route("", strict_slashes=False)
def index() -> str:
    return "simulator"

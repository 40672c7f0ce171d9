"""分类规则: placeholder until the page is built."""

from __future__ import annotations

from flask import Blueprint, render_template

from models import ConsoleRole

from .access import guard, requires

bp = Blueprint("console_rules", __name__, url_prefix="/admin/rules")
bp.before_request(guard)


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    return render_template("console/placeholder.html", title="分类规则")

"""议事代表 at /admin/meetings/reps: the list of representatives, adding and removing one.

A person is named as `yishiting people reps add` names them (models/meeting_reps.py): an
openid, a bound resident's phone, or an address with exactly one approved resident.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from models import ConsoleRole, Person
from models.meeting_reps import RepError, add_rep, describe, find_person, list_reps, remove_rep

from . import meetings_texts as texts
from .access import current_scope, guard, requires
from .common import now, ok, problem, reading, small_int, writing

bp = Blueprint("console_reps", __name__, url_prefix="/admin/meetings/reps")
bp.before_request(guard)


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    with reading() as db:
        rows = list_reps(db, current_scope().community_id)
    return render_template("console/meeting_reps.html", title="议事代表", rows=rows)


@bp.route("/add", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def add() -> Response:
    who = request.form.get("who", "").strip()[:100]
    scope = current_scope()
    with writing() as db:
        try:
            person_id = find_person(db, who, scope.community_id)
        except RepError as exc:
            problem(texts.REP_REFUSED[exc.reason].format(who=exc.who, count=exc.count))
            return redirect(url_for(".index"), code=303)
        by = str(current_user.display_name)[:64]
        added = add_rep(db, person_id, scope.community_id, by, now())
    ok((texts.REP_ADDED if added else texts.REP_ALREADY).format(who=who))
    return redirect(url_for(".index"), code=303)


@bp.route("/<int:person_id>/remove", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def remove(person_id: int) -> Response:
    if small_int(person_id) is None:
        abort(404)
    with writing() as db:
        person = db.get(Person, person_id)
        removed = remove_rep(db, person_id, current_scope().community_id)
        who = describe(db, person) if removed and person is not None else ""
    if removed:
        ok(texts.REP_REMOVED.format(who=who))
    else:
        abort(404)  # not on this account's list: another community's is no different
    return redirect(url_for(".index"), code=303)

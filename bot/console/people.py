"""居民与网格 (/admin/people): pending household bindings to approve, staff, grids.

The staff pages (people_staff.py) and console accounts (accounts.py) are registered on this
blueprint too, under /admin/people/…, so every people-related page lives in one place.
Approving here calls the same `approve_binding` the chat's 审核 does: the resident is pushed
the same message.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import Binding, ConsoleRole, Person, Role
from models.places import (
    PENDING,
    BindingError,
    approve_binding,
    grid_counts,
    mask_openid,
    mask_phone,
    pending_page,
    reject_binding,
)
from models.scoping import binding_community
from models.staff import reviewable_grids

from . import accounts, people_staff
from . import people_texts as texts
from .access import current_scope, guard, requires
from .common import now, ok, page_number, problem, reading, writing
from .scope import in_scope, staff_in_scope

bp = Blueprint("console_people", __name__, url_prefix="/admin/people")
bp.before_request(guard)

PAGE = 50


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    number = page_number(request.args.get("page"))
    with reading() as db:
        scope = current_scope()
        rows, total = pending_page(
            db, offset=(number - 1) * PAGE, limit=PAGE, community_id=scope.community_id
        )
        pending = [
            {
                "id": binding.id,
                "household": binding.household_id,
                "who": person.name or mask_openid(person.openid),
                "place": binding.household.label,
                "phone": mask_phone(binding.phone),
                "since": binding.created_at,
            }
            for binding, person in rows
        ]
        staff = staff_in_scope(db)
        grids = grid_counts(db, scope.community_id)
    return render_template(
        "console/people.html",
        title="居民与网格",
        pending=pending,
        total=total,
        page=number,
        more=number * PAGE < total,
        staff=staff,
        grids=grids,
        levels=texts.LEVEL_LABELS,
        mask_openid=mask_openid,
        may_decide=current_user.may(ConsoleRole.STAFF),
        is_admin=current_user.may(ConsoleRole.ADMIN),
    )


@bp.route("/bindings/<int:binding_id>/approve", methods=["POST"])
@requires(ConsoleRole.STAFF)
def approve(binding_id: int) -> Response:
    return _decide(binding_id, approve=True)


@bp.route("/bindings/<int:binding_id>/reject", methods=["POST"])
@requires(ConsoleRole.STAFF)
def reject(binding_id: int) -> Response:
    return _decide(binding_id, approve=False)


def _decide(binding_id: int, *, approve: bool) -> Response:
    """Approve or reject the binding the person saw: same id, same household, still pending."""
    seen = request.form.get("household", "")
    back = redirect(url_for(".index"), code=303)
    with writing() as db:
        binding = db.get(Binding, binding_id)
        if binding is not None:
            in_scope(binding_community(db, binding))  # another community's: 404
        if binding is None or binding.status != PENDING or str(binding.household_id) != seen:
            problem(texts.BINDING_GONE)
            return back
        refusal = _refusal(db, binding)
        if refusal is not None:
            problem(refusal)
            return back
        by = _decided_by(db)
        try:
            if approve:
                place = approve_binding(db, binding.person_id, by, now()).household.label
            else:
                place = reject_binding(db, binding.person_id, by, now())
        except BindingError:
            problem(texts.BINDING_GONE)
            return back
    ok((texts.APPROVED if approve else texts.REJECTED).format(place=place))
    return back


def _refusal(db: Session, binding: Binding) -> str | None:
    """Who may decide, as in the chat's 审核: admins and supervisors (level 2+) any binding, a
    grid worker those in their grids; a staff account must be linked to its WeChat identity."""
    if current_user.may(ConsoleRole.ADMIN):
        return None
    me = db.get(Person, current_user.person_id) if current_user.person_id else None
    if me is None:
        return texts.NEEDS_LINK
    if me.role < Role.STAFF:
        return texts.NOT_STAFF
    grids = reviewable_grids(db, me)
    if grids is None or binding.household.building.grid_id in grids:
        return None
    return texts.NOT_YOUR_GRID


def _decided_by(db: Session) -> str:
    """Who decided, as the binding records it: the linked staff member's openid, as in chat."""
    if current_user.person_id is not None:
        person = db.get(Person, current_user.person_id)
        if person is not None:
            return person.openid
    return f"console:{current_user.username}"


# Staff management and console accounts: ADMIN pages under /admin/people.
bp.add_url_rule("/staff/<int:person_id>", "staff_edit", people_staff.edit, methods=["GET", "POST"])
bp.add_url_rule("/code", "staff_code", people_staff.issue, methods=["GET", "POST"])
bp.add_url_rule("/accounts", "accounts", accounts.index, methods=["GET"])
bp.add_url_rule("/accounts", "account_create", accounts.create, methods=["POST"])
bp.add_url_rule("/accounts/<int:account_id>/role", "account_role", accounts.role, methods=["POST"])
bp.add_url_rule("/accounts/<int:account_id>/link", "account_link", accounts.link, methods=["POST"])
bp.add_url_rule(
    "/accounts/<int:account_id>/community",
    "account_community",
    accounts.community,
    methods=["POST"],
)

"""接口 (ADMIN, /admin/api-keys): the keys city platforms call the open API with.

The list (last used, revoked), a form that makes a key and shows it ONCE on the page that
answers the form (never in a redirect, a flash or the session: only its hash is kept), revoking
(a POST), and per key its recent requests from the audit. A street admin sees every key and
makes keys for the street or any community; a community's admin sees, makes and revokes its
community's keys only (another's is a 404). As `yishiting api-key` does (bot/cli/api_keys.py).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole
from models.api.key_admin import key_in_scope, key_row, key_rows, requests_of
from models.api.keys import ApiKeyError, create_key, parse_scopes, revoke

from .access import current_scope, guard, requires
from .common import now, ok, problem, reading, writing
from .scope import NoCommunity, assigned_community, communities_shown

bp = Blueprint("console_api_keys", __name__, url_prefix="/admin/api-keys")
bp.before_request(guard)

# What this page says (one place).
TITLE = "接口密钥"
SCOPE_LABELS = {
    "tickets:read": "读取诉求",
    "tickets:write": "登记和办理诉求（接收工单、回报结果）",
    "agenda:read": "读取议题",
    "polls:read": "读取投票",
    "personal": "个人信息（电话、openid 不打码）",
}
STREET_LABEL = "街道（全部社区）"
ERRORS = {
    "no_name": "请填写密钥名称（使用它的平台，如 12345平台）。",
    "name_too_long": "密钥名称最多 64 个字。",
    "no_scope": "请至少选择一项权限。",
    "unknown_scope": "没有“{value}”这项权限。",
    "no_community": "没有这个社区，请重新选择。",
}
REVOKED = "密钥 #{id}（{name}）已吊销：此后用它的请求都会被拒绝（401）。"
ALREADY_REVOKED = "密钥 #{id}（{name}）早已吊销。"


def _actor() -> str:
    return str(current_user.display_name)


def _page(
    db: Session,
    *,
    errors: list[str] | None = None,
    form: dict[str, object] | None = None,
    made: tuple[int, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    scope = current_scope()
    body = render_template(
        "console/api_keys.html",
        title=TITLE,
        keys=key_rows(db, scope),
        scope_labels=SCOPE_LABELS,
        communities=communities_shown(db),
        street=scope.street,
        street_label=STREET_LABEL,
        errors=errors or [],
        form=form or {},
        made=made,  # (id, the key itself): shown this once
    )
    return body, status


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.ADMIN)
def index() -> tuple[str, int]:
    with reading() as db:
        return _page(db)


@bp.route("", methods=["POST"], strict_slashes=False)
@requires(ConsoleRole.ADMIN)
def create() -> tuple[str, int]:
    chosen = [s for s in request.form.getlist("scopes") if s]
    name, community = request.form.get("name", ""), request.form.get("community", "")
    form: dict[str, object] = {"name": name, "scopes": chosen, "community": community}
    with writing() as db:
        try:
            try:
                community_id = assigned_community(db, community)
            except NoCommunity:
                raise ApiKeyError("no_community", community) from None
            key, secret = create_key(
                db,
                name=name,
                scopes=parse_scopes(",".join(chosen)),
                community_id=community_id,
                created_by=_actor(),
                now=now(),
            )
        except ApiKeyError as exc:
            message = ERRORS.get(exc.reason, str(exc)).format(value=exc.value)
            return _page(db, errors=[message], form=form, status=400)
        key_id = key.id
    with reading() as db:
        # 200, not a redirect: the key is on this page and nowhere else, this once.
        return _page(db, made=(key_id, secret))


@bp.route("/<int:key_id>")
@requires(ConsoleRole.ADMIN)
def show(key_id: int) -> str:
    with reading() as db:
        key = key_in_scope(db, key_id, current_scope())
        if key is None:
            abort(404)  # none, or another community's: the page does not say which
        return render_template(
            "console/api_key.html",
            title=f"{TITLE} #{key.id}",
            key=key_row(db, key),
            requests=requests_of(db, key.id),
            scope_labels=SCOPE_LABELS,
            street_label=STREET_LABEL,
        )


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def revoke_key(key_id: int) -> Response:
    with writing() as db:
        key = key_in_scope(db, key_id, current_scope())
        if key is None:
            abort(404)
        done = revoke(db, key, by=_actor(), now=now())
        name = key.name
    if done:
        ok(REVOKED.format(id=key_id, name=name))
    else:
        problem(ALREADY_REVOKED.format(id=key_id, name=name))
    return redirect(url_for(".show", key_id=key_id), code=303)

"""失败消息 (/admin/inbound): residents' messages whose handling failed, and a retry.

A message whose handler raised was answered with an apology and kept (status "failed", the
error's class). Staff see when it came, from whom (masked), what it was and the error, and
may run it through the conversation again (bot/retry.py): on success its reply is pushed to
the person and whatever it causes (a ticket, pushes to staff) happens.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from models import ConsoleRole, InboundMessage
from models.inbound import failed_messages
from models.places import mask_openid
from models.scoping import inbound_community

from ..retry import Retried, retry_failed
from .access import current_scope, guard, requires
from .common import ok, problem, reading, ys
from .scope import in_scope

bp = Blueprint("console_inbound", __name__, url_prefix="/admin/inbound")
bp.before_request(guard)

# What this page says (one place).
TITLE = "失败消息"
RETRY_DONE = "消息 #{id} 已重新处理成功，回复已推送给居民。"
RETRY_DONE_SILENT = "消息 #{id} 已重新处理成功（这条消息无需回复）。"
RETRY_ERASED = "消息 #{id} 的发送者已申请删除个人信息，不能再处理。"
RETRY_GONE = "消息 #{id} 不在失败列表中（可能已被他人重试）。"
RETRY_FAILED = "消息 #{id} 重新处理仍然失败（{error}），请联系系统管理员查看日志。"
KINDS = {"text": "文字", "voice": "语音", "image": "图片", "location": "位置", "link": "链接"}


def kind_label(kind: str) -> str:
    if kind.startswith("event:"):
        return f"事件（{kind.removeprefix('event:')}）"
    return KINDS.get(kind, kind)


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.STAFF)
def index() -> str:
    with reading() as db:
        rows = failed_messages(db, community_id=current_scope().community_id)
    return render_template(
        "console/inbound.html",
        title=TITLE,
        rows=[(row, mask_openid(row.openid), kind_label(row.kind)) for row in rows],
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@requires(ConsoleRole.STAFF)
def retry(message_id: int) -> Response:
    with reading() as db:
        row = db.get(InboundMessage, message_id)
        if row is not None:
            in_scope(inbound_community(db, row))  # another community's message: 404
    result = retry_failed(ys().conversation, message_id)
    if result.outcome is Retried.DONE:
        ok((RETRY_DONE if result.replied else RETRY_DONE_SILENT).format(id=message_id))
    elif result.outcome is Retried.ERASED:
        problem(RETRY_ERASED.format(id=message_id))
    elif result.outcome is Retried.GONE:
        problem(RETRY_GONE.format(id=message_id))
    else:
        problem(RETRY_FAILED.format(id=message_id, error=result.error))
    return redirect(url_for(".index"), code=303)

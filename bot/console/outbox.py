"""待发消息 (/admin/outbox): pushes that did not go out (dead), wait (pending, held), and retry.

Counts by status, the rows newest first (keyset pages of 50), each with what the person
reads (bot.delivery.render) in a details row; a webhook delivery to a city platform shows its
event type, its URL as the recipient and the body it posts. Retrying calls models.outbox.retry, as
`yishiting outbox retry` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from models import ConsoleRole, OutboxMessage
from models.api.webhooks import WEBHOOK
from models.outbox import (
    DEAD,
    HELD,
    NEEDS_LOOK,
    PENDING,
    STATUSES,
    OutboxRow,
    counts_by_status,
    outbox_page,
    retry,
    retry_all_dead,
)
from models.places import mask_openid
from models.scoping import outbox_community

from ..delivery import UnknownKind, render
from . import people_texts as texts
from .access import current_scope, guard, requires
from .common import now, ok, problem, reading, small_int, writing
from .scope import in_scope

bp = Blueprint("console_outbox", __name__, url_prefix="/admin/outbox")
bp.before_request(guard)

PAGE = 50
WEBHOOK_TITLE = "平台推送 {type}"  # a webhook delivery's row: its event type
# The filter tabs: what each shows.
FILTERS = {"": NEEDS_LOOK, DEAD: (DEAD,), PENDING: (PENDING,), HELD: (HELD,)}


@dataclass(frozen=True)
class Shown:
    """One row as the page shows it."""

    row: OutboxRow
    recipient: str
    title: str
    text: str


def _webhook(item: OutboxRow) -> Shown:
    """A delivery to a city platform: its event type, the URL, the body as it is posted."""
    payload = item.message.payload
    try:
        body = json.dumps(json.loads(payload["body"]), ensure_ascii=False, indent=2)
    except (KeyError, TypeError, ValueError):
        body = str(payload.get("body", ""))
    title = WEBHOOK_TITLE.format(type=payload.get("type", "?"))
    return Shown(item, str(payload.get("url", "")), title, body)


def _shown(item: OutboxRow) -> Shown:
    if item.message.kind == WEBHOOK:
        return _webhook(item)
    if item.openid is None:
        recipient = "（群发）"
    else:
        masked = mask_openid(item.openid)
        recipient = f"{item.name}（{masked}）" if item.name else masked
    try:
        rendered = render(item.message.kind, dict(item.message.payload))
        title, text = rendered.title, rendered.text
    except UnknownKind:
        title, text = item.message.kind, "（无法生成这条消息的内容：类型或数据有误）"
    return Shown(item, recipient, title, text)


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    status = request.args.get("status", "")
    if status not in FILTERS:
        status = ""
    before = request.args.get("before", "")
    before_id = small_int(before)
    community_id = current_scope().community_id  # a community account: its people's rows
    with reading() as db:
        counts = counts_by_status(db, community_id)
        rows = outbox_page(
            db, FILTERS[status], before_id=before_id, limit=PAGE, community_id=community_id
        )
    return render_template(
        "console/outbox.html",
        title="待发消息",
        counts=[(s, texts.OUTBOX_STATUS_LABELS[s], counts.get(s, 0)) for s in STATUSES],
        rows=[_shown(r) for r in rows],
        status=status,
        filters=[("", "全部待处理"), *((s, texts.OUTBOX_STATUS_LABELS[s]) for s in FILTERS if s)],
        labels=texts.OUTBOX_STATUS_LABELS,
        next_before=rows[-1].message.id if len(rows) == PAGE else None,
        paged=before_id is not None,
        dead=counts.get(DEAD, 0),
        is_admin=current_user.may(ConsoleRole.ADMIN),
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def retry_one(message_id: int) -> Response:
    with writing() as db:
        # Only a dead row: a held one is waiting for the person's reply, on purpose.
        message = db.get(OutboxMessage, message_id)
        if message is not None:
            in_scope(outbox_community(db, message))  # another community's row: 404
        dead = message is not None and message.status == DEAD
        changed = retry(db, [message_id], now()) if dead else 0
    if changed:
        ok(texts.RETRIED_ONE.format(id=message_id))
    else:
        problem(texts.RETRIED_NONE.format(id=message_id))
    return redirect(url_for(".index", status=request.form.get("status", "")), code=303)


@bp.route("/retry-dead", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def retry_dead() -> Response:
    with writing() as db:
        count = retry_all_dead(db, now(), current_scope().community_id)
    if count:
        ok(texts.RETRIED_ALL.format(count=count))
    else:
        problem(texts.RETRIED_ALL_NONE)
    return redirect(url_for(".index"), code=303)

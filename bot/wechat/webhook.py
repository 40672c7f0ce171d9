"""`GET/POST /wechat`: WeChat's server endpoint.

Order: body size cap (Flask's MAX_CONTENT_LENGTH, 413) → signature (403) → decrypt in safe
mode → parse (400) → handle once → passive reply. Nothing slow happens here: pushes are sent
later by the outbox worker. Rejections are logged with the reason, never with the content.
When the database cannot store the message, it goes to the spool (bot/spool.py) and WeChat
is told `success`; the spool is replayed once the database is back.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from ..conversation import Busy
from ..extension import yishiting
from ..spool import Spool
from .inbound import BadMessage, parse_xml_message
from .protocol import InvalidSignature, signature_ok, text_reply_xml

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)

# What a database that cannot take the message raises. sqlite3's own errors: SQLite's
# `BEGIN IMMEDIATE` runs straight on the driver (bot/db.py), so a lock held past the busy
# timeout by a program other than ours arrives unwrapped.
DATABASE_DOWN = (Busy, SQLAlchemyError, sqlite3.Error)


def _reject(status: int, reason: str) -> Response:
    log.warning("wechat: %d %s (from %s)", status, reason, request.remote_addr)
    return Response(f"{reason}\n", status=status, mimetype="text/plain")


def _spool(spool: Spool, xml: bytes, exc: Exception) -> Response:
    """The database could not take the message: keep it on disk and tell WeChat `success`."""
    try:
        path = spool.write(xml)
    except OSError as error:
        why = type(exc).__name__  # never str(exc): SQL parameters hold what residents wrote
        log.error("wechat: database unavailable (%s) and spooling failed: %s", why, error)
        return _reject(503, "database unavailable; WeChat will retry")
    log.warning(
        "wechat: database unavailable (%s); message spooled as %s", type(exc).__name__, path.name
    )
    return Response("success", mimetype="text/plain")


@bp.route("/wechat", methods=["GET", "POST"])
def wechat() -> Response:
    ys = yishiting(current_app)
    token = ys.settings.wechat.token
    if not token:
        log.error("wechat: [wechat] token is empty in the config; refusing every request")
        abort(503)
    body = request.get_data(cache=False) if request.method == "POST" else b""
    timestamp = request.args.get("timestamp", "")
    nonce = request.args.get("nonce", "")
    if not signature_ok(token, timestamp, nonce, request.args.get("signature", "")):
        return _reject(403, "bad signature")
    if request.method == "GET":
        return Response(request.args.get("echostr", ""), mimetype="text/plain")

    encrypted = request.args.get("encrypt_type", "raw").lower() == "aes"
    try:
        if encrypted:
            if ys.safe_mode is None:
                return _reject(400, "encrypted message but [wechat] encoding_aes_key is empty")
            xml = ys.safe_mode.decrypt(
                body, request.args.get("msg_signature", ""), timestamp, nonce
            )
        else:
            xml = body
        message = parse_xml_message(xml)
    except InvalidSignature as exc:
        return _reject(403, str(exc))
    except BadMessage as exc:
        return _reject(400, str(exc))

    spool: Spool = current_app.extensions["yishiting.spool"]
    spool.ensure_replaying()
    try:
        outcome = ys.conversation.handle(message)
    except DATABASE_DOWN as exc:
        return _spool(spool, xml, exc)
    if not outcome.reply:
        return Response("success", mimetype="text/plain")
    reply = text_reply_xml(outcome.reply, to_user=message.sender, from_account=message.account)
    if encrypted and ys.safe_mode is not None:
        reply = ys.safe_mode.encrypt(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")

"""`GET/POST /wechat`: WeChat's server endpoint.

Order: body size cap (Flask's MAX_CONTENT_LENGTH, 413) → signature (403) → decrypt in safe
mode → parse (400) → handle once → passive reply. Nothing slow happens here: pushes are sent
later by the outbox worker. Rejections are logged with the reason, never with the content.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from ..conversation import Busy
from ..extension import yishiting
from .inbound import BadMessage, parse_xml_message
from .protocol import InvalidSignature, signature_ok, text_reply_xml

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)


def _reject(status: int, reason: str) -> Response:
    log.warning("wechat: %d %s (from %s)", status, reason, request.remote_addr)
    return Response(f"{reason}\n", status=status, mimetype="text/plain")


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

    try:
        outcome = ys.conversation.handle(message)
    except Busy:
        return _reject(503, "database busy; WeChat will retry")
    if not outcome.reply:
        return Response("success", mimetype="text/plain")
    reply = text_reply_xml(outcome.reply, to_user=message.sender, from_account=message.account)
    if encrypted and ys.safe_mode is not None:
        reply = ys.safe_mode.encrypt(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")

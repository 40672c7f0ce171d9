"""`GET/POST /wechat/<name>` (and `/wechat`): WeChat's server endpoint, one per account.

Each `[[accounts]]` entry is served at `/wechat/<name>`, with its own token, AES key and
AppID; an unknown name is a 404. `/wechat` serves the deployment's account when it has exactly
one (a config with the legacy `[wechat]` table, whose account is also `/wechat/default`); with
several it is a 404, since a message there could not say which account it was sent to (an
admin who left WeChat's server URL at /wechat sees the server check fail at once).

Order: body size cap (Flask's MAX_CONTENT_LENGTH, 413) → signature, timestamp within
`[wechat] max_clock_skew_seconds` of our clock (403) → plaintext refused when an
EncodingAESKey is set, unless `accept_plaintext` (403) → decrypt in safe mode → parse and
field checks (400) → handle once, recording the (timestamp, nonce) pair in the message's
transaction (a pair reused with another body: 403) → passive reply. Nothing slow happens
here: pushes are sent later by the outbox worker. Rejections are logged with the reason,
never with the content.

WeChat gives up after 5 s, so every request is answered within REQUEST_BUDGET: the database
work runs against a deadline (waits for the write turn and SQLite's busy timeout are cut
to what is left), and when the database cannot store the message in time, or at all, it
goes to the spool (bot/spool.py) and WeChat is told `success`; the spool is replayed once
the database is back.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import (
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from werkzeug.datastructures import MultiDict

from models.seen import record_seen

from ..config import Account
from ..conversation import Busy, Delivery, Replayed
from ..extension import Yishiting, yishiting
from ..spool import Spool
from ..writelock import DatabaseBusy
from .inbound import BadMessage, on_account, parse_xml_message
from .protocol import (
    InvalidSignature,
    SafeMode,
    signature_ok,
    text_reply_xml,
    timestamp_problem,
)

log = logging.getLogger(__name__)

bp = Blueprint("wechat", __name__)

# What a database that cannot take the message raises. sqlite3's own errors: SQLite's
# `BEGIN IMMEDIATE` runs straight on the driver (bot/db.py), so a lock held past the busy
# timeout by a program other than ours arrives unwrapped.
DATABASE_DOWN = (Busy, DatabaseBusy, SQLAlchemyError, sqlite3.Error)
# Of those, the ones that mean "unreachable or locked: try again later" when the spool is
# replayed; any other error sets the spooled message aside at once (bot/spool.py).
DATABASE_UNREACHABLE = (
    Busy,
    DatabaseBusy,
    OperationalError,
    InterfaceError,
    DisconnectionError,
    sqlite3.OperationalError,
)
# Seconds from the request's arrival to the end of the database work; spooling and the
# answer fit in what is left of WeChat's 5 s (and the 4.5 s this service promises).
REQUEST_BUDGET = 3.5


def _reject(status: int, reason: str) -> Response:
    log.warning("wechat: %d %s (from %s)", status, reason, request.remote_addr)
    return Response(f"{reason}\n", status=status, mimetype="text/plain")


def _spool(
    spool: Spool, xml: bytes, exc: Exception, delivery: Delivery, account: Account
) -> Response:
    """The database could not take the message: keep it on disk (with the account it came
    in on, so the replay handles it as that account's) and tell WeChat `success`."""
    try:
        path = spool.write(xml, (delivery.timestamp, delivery.nonce), account=account.stored_name)
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
    """The only account's endpoint; 404 when the deployment serves several."""
    deadline = time.monotonic() + REQUEST_BUDGET
    ys = yishiting(current_app)
    accounts = ys.settings.accounts
    if len(accounts) != 1:
        abort(404)
    return _serve(ys, accounts[0], deadline)


@bp.route("/wechat/<name>", methods=["GET", "POST"])
def wechat_account(name: str) -> Response:
    deadline = time.monotonic() + REQUEST_BUDGET
    ys = yishiting(current_app)
    account = ys.settings.account(name)
    if account is None:
        abort(404)
    return _serve(ys, account, deadline)


def _serve(ys: Yishiting, account: Account, deadline: float) -> Response:
    if not account.token:
        log.error("wechat: %s token is empty in the config; refusing every request", account.label)
        abort(503)
    safe_mode = ys.safe_modes.get(account.name)
    # The request's parts are read once: each `request.…` goes through Flask's context proxy.
    args, method = request.args, request.method
    body = request.get_data(cache=False) if method == "POST" else b""
    encrypted = args.get("encrypt_type", "raw").lower() == "aes"
    refused = _untrusted(ys, account.token, safe_mode, args, method, encrypted)
    if refused:
        return _reject(403, refused)
    if method == "GET":
        _remember_get(ys, deadline, args)
        return Response(args.get("echostr", ""), mimetype="text/plain")
    timestamp, nonce = args["timestamp"], args["nonce"]
    try:
        xml = _plain_xml(safe_mode, body, encrypted, timestamp, nonce, args)
        message = on_account(parse_xml_message(xml), account)
    except InvalidSignature as exc:
        return _reject(403, str(exc))
    except BadMessage as exc:
        return _reject(400, str(exc))

    spool: Spool = current_app.extensions["yishiting.spool"]
    spool.ensure_replaying()
    # The decrypted XML is hashed: a retry carries the same message whatever its encryption.
    delivery = Delivery(int(timestamp), nonce, hashlib.sha256(xml).hexdigest())
    waiting = spool.holding(delivery.timestamp, delivery.nonce)
    if waiting:  # the pair's message waits in the spool: WeChat again, or a forgery
        if any(hashlib.sha256(p.read_bytes()).hexdigest() == delivery.body_hash for p in waiting):
            return Response("success", mimetype="text/plain")
        return _reject(403, "timestamp and nonce already used with another message")
    try:
        outcome = ys.conversation.handle(message, delivery=delivery, deadline=deadline)
    except Replayed:
        return _reject(403, "timestamp and nonce already used with another message")
    except DATABASE_DOWN as exc:
        return _spool(spool, xml, exc, delivery, account)
    if not outcome.reply:
        return Response("success", mimetype="text/plain")
    reply = text_reply_xml(outcome.reply, to_user=message.sender, from_account=message.account)
    if encrypted and safe_mode is not None:
        reply = safe_mode.encrypt(reply, nonce, timestamp)
    return Response(reply, mimetype="application/xml")


# What a GET's pair is recorded with: no message hashes to it, so a POST reusing the pair of
# a logged GET URL (the server check with its echostr) is refused as a replay.
GET_MARK = "GET"


def _remember_get(ys: Yishiting, deadline: float, args: MultiDict[str, str]) -> None:
    """Record a GET's (timestamp, nonce): its signed URL is as good as a POST's in plain mode."""
    timestamp, nonce = int(args["timestamp"]), args["nonce"]
    try:
        with ys.db.transaction(deadline=deadline) as conn:
            record_seen(conn, timestamp=timestamp, nonce=nonce, body_hash=GET_MARK)
    except IntegrityError:
        pass  # the same check again: recorded already
    except DATABASE_DOWN as exc:  # the check still answers; the pair's window is short
        log.warning("wechat: a GET's pair not recorded (%s)", type(exc).__name__)


def _untrusted(
    ys: Yishiting,
    token: str,
    safe_mode: SafeMode | None,
    args: MultiDict[str, str],
    method: str,
    encrypted: bool,
) -> str | None:
    """Why the request cannot be trusted (a 403's reason), None when it can: the signature
    (with the account's token), the timestamp's distance from our clock, the nonce, and in
    safe mode a plaintext body."""
    settings = ys.settings.wechat  # the clock skew and plaintext rules are deployment-wide
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    if not signature_ok(token, timestamp, nonce, args.get("signature", "")):
        return "bad signature"
    now = ys.conversation.clock().timestamp()
    stale = timestamp_problem(timestamp, nonce, now, settings.max_clock_skew_seconds)
    if stale or method == "GET":
        return stale
    if not encrypted and safe_mode is not None and not settings.accept_plaintext:
        return "plaintext refused: safe mode is on ([wechat] accept_plaintext)"
    return None


def _plain_xml(
    safe_mode: SafeMode | None,
    body: bytes,
    encrypted: bool,
    timestamp: str,
    nonce: str,
    args: MultiDict[str, str],
) -> bytes:
    """The message's XML: the body, or in safe mode what it decrypts to."""
    if not encrypted:
        return body
    if safe_mode is None:
        raise BadMessage("encrypted message but the account's encoding_aes_key is empty")
    return safe_mode.decrypt(body, args.get("msg_signature", ""), timestamp, nonce)

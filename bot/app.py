"""Yishiting's application: `create_app(settings)` builds everything; importing does nothing."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, redirect, request, url_for
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as WerkzeugResponse

from handlers import Options, Router, build_router

from .classify import RuleBook
from .config import Settings, load_settings, refuse_unsafe_start
from .conversation import Conversation
from .db import Database
from .extension import Yishiting
from .filing import policy_from
from .nlp import load_segmenter
from .sessions import ConsoleOnlySessions
from .spool import Spool, spool_folder
from .wechat.protocol import SafeMode

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings | None = None,
    *,
    router: Router | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Flask:
    """Build the web application. The database engine is created on first use."""
    settings = settings or load_settings()
    refuse_unsafe_start(settings)  # production: no example secret, no empty token
    app = Flask(__name__)
    https = settings.app.public_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.app.secret_key,
        MAX_CONTENT_LENGTH=settings.webhook.max_body_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
    )
    app.session_interface = ConsoleOnlySessions()
    proxies = settings.web.trusted_proxies
    if https and not proxies:
        # Before [web] trusted_proxies, an https public_url meant "trust one proxy".
        log.warning(
            "[app] public_url is https but [web] trusted_proxies = 0: behind a reverse proxy, "
            "set it to the number of proxies, or every client has the proxy's address"
        )
    if proxies:
        # Only the proxies the admin declared: their X-Forwarded-For gives the client's address
        # (login throttling counts per address) and X-Forwarded-Proto the scheme. Without them
        # a client could name any address it likes, so nothing is trusted by default.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    load_segmenter()
    db = Database(settings, background_checkpoints=True)
    safe_modes = {
        a.name: SafeMode(a.token, a.encoding_aes_key, a.app_id)
        for a in settings.accounts
        if a.safe_mode
    }
    conversation = build_conversation(settings, db, clock, router)
    rulebook = conversation.rulebook
    app.extensions["yishiting.spool"] = _spool(settings, conversation)
    app.extensions["yishiting"] = Yishiting(
        settings=settings,
        db=db,
        conversation=conversation,
        rulebook=rulebook,
        safe_modes=safe_modes,
    )

    from . import health, public
    from .api import init_api
    from .console import exempt_from_csrf, init_console
    from .metrics import init_metrics
    from .wechat import webhook

    app.register_blueprint(webhook.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)  # 公示 pages at /p/<token>: public, not the console's
    # /api/v1, /api/docs, /open311/v2: city platforms, with keys (no cookies, so no CSRF)
    for blueprint in init_api(app):
        exempt_from_csrf(blueprint)
    init_metrics(app)  # /metrics and request counting, only with [metrics] enabled
    init_console(app, development=settings.app.mode == "development")
    exempt_from_csrf(webhook.bp)
    _register_error_handlers(app)
    app.after_request(_security_headers)
    app.add_url_rule("/", "root", _to_console)
    return app


# No page of ours is meant to be framed by another site (clickjacking the console's buttons);
# scripts are left alone: the console and the simulator load their own and inline ones.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


_SECURITY_ITEMS = list(SECURITY_HEADERS.items())


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # Every response passes here, the webhook's too: one look for a page's own policy (the
    # media route's CSP), else the four added at once (setdefault would scan for each).
    if "Content-Security-Policy" in headers or "X-Frame-Options" in headers:
        for name, value in _SECURITY_ITEMS:
            headers.setdefault(name, value)
    else:
        headers.extend(_SECURITY_ITEMS)
    return response


def _to_console() -> WerkzeugResponse:
    """The site's root is nothing to read: the console is what a person looks for."""
    return redirect(url_for("console_dashboard.index"))


def _spool(settings: Settings, conversation: Conversation) -> Spool:
    """Messages the database could not take wait here (bot/spool.py); replayed through the
    conversation as if WeChat delivered them again."""
    from .receipts import Delivery
    from .wechat.inbound import on_account, parse_xml_message
    from .wechat.webhook import DATABASE_UNREACHABLE

    def handle(body: bytes, pair: tuple[int, str] | None, account: str | None) -> None:
        # The pair the request was signed with is recorded now, as it would have been live;
        # the message is the account's it came in on (a removed account's: the first one's).
        delivery = Delivery(pair[0], pair[1], hashlib.sha256(body).hexdigest()) if pair else None
        received = settings.account(account) if account else None
        conversation.handle(on_account(parse_xml_message(body), received), delivery=delivery)

    return Spool(spool_folder(settings), handle, DATABASE_UNREACHABLE)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        from .api.problems import api_error, is_api_path
        from .console import console_error, is_console_request

        if is_console_request():
            return console_error(exc)
        if is_api_path(request.path):
            return api_error(exc)
        return Response(f"{exc.code} {exc.name}\n", status=exc.code or 500, mimetype="text/plain")

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError) -> Response:
        from werkzeug.exceptions import ServiceUnavailable

        from .api.problems import api_error, is_api_path

        log.error("database unavailable: %s", type(exc.orig).__name__)
        if is_api_path(request.path):  # a platform retries on a 503 it can read
            return api_error(ServiceUnavailable())
        return Response("503 database unavailable\n", status=503, mimetype="text/plain")


def build_conversation(
    settings: Settings,
    db: Database,
    clock: Callable[[], datetime],
    router: Router | None = None,
) -> Conversation:
    """The conversation service as the webhook uses it (the tests' harness builds the same)."""
    rulebook = RuleBook(
        db,
        threshold=settings.classifier.threshold,
        margin=settings.classifier.margin,
        reload_seconds=settings.classifier.reload_seconds,
        model_threshold=settings.classifier.model_threshold,
        model_margin=settings.classifier.model_margin,
        model_override=settings.classifier.model_override,
    )
    options = Options(
        min_chars=settings.tickets.min_chars,
        attach_minutes=settings.tickets.attach_minutes,
        choice_minutes=settings.tickets.choice_minutes,
        rating_days=settings.tickets.rating_days,
        followup_days=settings.tickets.followup_days,
        review_days=settings.deliberation.review_days,
        ladder=settings.ladder,
        per_minute=settings.abuse.per_minute,
        per_day=settings.abuse.per_day,
        intake=policy_from(settings),
        backing_unit=settings.deliberation.backing_unit,
        backing_threshold=settings.deliberation.backing_threshold,
    )
    return Conversation(db, router or build_router(), clock, rulebook, options, settings.tz)

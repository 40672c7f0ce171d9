"""Who is calling, and may they: API keys, scopes, the per-key rate limit and the audit.

Every route of the API declares the scope it needs with `@needs(scope)` (None: any valid
key). Before the route runs, `check_request` finds the key (`Authorization: Bearer KEY`, or
Open311's `api_key` parameter) and answers 401 (no key, an unknown or a revoked one), 429
(over [api] rate_limit_per_minute) or 403 (a scope the key lacks). After it, `audit` records
the key, the route and the status, and when the key was last used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from models.api.audit import audit_request, door
from models.api.keys import Caller

from ..extension import yishiting
from . import texts
from .problems import problem

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
ANY_KEY = "any"  # a route any valid key may call


def needs(scope: str) -> Callable[[F], F]:
    """Declare the scope a route needs (`ANY_KEY`: any valid key)."""

    def mark(view: F) -> F:
        view.api_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def scope_of(endpoint: str | None) -> str | None:
    """The scope the route behind `endpoint` declared (None: not an authenticated route)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "api_scope", None)


def caller() -> Caller:
    """The key of the request being answered (set by `check_request`)."""
    found: Caller = g.api_caller
    return found


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    return secret.strip() or None if kind.lower() == "bearer" else None


def check_request(secret: str | None) -> Response | None:
    """Find the key and check it may make this request; a problem response if not."""
    scope = scope_of(request.endpoint)
    if scope is None:
        return None  # not an API route of ours (a 404 or 405 to come)
    g.api_key_id = None
    if not secret:
        return problem(401, texts.NO_KEY)
    ys = yishiting(current_app)
    now = ys.conversation.clock()
    with ys.db.reading() as conn:
        found = door(conn, secret, now)
    if found is None:
        return problem(401, texts.UNKNOWN_KEY)
    g.api_key_id = found.key_id
    if found.revoked_at is not None:
        at = found.revoked_at.astimezone(ys.settings.tz).strftime("%Y-%m-%d %H:%M")
        return problem(401, texts.REVOKED_KEY.format(at=at))
    limit = ys.settings.api.rate_limit_per_minute
    if found.recent >= limit and found.oldest is not None:
        wait = max(1, math.ceil(60 - (now - found.oldest).total_seconds()))
        refused = problem(429, texts.RATE_LIMITED.format(limit=limit, seconds=wait))
        refused.headers["Retry-After"] = str(wait)
        return refused
    if scope != ANY_KEY and scope not in found.scopes:
        return problem(403, texts.MISSING_SCOPE.format(scope=scope))
    g.api_caller = Caller(found.key_id, found.name, found.scopes, found.community_id)
    return None


def audit(response: Response) -> Response:
    """Record the request (its key, route and status) and when the key was last used."""
    if not hasattr(g, "api_key_id"):
        return response  # not an API route: nothing was asked of a key
    ys = yishiting(current_app)
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    try:
        with ys.db.transaction() as conn:
            audit_request(
                conn,
                key_id=g.api_key_id,
                method=request.method,
                route=rule,
                status=response.status_code,
                now=ys.conversation.clock(),
            )
    except OperationalError:
        # The database is down (the answer is most likely its 503): the answer still goes.
        log.warning(
            "API request not audited: the database is unavailable (%s %s)", request.method, rule
        )
    return response

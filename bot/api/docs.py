"""The API described: the OpenAPI 3.1 document at /api/v1/openapi.json (spectree makes it from
the routes' schemas; `openapi_document` adds what spectree does not say), and a page for
people at /api/docs that works offline: server-rendered HTML, no script, nothing from a CDN.
Neither needs a key."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, render_template

from models.api.keys import SCOPES
from models.api.webhooks import EVENT_TYPES

from ..extension import yishiting
from .auth import ANY_KEY
from .blueprint import bp, spec
from .docs_page import page_of
from .problems import PROBLEM_JSON

pages = Blueprint("api_docs", __name__, url_prefix="/api")
SCOPE = "x-scope"  # an operation's extension: the scope a key needs ("any": any key)
_PARAMETER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")  # Flask's <int:number> → {number}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document: spectree's, with refusals typed application/problem+json and
    each operation's scope as `x-scope` (what /api/docs shows as 所需权限)."""
    return _document(id(spec.spec))


@cache
def _document(_: int) -> dict[str, Any]:
    document = copy.deepcopy(spec.spec)
    scopes = _scopes()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code.isdigit() and int(code) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
            # The scope the key needs (auth.py `needs`): "any" is any valid key.
            if (path, method) in scopes:
                operation[SCOPE] = scopes[path, method]
    return document


def _scopes() -> dict[tuple[str, str], str]:
    """The scope each route declared, by its document path and method."""
    found = {}
    for rule in current_app.url_map.iter_rules():
        scope = getattr(current_app.view_functions.get(rule.endpoint), "api_scope", None)
        if scope is None:
            continue
        path = _PARAMETER.sub(r"{\1}", rule.rule)
        for method in rule.methods or ():
            found[path, method.lower()] = scope
    return found


@bp.get("/openapi.json")
def openapi_json() -> Response:
    body = json.dumps(openapi_document(), ensure_ascii=False)
    return Response(body, mimetype="application/json")


@pages.get("/docs")
def docs_page() -> Response:
    """The API for people: every operation of the document, and what the document cannot say
    (the key, problems, pages, webhooks, Open311). No script, nothing from outside."""
    ys = yishiting(current_app)
    open311 = sorted(
        (rule.rule, sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        for rule in current_app.url_map.iter_rules()
        if rule.rule.startswith("/open311/")
    )
    body = render_template(
        "api/docs.html",
        page=page_of(openapi_document()),
        scopes=SCOPES,
        any_key=ANY_KEY,
        api=ys.settings.api,
        events=EVENT_TYPES,
        open311=open311,
    )
    return Response(body, mimetype="text/html")

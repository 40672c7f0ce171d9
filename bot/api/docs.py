"""The API described: the OpenAPI 3.1 document at /api/v1/openapi.json (spectree makes it from
the routes' schemas; `openapi_document` adds what spectree does not say), and a page for
people at /api/docs that works offline: server-rendered HTML, no script, nothing from a CDN.
Neither needs a key."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from flask import Blueprint, Response

from .blueprint import bp, spec
from .problems import PROBLEM_JSON

pages = Blueprint("api_docs", __name__, url_prefix="/api")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document: spectree's, with refusals typed application/problem+json."""
    return _document(id(spec.spec))


@cache
def _document(_: int) -> dict[str, Any]:
    document = copy.deepcopy(spec.spec)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code.isdigit() and int(code) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return document


@bp.get("/openapi.json")
def openapi_json() -> Response:
    body = json.dumps(openapi_document(), ensure_ascii=False)
    return Response(body, mimetype="application/json")


# -- /api/docs (helper: docs) ---------------------------------------------------------------

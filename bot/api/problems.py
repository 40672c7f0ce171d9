"""Problem details (RFC 9457): every refusal of the API is a JSON body a machine can read and a
person can understand — `type` (about:blank: the status says it), `title` (the status's
phrase), `status`, and `detail` in Chinese for the platform's staff; validation errors add
`errors`, one entry per field. Words are in bot/api/texts.py."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
OPEN311 = "/open311/"  # GeoReport v2 refuses in its own shape (open311_error)


def problem(status: int, detail: str, **extra: Any) -> Response:
    """A problem response with `status` and `detail` (and any extension members)."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)


def not_json() -> Response:
    """A JSON route sent a form body (spectree validates JSON bodies only, and leaves the
    route none): 400, asking for JSON, in the shape of every validation error."""
    from . import texts

    return problem(400, texts.INVALID, errors=[{"field": "body", "message": texts.JSON_BODY}])


def open311_error(status: int, description: str) -> Response:
    """A refusal as Open311 GeoReport v2 gives it: a JSON array of {code, description}."""
    body = [{"code": status, "description": description}]
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )


def api_error(exc: HTTPException) -> Response:
    """An HTTP error on an API path (an unknown route, a wrong method, a body too large):
    a problem body, or under /open311/ GeoReport's own error array."""
    from . import texts

    status = exc.code or 500
    known = {
        404: texts.NOT_FOUND,
        405: texts.METHOD,
        413: texts.TOO_LARGE,
        500: texts.SERVER,
        503: texts.UNAVAILABLE,
    }
    detail = known.get(status)
    detail = detail or exc.description or HTTPStatus(status).phrase
    shape = open311_error if request.path.startswith(OPEN311) else problem
    refused = shape(status, detail)
    if status == 405 and exc.get_response().headers.get("Allow"):
        refused.headers["Allow"] = exc.get_response().headers["Allow"]
    return refused


def is_api_path(path: str) -> bool:
    """Requests the API answers with problems instead of text or console pages."""
    return path == "/api" or path.startswith(("/api/", "/open311/"))

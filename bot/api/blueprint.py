"""The /api/v1 blueprint and the SpecTree that validates its routes and makes the OpenAPI
document; before every route, the key is checked (auth.py), after it, the request audited."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from werkzeug.wrappers import Response

from . import texts
from .problems import problem

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _problem_on_invalid(
    req: Any, resp: Any, req_validation_error: Any, instance: Any, *_: Any
) -> None:
    """spectree's hook before a route runs: a request it found invalid is refused with a
    problem body naming each field, instead of pydantic's own list."""
    if req_validation_error is None or resp is None:
        return
    errors = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())) or "body",
            "message": str(error.get("msg", "")),
        }
        for error in req_validation_error.errors()
    ]
    refused = problem(400, texts.INVALID, errors=errors)
    resp.set_data(refused.get_data())
    resp.status_code = 400
    resp.mimetype = refused.mimetype


spec = SpecTree(
    "flask",
    title="议事厅 Yishiting API",
    version="1",
    description="社区诉求、议题与投票的开放接口（12345、网格化管理平台等）。",
    validation_error_status=400,
    before=_problem_on_invalid,
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"),
        ),
    ],
    security={"bearer": []},
    annotations=False,
    mode="strict",  # only the routes it validates: not the webhook's, not the console's
)


@bp.before_request
def _check() -> Response | None:
    from .auth import bearer_secret, check_request

    return check_request(bearer_secret())


@bp.after_request
def _audit(response: Response) -> Response:
    from .auth import audit

    return audit(response)

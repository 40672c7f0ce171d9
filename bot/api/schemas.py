"""The API's shared schemas (pydantic): they validate requests and make the OpenAPI document.

Each resource's own schemas live next to its routes (tickets.py, catalog.py, …); what every
route shares is here: the problem body and `answers`, which documents a route's success and
the refusals every route can give.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from spectree import Response


class Problem(BaseModel):
    """A refusal (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="about:blank：状态码即类型")
    title: str = Field(description="HTTP 状态短语")
    status: int
    detail: str = Field(description="中文说明")


class FieldError(BaseModel):
    field: str = Field(description="出错的字段（参数或请求体字段名），如 text、limit")
    message: str


class Invalid(Problem):
    """A request that does not match the document: which fields, and why."""

    errors: list[FieldError]


# Every authenticated route can answer these.
REFUSALS: dict[str, Any] = {
    "HTTP_400": Invalid,
    "HTTP_401": Problem,
    "HTTP_403": Problem,
    "HTTP_429": Problem,
}


def answers(*codes: str, **models: Any) -> Response:
    """The responses of a route: its successes (`HTTP_200=Model`), the refusals every route
    can give, and `codes` it can answer with a problem too ("HTTP_404", "HTTP_409")."""
    return Response(*codes, **REFUSALS, **models)

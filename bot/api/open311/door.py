"""The door of /open311/v2: the blueprint, its parameters (query string, form or JSON body,
as GeoReport clients send them), its key check, its audit, and its refusals in GeoReport's
own shape — a JSON array `[{"code": 400, "description": "…"}]`, never a problem body.

The key is Open311's `api_key` parameter (or `Authorization: Bearer`), checked by auth.py's
`check_request` like every /api/v1 request: the same 401/403/429, the same rate limit, the
same audit row; only the body is translated. `services.json` is open discovery (GeoReport
lists services without a key, and our topics are no secret): without a key it is answered
and audited as keyless; with one, the key is checked as anywhere else.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from models.api.keys import Caller
from models.communities import NAME_MAX, Community, community_by_name

from .. import texts
from ..auth import audit, bearer_secret, check_request
from ..problems import open311_error

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMAT = "json"  # GeoReport also offers .xml; we answer it with a 400 naming .json
KEYLESS = frozenset({"open311.services"})  # endpoints a request without a key may read
# The parameters any route reads (JSON bodies may send numbers: they are read as text).
PARAMETERS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "description",
        "address_string",
        "phone",
        "lat",
        "long",
        "service_request_id",
        "start_date",
        "end_date",
        "status",
    }
)
LISTS = frozenset({"service_request_id", "service_code", "status"})


class Refused(Exception):
    """A request GeoReport's way refuses: `status` and the Chinese `description`."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> Response:
    return open311_error(exc.status, exc.description)


def answer(body: Any) -> Response:
    """A 200 with `body` as GeoReport's JSON (UTF-8, Chinese as written)."""
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def parameters() -> dict[str, str]:
    """The request's parameters: the query string, then a form or a JSON object body (its
    numbers read as text); blank values count as not given."""
    given: dict[str, Any] = _fields(request.args)
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Refused(400, texts.O311_BAD_BODY)
        given.update(body)
    else:
        given.update(_fields(request.form))
    found: dict[str, str] = {}
    for name in PARAMETERS & given.keys():
        value = given[name]
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            raise Refused(400, texts.O311_NOT_TEXT.format(name=name))
        if value is not None and str(value).strip():
            found[name] = _storable(name, str(value))
    return found


def _storable(name: str, value: str) -> str:
    """`value` if it is UTF-8 text: JSON may escape half a surrogate pair (\\ud800), which
    no database (nor a key's digest) takes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(400, texts.O311_BAD_CHARACTERS.format(name=name)) from None
    return value


def _fields(values: MultiDict[str, str]) -> dict[str, Any]:
    """A query string's or a form's fields; a list GeoReport lets a client repeat
    (`status=open&status=closed`) is read as its comma-separated form."""
    return {
        name: ",".join(sent) if name in LISTS else sent[0] for name, sent in values.lists() if sent
    }


def key() -> Caller | None:
    """The key of the request (None: a keyless request to an open route)."""
    found: Caller | None = g.get("api_caller")
    return found


def jurisdiction(db: Session, name: str | None, caller: Caller | None) -> int | None:
    """The community a request is about: `jurisdiction_id` (a community's name) when given,
    else the key's (None: the whole street). A community key naming another is refused."""
    if name is None:
        return caller.community_id if caller is not None else None
    found = community_by_name(db, name) if len(name.strip()) <= NAME_MAX else None
    if found is None:
        raise Refused(404, texts.O311_UNKNOWN_JURISDICTION.format(value=name.strip()[:40]))
    if caller is not None and caller.community_id not in (None, found.id):
        own = db.get(Community, caller.community_id)
        raise Refused(403, texts.OTHER_COMMUNITY.format(community=own.name if own else ""))
    return found.id


def several_communities(db: Session) -> bool:
    return (db.scalar(select(func.count()).select_from(Community)) or 0) > 1


def _secret() -> str | None:
    """Open311's `api_key` parameter, else the bearer header. Read on its own: a body with
    another field the route refuses still carries its key (the route then names the field,
    instead of a 401 saying the key is missing)."""
    sent: Any = request.args.get("api_key")
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "api_key" in body:
            sent = body["api_key"]
    elif "api_key" in request.form:
        sent = request.form["api_key"]
    if isinstance(sent, str) and sent.strip():
        return _storable("api_key", sent.strip())
    return bearer_secret()


@bp.before_request
def _check() -> Response | None:
    fmt = (request.view_args or {}).get("fmt")
    if fmt is not None and fmt != FORMAT:
        return open311_error(400, texts.O311_FORMAT.format(fmt=fmt[:20]))
    secret = _secret()
    if secret is None and request.endpoint in KEYLESS:
        g.api_key_id = None  # audited, as a keyless request
        return None
    refused = check_request(secret)
    return None if refused is None else _translated(refused)


def _translated(refused: Response) -> Response:
    """auth.py's problem as GeoReport's error, its status and Retry-After kept."""
    detail = json.loads(refused.get_data()).get("detail", "")
    if detail == texts.NO_KEY:
        detail = texts.O311_NO_KEY
    shaped = open311_error(refused.status_code, detail)
    if "Retry-After" in refused.headers:
        shaped.headers["Retry-After"] = refused.headers["Retry-After"]
    return shaped


@bp.after_request
def _audit(response: Response) -> Response:
    return audit(response)

"""The open API for city platforms (12345, grid platforms, Open311 tools).

- `/api/v1`: JSON, described by the OpenAPI 3.1 document at `/api/v1/openapi.json`, made by
  spectree from the same pydantic schemas that validate each request; a readable page at
  `/api/docs` (docs.py; no script, nothing from a CDN).
- `/open311/v2`: Open311 GeoReport v2 (open311.py).
Keys, scopes, the rate limit and the audit: auth.py. Refusals: problems.py (RFC 9457).
Every route module adds its routes to `bp` (blueprint.py; Open311 and the docs page have
their own) when `init_api` imports it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask
from flask.json.provider import DefaultJSONProvider


class BoundedJSON(DefaultJSONProvider):
    """Flask's JSON, except that a body nested past the decoder's depth (30 000 brackets fit
    in the body limit) is malformed JSON — a ValueError, which `get_json` answers as bad
    input (spectree's and Open311's 400) — instead of a RecursionError and a 500; and
    answers keep Chinese as written and fields in their schema's order, as the bodies made
    with json.dumps (a ticket filed, a webhook delivery) do."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def init_api(app: Flask) -> list[Blueprint]:
    """Register the API's blueprints (each module adds its routes when imported); returns
    them, for the console's CSRF protection to leave alone (a key is no cookie)."""
    from . import agenda, catalog, docs, open311, subscriptions, tickets
    from .blueprint import bp

    del agenda, catalog, subscriptions, tickets  # their routes are on `bp`
    app.json = BoundedJSON(app)
    blueprints = [bp, docs.pages, open311.bp]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return blueprints

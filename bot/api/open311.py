"""Open311 GeoReport v2 at /open311/v2: services are the topics, requests are tickets,
jurisdiction_id is a community; the key comes as the `api_key` parameter."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

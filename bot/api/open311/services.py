"""GET /open311/v2/services.json: the topics, as GeoReport services.

`service_code` is the topic's id as text: stable when the topic's name is changed, and plain
ASCII in a form field or a query string, as GeoReport clients treat it (an opaque code). The
name is `service_name`; `keywords` are its enabled keywords (street-wide, and the
community's own when a community is asked for), which help a client's users find it.
Every service is "realtime" (a POST files a ticket at once) with no extra attributes.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.rules import INCLUDE
from models.topics import KeywordRule, Topic, enabled_topics

from ...extension import yishiting
from .. import texts
from ..auth import ANY_KEY, needs
from .door import answer, bp, jurisdiction, key, parameters


@bp.get("/services.<fmt>", endpoint="services")
@needs(ANY_KEY)  # and none: the door lets a keyless request in (open discovery)
def list_services(fmt: str) -> Response:
    """The topics enabled in `jurisdiction_id` (a community's name; default: the key's
    community, else the street's)."""
    given = parameters()
    with yishiting(current_app).db.session(read_only=True) as db:
        community_id = jurisdiction(db, given.get("jurisdiction_id"), key())
        topics = enabled_topics(db, community_id)
        keywords = _keywords(db, [t.id for t in topics], community_id)
        return answer([_service(t, keywords.get(t.id, [])) for t in topics])


def _service(topic: Topic, keywords: list[str]) -> dict[str, Any]:
    return {
        "service_code": str(topic.id),
        "service_name": topic.name,
        "description": topic.description,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": texts.O311_GROUP,
    }


def _keywords(db: Session, topic_ids: list[int], community_id: int | None) -> dict[int, list[str]]:
    """Each topic's enabled include keywords, street-wide and the community's own."""
    whose: ColumnElement[bool] = KeywordRule.community_id.is_(None)
    if community_id is not None:
        whose = or_(whose, KeywordRule.community_id == community_id)
    rows = db.execute(
        select(KeywordRule.topic_id, KeywordRule.keyword)
        .where(
            KeywordRule.topic_id.in_(topic_ids),
            KeywordRule.enabled,
            KeywordRule.kind == INCLUDE,
            whose,
        )
        .order_by(KeywordRule.id)
    )
    found: dict[int, list[str]] = {}
    for topic_id, keyword in rows:
        if keyword not in found.setdefault(topic_id, []):
            found[topic_id].append(keyword)
    return found

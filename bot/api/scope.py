"""Which community a request names, and whether its key may: one rule for the /api/v1 routes
(Open311 answers in its own order and shape: open311/door.py `jurisdiction`).

No name: the key's own community (a street key: None, everywhere). A community's key naming
another community, or a name nobody has, is refused 403 naming its own; a street key naming
a name nobody has gets what the route decides (`unknown`): a 400 for a filter of places, a
422 for an order, an empty list for a ticket filter."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api.keys import Caller
from models.communities import Community, community_by_name

from . import texts
from .problems import problem


def community_named(
    db: Session, name: str | None, who: Caller, unknown: Callable[[str], int | Response]
) -> int | None | Response:
    """The id of the community `name` names, as the key `who` may name it (see above)."""
    if name is None:
        return who.community_id
    found = community_by_name(db, name)
    if who.community_id is not None and (found is None or found.id != who.community_id):
        own = community_of(db, who.community_id)
        return problem(403, texts.OTHER_COMMUNITY.format(community=own))
    if found is None:
        return unknown(name)
    return found.id


def community_of(db: Session, community_id: int) -> str:
    found = db.get(Community, community_id)
    return found.name if found is not None else str(community_id)

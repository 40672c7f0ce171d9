"""What the tickets routes share: which community a request may name, which tickets a key
sees, and times as the platform sent them."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api.keys import Caller
from models.communities import Community, community_by_name
from models.tickets import Ticket, ticket_by_number

from . import texts
from .problems import problem


def community_named(
    db: Session, name: str | None, who: Caller, *, unknown_ok: bool = False
) -> int | None | Response:
    """The community a request names (by name), or the key's own when it names none (a
    street key: None, everywhere). A community key naming another is refused (403); a name
    no community has, 422 — or, for a filter (`unknown_ok`), NO_COMMUNITY: nothing matches."""
    if name is None or not name.strip():
        return who.community_id
    found = community_by_name(db, name)
    if who.community_id is not None and (found is None or found.id != who.community_id):
        own = community_of(db, who.community_id)
        return problem(403, texts.OTHER_COMMUNITY.format(community=own))
    if found is None:
        if unknown_ok:
            return NO_COMMUNITY
        return problem(422, texts.UNKNOWN_COMMUNITY.format(name=name.strip()))
    return found.id


NO_COMMUNITY = 0  # no community has this id: a filter by a name nobody has matches nothing


def community_of(db: Session, community_id: int) -> str:
    found = db.get(Community, community_id)
    return found.name if found is not None else str(community_id)


def visible_ticket(db: Session, number: int, who: Caller) -> Ticket | None:
    """The ticket `number` if the key may see it: another community's is not there for a
    community's key (404, as if it did not exist)."""
    ticket = ticket_by_number(db, number)  # None past the largest id: no overflow
    if ticket is None:
        return None
    if who.community_id is not None and ticket.community_id != who.community_id:
        return None
    return ticket


def not_found(number: int) -> Response:
    return problem(404, texts.TICKET_NOT_FOUND.format(number=number))


def aware(moment: datetime, tz: tzinfo) -> datetime:
    """A time the platform sent: with its offset as given, or (none given) in [app]
    timezone, the street's local time."""
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment

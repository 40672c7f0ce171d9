"""What the tickets routes share: which community a request may name, which tickets a key
sees, and times as the platform sent them."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api.keys import Caller
from models.tickets import Ticket, ticket_by_number

from . import scope, texts
from .problems import problem


def community_named(
    db: Session, name: str | None, who: Caller, *, unknown_ok: bool = False
) -> int | None | Response:
    """The community a ticket request names (scope.py's rule; a blank name names none); a
    name no community has is 422 — or, for a filter (`unknown_ok`), NO_COMMUNITY: nothing
    matches."""

    def unknown(given: str) -> int | Response:
        if unknown_ok:
            return NO_COMMUNITY
        return problem(422, texts.UNKNOWN_COMMUNITY.format(name=given.strip()))

    named = name if name is not None and name.strip() else None
    return scope.community_named(db, named, who, unknown)


NO_COMMUNITY = 0  # no community has this id: a filter by a name nobody has matches nothing


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

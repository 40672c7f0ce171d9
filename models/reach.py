"""What a person may reach by chat: a ticket named by its number.

One rule, used by every chat command that names a ticket (查询, 接单, 办结, 退回, 转派, 备注):
a resident reaches their own tickets; a community's staff (and admins) their community's;
the street's staff (no community) every ticket. A ticket out of reach looks exactly like a
missing one, so numbers reveal nothing about other people or other communities.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .people import Person, Role
from .tickets import Ticket, ticket_by_number


def staff_community(db: Session, person_id: int) -> int | None:
    """The community a staff member works in; None: the street's (or no such person)."""
    person = db.get(Person, person_id)
    return person.community_id if person is not None and person.role >= Role.STAFF else None


def ticket_in_reach(
    db: Session, number: int, person_id: int, *, acting: bool = False
) -> Ticket | None:
    """Ticket #number if `person_id` may see it by chat (`acting`: act on it as staff), else
    None. Anyone sees their own tickets; staff act only on their community's (their own
    report filed in another community is that community's to handle)."""
    ticket = ticket_by_number(db, number)
    if ticket is None or (ticket.person_id == person_id and not acting):
        return ticket
    person = db.get(Person, person_id)
    if person is None or person.role < Role.STAFF:
        return None
    if person.community_id is not None and ticket.community_id != person.community_id:
        return None
    return ticket

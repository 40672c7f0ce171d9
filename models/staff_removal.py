"""A staff member leaves: their open tickets, grids and topics go to a colleague.

Kept apart from staff.py because it works through the ticket lifecycle (lifecycle.py imports
staff.py), and so that staff.py stays about who handles what.

What moves: every open ticket they hold (转派 to the successor, as in chat: the successor is
pushed, the resident told who has it now), the grids they work (Grid.worker_id), their topic
and grid assignments. What stays: the person and their name, so the tickets' timelines still
say who did what; their resolved and closed tickets (the KPIs credit them). Their role goes
back to resident; console accounts linked to them are unlinked (the console links staff only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .accounts import ConsoleAccount
from .people import Person, Role
from .places import Grid
from .pushes import TICKET_HANDED_OVER
from .staff import StaffError, StaffGrid, StaffTopic
from .tickets import OPEN_STATUSES, Ticket
from .topics import Topic

# The push that tells a resident their ticket has a new holder (bot/delivery/templates.py).
HANDED_OVER = TICKET_HANDED_OVER


class NotStaff(StaffError):
    """The person is not staff (or not known at all)."""


class SamePerson(StaffError):
    """A staff member cannot hand their work to themselves."""


class OtherCommunity(StaffError):
    """The successor works in another community: the leaver's tickets and grids are not
    theirs to see (a colleague of the same community, or the street's staff, may take over)."""


@dataclass
class Removal:
    """What `remove_staff` moved: ticket numbers, grid and topic names, console usernames."""

    name: str
    successor: str
    tickets: list[int] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)  # worked (网格员) and assigned
    topics: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (username, role) unlinked


def remove_staff(
    db: Session, person_id: int, successor_id: int, now: datetime, tz: tzinfo
) -> Removal:
    """Hand everything `person_id` holds to `successor_id` and make them a resident again.

    Raises SamePerson, NotStaff when either is not staff, or OtherCommunity when the
    successor works in another community; changes nothing then.
    """
    if person_id == successor_id:
        raise SamePerson("a staff member cannot hand their work to themselves")
    leaving, successor = db.get(Person, person_id), db.get(Person, successor_id)
    for person in (leaving, successor):
        if person is None or person.role < Role.STAFF:
            raise NotStaff(f"{person.openid if person else person_id} is not staff")
    assert leaving is not None and successor is not None
    if successor.community_id not in (None, leaving.community_id):
        raise OtherCommunity(
            f"{successor.openid} works in another community than {leaving.openid}: "
            "choose a colleague of the same community or the street's staff"
        )
    removal = Removal(_label(leaving), _label(successor))
    removal.tickets = _hand_over_tickets(db, leaving, successor, now, tz)
    removal.grids = _move_grids(db, leaving.id, successor.id)
    removal.topics = _move_topics(db, leaving.id, successor.id)
    removal.accounts = _unlink_accounts(db, leaving.id)
    leaving.role = Role.RESIDENT
    leaving.staff_level = 0
    db.flush()
    return removal


def _label(person: Person) -> str:
    return person.name or person.openid


def _hand_over_tickets(
    db: Session, leaving: Person, successor: Person, now: datetime, tz: tzinfo
) -> list[int]:
    from .lifecycle import SYSTEM, reassign_to_person, tell_resident

    tickets = db.scalars(
        select(Ticket)
        .where(Ticket.assignee_id == leaving.id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.number)
    ).all()
    for ticket in tickets:
        reassign_to_person(db, ticket, SYSTEM, successor, now, tz)
        tell_resident(db, ticket, HANDED_OVER, now, holder=_label(successor))
    return [ticket.number for ticket in tickets]


def _move_grids(db: Session, leaving_id: int, successor_id: int) -> list[str]:
    worked = db.scalars(select(Grid).where(Grid.worker_id == leaving_id)).all()
    for grid in worked:
        grid.worker_id = successor_id
    assigned = db.execute(
        select(StaffGrid.grid_id, Grid.name)
        .join(Grid, Grid.id == StaffGrid.grid_id)
        .where(StaffGrid.person_id == leaving_id)
    ).all()
    held = set(
        db.scalars(select(StaffGrid.grid_id).where(StaffGrid.person_id == successor_id)).all()
    )
    db.execute(delete(StaffGrid).where(StaffGrid.person_id == leaving_id))
    db.add_all(
        StaffGrid(person_id=successor_id, grid_id=grid_id)
        for grid_id, _ in assigned
        if grid_id not in held
    )
    names = [grid.name for grid in worked] + [name for _, name in assigned]
    return sorted(set(names))


def _move_topics(db: Session, leaving_id: int, successor_id: int) -> list[str]:
    assigned = db.execute(
        select(StaffTopic.topic_id, Topic.name)
        .join(Topic, Topic.id == StaffTopic.topic_id)
        .where(StaffTopic.person_id == leaving_id)
        .order_by(Topic.sort_order, Topic.id)
    ).all()
    held = set(
        db.scalars(select(StaffTopic.topic_id).where(StaffTopic.person_id == successor_id)).all()
    )
    db.execute(delete(StaffTopic).where(StaffTopic.person_id == leaving_id))
    db.add_all(
        StaffTopic(person_id=successor_id, topic_id=topic_id)
        for topic_id, _ in assigned
        if topic_id not in held
    )
    return [name for _, name in assigned]


def _unlink_accounts(db: Session, person_id: int) -> list[tuple[str, str]]:
    accounts = db.scalars(
        select(ConsoleAccount)
        .where(ConsoleAccount.person_id == person_id)
        .order_by(ConsoleAccount.username)
    ).all()
    for account in accounts:
        account.person_id = None
    return [(account.username, account.role) for account in accounts]

"""Who an agenda item concerns: the residents in its scope, and the people who took part.

"In scope" means what it means for polls and notices (models/audience.py): the residents of
the item's community, or everyone for a street-wide item (and while the street has one
community). "Took part" is the proposer, the backers (附议), the voters of the item's polls
and the invitees who said 参加 — the people 进展, 纪要 and 评议 go to. `admins_of` names
who hears of an item for the committee (a threshold reached, an objection).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .agenda import AgendaBacking, AgendaItem
from .audience import effective_community, lives_in
from .communities import HOME_ID, Scope
from .meetings import ATTEND, MeetingAgenda, MeetingInvite
from .people import Person, Role
from .places import Building, Household
from .polls import Ballot, Poll
from .prepared import connection_of
from .routing import duty_at_level


def residents_in_scope(db: Session, community_id: int | None) -> list[int]:
    """The following residents an item of `community_id` (None: street-wide) is for."""
    query = select(Person.id).where(Person.following, Person.role == Role.RESIDENT)
    wanted = effective_community(db, community_id)
    if wanted is not None:
        query = query.where(lives_in(wanted))
    return list(db.scalars(query.order_by(Person.id)))


def households_in_scope(db: Session, community_id: int | None) -> int:
    """Households of the item's community (all the street's for a street-wide item): what a
    backing threshold given as a share is a share of."""
    query = select(func.count(Household.id)).join(Building, Building.id == Household.building_id)
    wanted = effective_community(db, community_id)
    if wanted is not None:
        query = query.where(Building.community_id == wanted)
    return int(db.scalar(query) or 0)


def backers(db: Session, agenda_id: int) -> list[int]:
    query = select(AgendaBacking.person_id).where(AgendaBacking.agenda_id == agenda_id)
    return sorted(set(db.scalars(query)))


def voters_on(db: Session, agenda_id: int) -> list[int]:
    """Who cast a ballot that counts in any poll on the item (paper ballots have no voter)."""
    query = (
        select(Ballot.voter_id)
        .join(Poll, Poll.id == Ballot.poll_id)
        .where(Poll.agenda_id == agenda_id, Ballot.voter_id.is_not(None))
    )
    return sorted({voter for voter in db.scalars(query) if voter is not None})


def attendees(db: Session, agenda_id: int) -> list[int]:
    """Invitees who said 参加 to a meeting with the item on its agenda."""
    query = (
        select(MeetingInvite.person_id)
        .join(MeetingAgenda, MeetingAgenda.meeting_id == MeetingInvite.meeting_id)
        .where(MeetingAgenda.agenda_id == agenda_id, MeetingInvite.answer == ATTEND)
    )
    return sorted(set(db.scalars(query)))


def participants(
    db: Session, item: AgendaItem, *, attendees_too: bool = True, in_scope: bool = False
) -> list[int]:
    """The proposer, backers, voters and (`attendees_too`) attendees, each once; `in_scope`:
    only those who still live in the item's scope (who are asked to rate it, told of 进展)."""
    people = set(backers(db, item.id)) | set(voters_on(db, item.id))
    if attendees_too:
        people |= set(attendees(db, item.id))
    if item.proposer_id is not None:
        people.add(item.proposer_id)
    if in_scope:
        people &= set(residents_in_scope(db, item.community_id))
    return sorted(people)


def admins_of(db: Session, community_id: int | None) -> list[int]:
    """Who hears of a community's 议题: its admins (Role.ADMIN there); else its level-2 person
    on duty (the escalation ladder); else the street's admins."""

    def admins(community: int | None) -> list[int]:
        query = select(Person.id).where(Person.role == Role.ADMIN, Person.following)
        if community is None:
            query = query.where(Person.community_id.is_(None))
        else:
            query = query.where(Person.community_id == community)
        return list(db.scalars(query.order_by(Person.id)))

    if community_id is not None and (own := admins(community_id)):
        return own
    duty = duty_at_level(connection_of(db), 2, community_id or HOME_ID)
    if duty is not None and community_id is not None:
        return [duty]
    return admins(None) or ([duty] if duty is not None else [])


def staff_scope(db: Session, person_id: int) -> Scope:
    """What a staff member reaches by chat: their community's items (and reads the street's),
    or everything for the street's staff — the console's and the CLI's Scope, by person."""
    person = db.get(Person, person_id)
    return Scope(person.community_id if person is not None else None)

"""Paper ballots: staff record the ballot of a household that voted on paper or in person.

A paper ballot is a household's ballot like any other: keyed by the same unit ("h<id>") and
written by the same INSERT … ON CONFLICT DO UPDATE as `cast_ballot`, so a household counts
once whichever way it voted, and the LAST ballot stands — a later WeChat ballot from a member
replaces the paper one, and a paper ballot entered later replaces the WeChat one (the
household changed its mind at the meeting; the staff member who entered it is named). It
has no voter (voter_id NULL) and names who entered it (`entered_by`), the audit the poll's
page and `poll show` print. Person polls have no household to count: refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .audience import effective_community
from .places import Building, Household, find_buildings, household_at
from .polls import (
    DRAFT,
    HOUSEHOLD_UNIT,
    OPEN,
    Ballot,
    Poll,
    PollError,
    building_in_scope,
    parse_choices,
)

BY_MAX = 64  # ballot.entered_by is String(64)


def find_household(
    db: Session, poll: Poll, building: str, unit: str, room: str, community_id: int | None = None
) -> Household:
    """The household building-unit-room (as residents write it for 绑定) within the poll's
    community (a street poll: within `community_id` when given, else the street, where the
    building's name must then be in one community only). PollError("household") says why not."""
    where = effective_community(db, poll.community_id) or community_id
    buildings = find_buildings(db, building, where)
    address = f"{building}-{unit}-{room}"
    if not buildings:
        raise PollError("household", message=f"no building {building!r}", address=address)
    if len(buildings) > 1:
        raise PollError(
            "household",
            message=f"several communities have a building {building!r}: name one with --community",
            address=address,
            ambiguous=True,
        )
    found = household_at(db, buildings[0], unit, room)
    if found is None:
        raise PollError("household", message=f"no household {address} is known", address=address)
    return found


@dataclass(frozen=True)
class Entered:
    poll: Poll
    household: Household
    choices: str
    replaced: bool  # the household had voted (by WeChat or on paper): that ballot is replaced
    previous_voter: int | None  # who cast the replaced ballot by WeChat (None: paper, or none)


def enter_paper_ballot(
    db: Session, poll: Poll, household: Household, text: str, by: str, now: datetime
) -> Entered:
    """Record `household`'s paper ballot `text` (e.g. "A") in `poll`, entered by `by`."""
    by = by.strip()
    if not by:
        raise PollError("entered_by", message="name who entered the ballot")
    if len(by) > BY_MAX:
        raise PollError("entered_by", message=f"the name is longer than {BY_MAX} characters")
    if poll.unit != HOUSEHOLD_UNIT:
        raise PollError(
            "person_poll", message="a paper ballot counts per household: this poll is per person"
        )
    if poll.status not in (DRAFT, OPEN) or now >= poll.closes_at:
        raise PollError("closed", message="the poll is closed")
    if poll.status == DRAFT or now < poll.opens_at:
        raise PollError("not_open", message="the poll has not opened yet")
    building = db.get(Building, household.building_id)
    wanted = effective_community(db, poll.community_id)
    outside = wanted is not None and building is not None and building.community_id != wanted
    if outside or not building_in_scope(db, poll, household.building_id):
        raise PollError("out_of_scope", message="the household is outside the poll's scope")
    choices = parse_choices(poll, text)
    unit_key = f"h{household.id}"
    previous = db.scalars(
        select(Ballot).where(Ballot.poll_id == poll.id, Ballot.unit_key == unit_key)
    ).one_or_none()
    previous_voter = previous.voter_id if previous is not None else None
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(Ballot).values(
        poll_id=poll.id,
        unit_key=unit_key,
        voter_id=None,
        entered_by=by,
        household_id=household.id,
        choices=choices,
        cast_at=now,
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[Ballot.poll_id, Ballot.unit_key],
            set_={"voter_id": None, "entered_by": by, "choices": choices, "replaced_at": now},
        )
    )
    return Entered(poll, household, choices, previous is not None, previous_voter)


@dataclass(frozen=True)
class PaperBallot:
    household: str  # 16-2-501
    choices: str | None  # None in an anonymous poll: the audit says who entered, not what
    entered_by: str
    at: datetime


def paper_ballots(db: Session, poll: Poll) -> list[PaperBallot]:
    """The audit: each household's paper ballot that counts now, and who entered it."""
    rows = db.execute(
        select(Ballot, Household)
        .join(Household, Household.id == Ballot.household_id)
        .where(Ballot.poll_id == poll.id, Ballot.entered_by.is_not(None))
        .order_by(func.coalesce(Ballot.replaced_at, Ballot.cast_at), Ballot.id)
    ).all()
    return [
        PaperBallot(
            household.label,
            None if poll.anonymous else ballot.choices,
            ballot.entered_by or "",
            ballot.replaced_at or ballot.cast_at,
        )
        for ballot, household in rows
    ]

"""议 deliberate: polls, their ballots, and the tally.

A poll offers 2–20 options labelled A, B, C …, to a scope (the whole street, one community,
or a grid or a list of buildings within a community: models/audience.py says who that is),
counted per person or per household (户决制: one ballot per household; any approved member
may cast it, and a later ballot from the household replaces the earlier one).

One ballot per voting unit is a database fact: a ballot row is keyed by (poll, unit), where the
unit is "h<household id>" or "p<person id>", and `cast_ballot` writes it with one
INSERT … ON CONFLICT DO UPDATE, so concurrent votes from one household leave exactly one
ballot — the last. Everything else a ballot must satisfy (the poll open, the voter eligible,
the choices valid) is checked in `cast_ballot`, the only way ballots are written.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import counters
from .audience import PlaceError, effective_community, lives_in, places_community, reaches
from .base import Base, UTCDateTime, fits_id
from .outbox import enqueue
from .people import Person
from .places import APPROVED, Binding, Building, Grid, Household
from .pushes import POLL_HOUSEHOLD_VOTE

LABELS = string.ascii_uppercase[:20]
DRAFT, OPEN, CLOSED, DECIDED = "draft", "open", "closed", "decided"
PERSON_UNIT, HOUSEHOLD_UNIT = "person", "household"
BOUND, FOLLOWERS = "bound", "followers"


class Poll(Base):
    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    options_json: Mapped[str] = mapped_column(Text)  # JSON list of the options' texts
    # Scope: all; a grid (scope_grid_id); or buildings (scope_buildings: JSON list of names).
    scope: Mapped[str] = mapped_column(String(16), default="all")
    # The community it is for; None: street-wide (every community's residents).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    scope_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True)
    # The 议题 it decides (models/agenda.py); None: a poll of its own.
    agenda_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id"), nullable=True, index=True
    )
    scope_buildings: Mapped[str | None] = mapped_column(Text, nullable=True)
    unit: Mapped[str] = mapped_column(String(16), default=PERSON_UNIT)
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_results: Mapped[bool] = mapped_column(Boolean, default=False)
    eligibility: Mapped[str] = mapped_column(String(16), default=BOUND)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    quorum: Mapped[float] = mapped_column(Float, default=0.0)
    threshold: Mapped[float] = mapped_column(Float, default=0.5)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    decision: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the sweep has told people (bot/schedule/polls.py), so it tells them once.
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    followup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    followup_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def options(self) -> list[str]:
        return list(json.loads(self.options_json))

    @property
    def labels(self) -> str:
        return LABELS[: len(self.options)]

    @property
    def buildings(self) -> list[str]:
        return list(json.loads(self.scope_buildings)) if self.scope_buildings else []


class Ballot(Base):
    """The ballot of one voting unit (a person, or a household) in one poll."""

    __tablename__ = "ballot"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    unit_key: Mapped[str] = mapped_column(String(24))  # "p<person id>" or "h<household id>"
    # Who cast it last; None: a household's paper or in-person ballot entered by staff.
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    entered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # staff's name
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), nullable=True)
    choices: Mapped[str] = mapped_column(String(40))  # the labels, e.g. "A" or "AC"
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("poll_id", "unit_key", name="uq_ballot_unit"),)


class PollError(ValueError):
    """A ballot or a change the poll's rules refuse; `reason` names which rule."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class PollSpec:
    title: str
    options: list[str]
    closes_at: datetime
    description: str = ""
    scope: str = "all"  # all | grid | buildings
    grid: str | None = None
    buildings: list[str] = field(default_factory=list)
    unit: str = PERSON_UNIT
    max_choices: int = 1
    anonymous: bool = False
    hide_results: bool = False
    eligibility: str = BOUND
    opens_at: datetime | None = None
    quorum: float = 0.0
    threshold: float = 0.5
    community_id: int | None = None  # None: street-wide, or the community of its grid/buildings


def _scope_places(db: Session, spec: PollSpec) -> tuple[int | None, int | None]:
    """(the poll's community, its grid's id): a grid or buildings resolve within the spec's
    community, or (none given) in the one community that has every place named."""
    if spec.scope == "all":
        return spec.community_id, None
    if spec.scope == "grid":
        names, grids = [], [spec.grid or ""]
    elif spec.scope == "buildings":
        names, grids = list(spec.buildings), []
        if not names:
            raise PollError("scope", message="unknown building(s): ", missing=[])
    else:
        raise PollError("scope", message="scope is all, grid:G or building:B,…")
    try:
        community_id, grid_ids = places_community(db, spec.community_id, grids, names)
    except PlaceError as exc:
        if spec.scope == "grid":
            message = f"unknown grid {spec.grid!r}" if exc.missing else str(exc)
            raise PollError(
                "scope", message=message, grid=spec.grid, ambiguous=exc.ambiguous
            ) from None
        raise PollError(
            "scope", message=str(exc), missing=exc.missing, ambiguous=exc.ambiguous
        ) from None
    return community_id, grid_ids[0] if grid_ids else None


def create_poll(db: Session, spec: PollSpec, now: datetime) -> Poll:
    """A new poll, numbered; open at once unless it opens later. Refuses a bad spec."""
    options = [o.strip() for o in spec.options if o.strip()]
    if not spec.title.strip():
        raise PollError("title", message="a poll needs a title")
    if not 2 <= len(options) <= len(LABELS):
        raise PollError("options", message=f"2 to {len(LABELS)} options, got {len(options)}")
    if len(set(options)) != len(options):
        raise PollError("options", message="two options have the same text")
    if not 1 <= spec.max_choices <= len(options):
        raise PollError("choices", message=f"choices must be 1 to {len(options)}")
    opens_at = spec.opens_at or now
    if spec.closes_at <= opens_at:
        raise PollError("closes_at", message="the poll must close after it opens")
    if spec.closes_at <= now:
        raise PollError("closes_at", message="the closing time has already passed")
    if not 0 <= spec.quorum <= 1 or not 0 < spec.threshold <= 1:
        raise PollError("quorum", message="quorum is 0 to 1 and threshold above 0 up to 1")
    if spec.unit not in (PERSON_UNIT, HOUSEHOLD_UNIT):
        raise PollError("unit", message="unit is person or household")
    if spec.unit == HOUSEHOLD_UNIT and spec.eligibility != BOUND:
        raise PollError("eligibility", message="a household poll counts bound residents only")
    community_id, grid_id = _scope_places(db, spec)
    poll = Poll(
        number=counters.bump(db, counters.POLL_NUMBER),
        title=spec.title.strip(),
        description=spec.description.strip(),
        options_json=json.dumps(options, ensure_ascii=False),
        scope=spec.scope,
        community_id=community_id,
        scope_grid_id=grid_id,
        scope_buildings=(
            json.dumps(sorted(set(spec.buildings)), ensure_ascii=False)
            if spec.scope == "buildings"
            else None
        ),
        unit=spec.unit,
        max_choices=spec.max_choices,
        anonymous=spec.anonymous,
        hide_results=spec.hide_results,
        eligibility=spec.eligibility,
        opens_at=opens_at,
        closes_at=spec.closes_at,
        quorum=spec.quorum,
        threshold=spec.threshold,
        status=OPEN if opens_at <= now else DRAFT,
        created_at=now,
    )
    db.add(poll)
    db.flush()
    return poll


def poll_by_number(db: Session, number: int) -> Poll | None:
    if not fits_id(number):
        return None
    return db.scalars(select(Poll).where(Poll.number == number)).one_or_none()


def scope_text(db: Session, poll: Poll) -> str:
    """Who a poll is for, as `poll show --json` and the API say it: all, grid:<name>,
    building:<names>."""
    if poll.scope == "grid":
        grid = db.get(Grid, poll.scope_grid_id) if poll.scope_grid_id else None
        return f"grid:{grid.name if grid is not None else poll.scope_grid_id}"
    if poll.scope == "buildings":
        return "building:" + ",".join(poll.buildings)
    return poll.scope


def building_in_scope(db: Session, poll: Poll, building_id: int | None) -> bool:
    """Whether a household of this building is in the poll's grid or buildings (if any)."""
    if poll.scope == "all":
        return True
    if building_id is None:
        return False
    building = db.get(Building, building_id)
    if building is None:
        return False
    if poll.scope == "grid":
        return building.grid_id == poll.scope_grid_id
    same_community = poll.community_id is None or building.community_id == poll.community_id
    return same_community and building.name in poll.buildings


@dataclass(frozen=True)
class Cast:
    """What a ballot did: recorded `choices`; `replaced` the unit's earlier ballot (cast by
    `previous_voter`); `household` members to tell (household polls)."""

    poll: Poll
    choices: str
    replaced: bool
    previous_voter: int | None
    household_members: list[int]


def parse_choices(poll: Poll, text: str) -> str:
    """ "a c" / "AC" / "A,C" -> "AC"; refuses unknown labels, repeats and too many."""
    letters = [c for c in text.upper() if not c.isspace() and c not in ",，、"]
    if not letters:
        raise PollError("no_choice")
    if any(c not in poll.labels for c in letters):
        raise PollError("invalid_option", labels=poll.labels)
    if len(set(letters)) != len(letters):
        raise PollError("repeated_option")
    if len(letters) > poll.max_choices:
        raise PollError("too_many", max=poll.max_choices)
    return "".join(sorted(letters))


def _voter(db: Session, poll: Poll, person_id: int, now: datetime) -> Household | None:
    """The voter's household (None if they have none), or PollError why they may not vote."""
    if poll.status != OPEN or now < poll.opens_at:
        raise PollError("not_open" if poll.status in (DRAFT, OPEN) else "closed")
    if now >= poll.closes_at:
        raise PollError("closed")
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    approved = binding is not None and binding.status == APPROVED
    if poll.eligibility == BOUND and not approved:
        raise PollError("pending" if binding is not None else "not_bound")
    if not reaches(db, poll.community_id, person_id):
        raise PollError("other_community")
    household = db.get(Household, binding.household_id) if approved and binding else None
    if not building_in_scope(db, poll, household.building_id if household else None):
        raise PollError("out_of_scope")
    return household


def concerns(db: Session, poll: Poll, person_id: int) -> bool:
    """True when the poll is for the person's community (or the whole street): a resident of
    another community neither sees it listed nor may open it by number."""
    return reaches(db, poll.community_id, person_id)


def may_vote(db: Session, poll: Poll, person_id: int, now: datetime) -> bool:
    try:
        _voter(db, poll, person_id, now)
    except PollError:
        return False
    return True


def cast_ballot(db: Session, poll: Poll, person_id: int, text: str, now: datetime) -> Cast:
    """Record the person's ballot (for their household, in a household poll)."""
    household = _voter(db, poll, person_id, now)
    choices = parse_choices(poll, text)
    if poll.unit == HOUSEHOLD_UNIT:
        assert household is not None  # household polls are for bound residents only
        unit_key = f"h{household.id}"
    else:
        unit_key = f"p{person_id}"
    previous = db.scalars(
        select(Ballot).where(Ballot.poll_id == poll.id, Ballot.unit_key == unit_key)
    ).one_or_none()
    previous_voter = previous.voter_id if previous is not None else None
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "poll_id": poll.id,
        "unit_key": unit_key,
        "voter_id": person_id,
        "household_id": household.id if household else None,
        "choices": choices,
        "cast_at": now,
    }
    statement = insert(Ballot).values(**values)
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[Ballot.poll_id, Ballot.unit_key],
            # A member's ballot replaces the household's paper one: no longer staff's entry.
            set_={
                "voter_id": person_id,
                "entered_by": None,
                "choices": choices,
                "replaced_at": now,
            },
        )
    )
    members: list[int] = []
    if household is not None and poll.unit == HOUSEHOLD_UNIT:
        members = list(
            db.scalars(
                select(Binding.person_id).where(
                    Binding.household_id == household.id, Binding.status == APPROVED
                )
            )
        )
    _tell_household(db, poll, person_id, members, choices, now)
    return Cast(poll, choices, previous is not None, previous_voter, members)


def _tell_household(
    db: Session, poll: Poll, voter: int, members: list[int], choices: str, now: datetime
) -> None:
    """A household's vote is the last one cast: the other members hear what it is now."""
    chosen = [[label, poll.options[poll.labels.index(label)]] for label in choices]
    for member in members:
        if member != voter:
            push = POLL_HOUSEHOLD_VOTE.push(
                member, poll=poll.id, number=poll.number, title=poll.title, choices=chosen, now=now
            )
            enqueue(db, push, now)


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]  # per option label
    ballots: int  # voting units that voted
    eligible: int  # voting units known in scope (the quorum's base)
    quorum_met: bool
    leaders: list[str]  # the label(s) with the most votes; two or more = a tie
    passed: bool  # the single leader has at least `threshold` of the ballots

    @property
    def tie(self) -> bool:
        return len(self.leaders) > 1

    @property
    def turnout(self) -> float | None:
        return self.ballots / self.eligible if self.eligible else None


def eligible_units(db: Session, poll: Poll) -> int:
    """Units known in scope: listed households (household polls), or approved bound residents
    (person polls; everyone following the account when anyone may vote)."""
    if poll.unit == PERSON_UNIT and poll.eligibility == FOLLOWERS and poll.scope == "all":
        query = select(func.count()).select_from(Person).where(Person.following)
        community_id = effective_community(db, poll.community_id)
        if community_id is not None:
            query = query.where(lives_in(community_id))
        return int(db.scalar(query) or 0)
    if poll.unit == HOUSEHOLD_UNIT:
        query = select(func.count(Household.id)).where(Household.listed)
        query = query.join(Building, Building.id == Household.building_id)
    else:
        query = (
            select(func.count(Binding.id))
            .where(Binding.status == APPROVED)
            .join(Household, Household.id == Binding.household_id)
            .join(Building, Building.id == Household.building_id)
        )
    return int(db.scalar(_within(db, poll, query)) or 0)


def _within(db: Session, poll: Poll, query: Any) -> Any:
    """The query (joined to Building) narrowed to the poll's scope: its community, and its
    grid or buildings in it."""
    if poll.scope == "grid":
        return query.where(Building.grid_id == poll.scope_grid_id)
    if poll.scope == "buildings":
        query = query.where(Building.name.in_(poll.buildings))
        if poll.community_id is not None:
            query = query.where(Building.community_id == poll.community_id)
        return query
    community_id = effective_community(db, poll.community_id)
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    return query


def tally(db: Session, poll: Poll) -> Tally:
    """Count the ballots: per option, turnout against the eligible units, quorum, the leader
    (a tie is reported as a tie) and whether it reaches the pass threshold."""
    counts = {label: 0 for label in poll.labels}
    # Grouped in SQL: a handful of distinct choices however many ballots (the console polls
    # this every few seconds while a page is open).
    rows = db.execute(
        select(Ballot.choices, func.count(Ballot.id))
        .where(Ballot.poll_id == poll.id)
        .group_by(Ballot.choices)
    ).all()
    ballots = 0
    for choices, count in rows:
        ballots += int(count)
        for label in choices:
            if label in counts:
                counts[label] += int(count)
    eligible = eligible_units(db, poll)
    quorum_met = ballots > 0 and (eligible == 0 or ballots / eligible >= poll.quorum)
    top = max(counts.values()) if counts else 0
    leaders = [label for label, n in counts.items() if n == top and top > 0]
    passed = quorum_met and len(leaders) == 1 and top / ballots >= poll.threshold
    return Tally(counts, ballots, eligible, quorum_met, leaders, passed)


def close_poll(db: Session, poll: Poll, now: datetime) -> bool:
    """Close an open poll (or a draft one that never opened); False if it was already closed."""
    if poll.status not in (DRAFT, OPEN):
        return False
    poll.status = CLOSED
    poll.closed_at = now
    return True


def decide_poll(db: Session, poll: Poll, decision: str, now: datetime) -> None:
    """Record the committee's decision (决议) on a closed poll."""
    if not decision.strip():
        raise PollError("decision", message="the decision text is empty")
    if poll.status not in (CLOSED, DECIDED):
        raise PollError("decision", message="close the poll before recording its decision")
    poll.status = DECIDED
    poll.decision = decision.strip()
    poll.decided_at = now


def eligible_people(db: Session, poll: Poll) -> list[int]:
    """Everyone who may vote in the poll (to tell them it opened, or remind them)."""
    if poll.eligibility == FOLLOWERS and poll.scope == "all":
        query = select(Person.id).where(Person.following)
        community_id = effective_community(db, poll.community_id)
        if community_id is not None:
            query = query.where(lives_in(community_id))
        return list(db.scalars(query.order_by(Person.id)))
    query = (
        select(Binding.person_id)
        .join(Household, Household.id == Binding.household_id)
        .join(Building, Building.id == Household.building_id)
        .join(Person, Person.id == Binding.person_id)
        .where(Binding.status == APPROVED, Person.following)
    )
    return list(db.scalars(_within(db, poll, query).order_by(Binding.person_id)))


def unit_key_of(db: Session, poll: Poll, person_id: int) -> str | None:
    """The voting unit the person votes for in this poll (None: not bound, household poll)."""
    if poll.unit == PERSON_UNIT:
        return f"p{person_id}"
    household = db.scalar(
        select(Binding.household_id).where(
            Binding.person_id == person_id, Binding.status == APPROVED
        )
    )
    return f"h{household}" if household is not None else None


def voters(db: Session, poll: Poll) -> list[int]:
    """Who cast the ballots that count (the last voter of each unit)."""
    # A paper ballot staff entered has no WeChat voter to tell.
    query = select(Ballot.voter_id).where(Ballot.poll_id == poll.id, Ballot.voter_id.is_not(None))
    return sorted({voter for voter in db.scalars(query) if voter is not None})


def voted_units(db: Session, poll: Poll) -> set[str]:
    return set(db.scalars(select(Ballot.unit_key).where(Ballot.poll_id == poll.id)))


def ballot_counts(db: Session, poll_ids: list[int]) -> dict[int, int]:
    """Ballots (voting units that voted) per poll, in one grouped query (a page of polls)."""
    if not poll_ids:
        return {}
    rows = db.execute(
        select(Ballot.poll_id, func.count(Ballot.id))
        .where(Ballot.poll_id.in_(poll_ids))
        .group_by(Ballot.poll_id)
    ).all()
    return {poll_id: int(count) for poll_id, count in rows}

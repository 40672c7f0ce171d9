"""Who gets a new ticket, and why (办 handle).

In this order, the first that finds someone wins, and the reason is recorded:
1. "topic+grid": staff assigned to both the ticket's topic and the resident's grid;
2. "grid worker": the resident's grid's worker (网格员);
3. "topic": staff assigned to the topic;
4. "supervisor": the duty supervisor (a community-level supervisor, staff.py);
5. "triage": nobody yet — the ticket waits in the triage queue.
Among several candidates, the one with the fewest open tickets, then the longest-serving
(lowest id). The resident's grid comes from their approved household binding.

Routing works within the ticket's community (the place's; else the one the channel or the
resident's own community gives): its grids, its staff first, then the street's staff (staff
with no community) — "小事不出社区". The escalation ladder climbs the same way (staff.py).

Routing runs for every ticket filed, inside the message's transaction: the statements are
compiled once and run on the driver (see prepared.py). Routing reads tickets (the load);
tickets know nothing of routing: intake (intake.py) routes, then files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from .communities import HOME_ID
from .people import Person
from .places import APPROVED, Binding, Building, Grid, Household
from .prepared import Prepared, connection_of
from .staff import LEVEL_COMMUNITY, LEVEL_STAFF, StaffGrid, StaffTopic
from .tickets import OPEN_STATUSES, Ticket

TOPIC_AND_GRID = "topic+grid"
GRID_WORKER = "grid worker"
TOPIC = "topic"
SUPERVISOR = "supervisor"
TRIAGE = "triage"


@dataclass(frozen=True)
class Place:
    grid_id: int | None
    label: str  # "16-2-501"
    phone: str | None = None  # as the resident gave it; show it masked
    building_id: int | None = None  # where near-duplicate reports are looked for (flood.py)
    community_id: int = HOME_ID  # the building's community
    # Where the problem is, when the report named a place other than (or without) the home:
    # then grid_id and building_id are that place's, `label` still the home (Ticket.spot).
    spot: str | None = None
    spot_from: str | None = None  # "text" or "location"


@dataclass(frozen=True)
class Route:
    assignee_id: int | None
    reason: str
    place: Place | None
    community_id: int = HOME_ID  # the community the ticket belongs to


_P = cast(Table, Person.__table__)
_T = cast(Table, Ticket.__table__)
_ST = cast(Table, StaffTopic.__table__)
_SG = cast(Table, StaffGrid.__table__)
_B = cast(Table, Binding.__table__)
_H = cast(Table, Household.__table__)
_BL = cast(Table, Building.__table__)
_G = cast(Table, Grid.__table__)

# How many open tickets a person holds: the load that picks among candidates.
_LOAD = (
    select(func.count())
    # Constants written into the SQL: prepared statements cannot expand an IN list.
    .where(
        _T.c.assignee_id == _P.c.id,
        _T.c.status.in_([literal_column(f"'{status}'") for status in OPEN_STATUSES]),
    )
    .correlate(_P)
    .scalar_subquery()
)


# Staff of the ticket's community, or of the street (no community); the community's first.
# Written so that no index serves it: the planner then starts from the few staff a pick
# names (a topic's, a grid's) instead of every resident of the community, as an OR of
# `community_id = :c` and `IS NULL` made it do (a new resident's report took twice as long).
_IN_COMMUNITY = func.coalesce(_P.c.community_id, bindparam("community_id")) == bindparam(
    "community_id"
)
_STREET_LAST = case((_P.c.community_id.is_(None), 1), else_=0)


class _Pick:
    """The least loaded of the people matching `conditions`.

    Most of the time one person matches (one grid worker, one topic's staff): then the
    candidates' load is not counted at all.
    """

    def __init__(self, *conditions: object) -> None:
        where = (_P.c.staff_level >= LEVEL_STAFF, _IN_COMMUNITY, *conditions)
        self._candidates = Prepared(
            select(_P.c.id).where(*where).order_by(_STREET_LAST, _P.c.id).limit(2)  # type: ignore[arg-type]
        )
        self._least_loaded = Prepared(
            select(_P.c.id).where(*where).order_by(_STREET_LAST, _LOAD, _P.c.id).limit(1)  # type: ignore[arg-type]
        )

    def run(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        found = self._candidates.run(conn, params)
        if len(found) < 2:
            return found
        return self._least_loaded.run(conn, params)


def _pick(*conditions: object) -> _Pick:
    return _Pick(*conditions)


_PLACE = Prepared(
    select(
        _BL.c.grid_id, _BL.c.name, _H.c.unit, _H.c.room, _B.c.phone, _BL.c.id, _BL.c.community_id
    )
    .select_from(_B.join(_H, _H.c.id == _B.c.household_id).join(_BL, _BL.c.id == _H.c.building_id))
    .where(_B.c.person_id == bindparam("person_id"), _B.c.status == APPROVED)
)
_TOPIC_AND_GRID = _pick(
    _P.c.id.in_(select(_ST.c.person_id).where(_ST.c.topic_id == bindparam("topic_id"))),
    _P.c.id.in_(select(_SG.c.person_id).where(_SG.c.grid_id == bindparam("grid_id"))),
)
_GRID_WORKER = Prepared(
    select(_G.c.worker_id)
    .select_from(
        _G.join(
            _P,
            # A worker of another community (moved there since) is not this grid's any more.
            and_(_P.c.id == _G.c.worker_id, _P.c.staff_level >= LEVEL_STAFF, _IN_COMMUNITY),
        )
    )
    .where(_G.c.id == bindparam("grid_id"))
)
_TOPIC_STAFF = _pick(
    _P.c.id.in_(select(_ST.c.person_id).where(_ST.c.topic_id == bindparam("topic_id")))
)
_AT_LEVEL = _pick(_P.c.staff_level == bindparam("level"))


def place_of(db: Session, person_id: int) -> Place | None:
    """Where the person lives (their approved binding), or None."""
    rows = _PLACE.run(connection_of(db), {"person_id": person_id})
    if not rows:
        return None
    grid_id, building, unit, room, phone, building_id, community_id = rows[0]
    return Place(grid_id, f"{building}-{unit}-{room}", phone, building_id, community_id)


_BUILDING = Prepared(
    select(_BL.c.grid_id, _BL.c.name, _BL.c.community_id).where(
        _BL.c.id == bindparam("building_id")
    )
)


def building_place(db: Session, building_id: int, phone: str | None = None) -> Place | None:
    """The place of a report about a building (a channel's place hint), or None if unknown."""
    rows = _BUILDING.run(connection_of(db), {"building_id": building_id})
    if not rows:
        return None
    grid_id, name, community_id = rows[0]
    return Place(grid_id, name, phone, building_id, community_id)


def route(
    db: Session, *, person_id: int | None, topic_id: int | None, community_id: int | None = None
) -> Route:
    """Choose the assignee of a new ticket from `person_id` under `topic_id` (see above).

    `person_id` None: someone not seen before, who cannot have a household yet."""
    place = place_of(db, person_id) if person_id is not None else None
    return route_at(db, place, topic_id, community_id)


def route_at(
    db: Session, place: Place | None, topic_id: int | None, community_id: int | None = None
) -> Route:
    """Choose the assignee of a ticket about `place` (None: unknown) under `topic_id`.

    The ticket belongs to the place's community; with no place, to `community_id` (the one
    the channel or the resident gives), else the first community."""
    conn = connection_of(db)
    home = place.community_id if place else community_id or HOME_ID
    grid_id = place.grid_id if place else None
    if topic_id is not None and grid_id is not None:
        found = _TOPIC_AND_GRID.run(
            conn, {"topic_id": topic_id, "grid_id": grid_id, "community_id": home}
        )
        if found:
            return Route(found[0][0], TOPIC_AND_GRID, place, home)
    if grid_id is not None:
        found = _GRID_WORKER.run(conn, {"grid_id": grid_id, "community_id": home})
        if found and found[0][0] is not None:
            return Route(found[0][0], GRID_WORKER, place, home)
    if topic_id is not None:
        found = _TOPIC_STAFF.run(conn, {"topic_id": topic_id, "community_id": home})
        if found:
            return Route(found[0][0], TOPIC, place, home)
    found = _AT_LEVEL.run(conn, {"level": LEVEL_COMMUNITY, "community_id": home})
    if found:
        return Route(found[0][0], SUPERVISOR, place, home)
    return Route(None, TRIAGE, place, home)


def duty_at_level(conn: Connection, level: int, community_id: int = HOME_ID) -> int | None:
    """The person on duty at an escalation level for a ticket of `community_id`: its own
    staff at that level first, then the street's; the least loaded, then the lowest id."""
    found = _AT_LEVEL.run(conn, {"level": level, "community_id": community_id})
    return int(found[0][0]) if found else None

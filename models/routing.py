"""Who gets a new ticket, and why (办 handle).

In this order, the first that finds someone wins, and the reason is recorded:
1. "topic+grid": staff assigned to both the ticket's topic and the resident's grid;
2. "grid worker": the resident's grid's worker (网格员);
3. "topic": staff assigned to the topic;
4. "supervisor": the duty supervisor (a community-level supervisor, staff.py);
5. "triage": nobody yet — the ticket waits in the triage queue.
Among several candidates, the one with the fewest open tickets, then the longest-serving
(lowest id). The resident's grid comes from their approved household binding.

Routing runs for every ticket filed, inside the message's transaction: the statements are
compiled once and run on the driver (see prepared.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, literal_column, select

from .people import Person
from .places import APPROVED, Binding, Building, Grid, Household
from .prepared import Prepared
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


@dataclass(frozen=True)
class Route:
    assignee_id: int | None
    reason: str
    place: Place | None


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


class _Pick:
    """The least loaded of the people matching `conditions`.

    Most of the time one person matches (one grid worker, one topic's staff): then the
    candidates' load is not counted at all.
    """

    def __init__(self, *conditions: object) -> None:
        where = (_P.c.staff_level >= LEVEL_STAFF, *conditions)
        self._candidates = Prepared(
            select(_P.c.id).where(*where).order_by(_P.c.id).limit(2)  # type: ignore[arg-type]
        )
        self._least_loaded = Prepared(
            select(_P.c.id).where(*where).order_by(_LOAD, _P.c.id).limit(1)  # type: ignore[arg-type]
        )

    def run(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        found = self._candidates.run(conn, params)
        if len(found) < 2:
            return found
        return self._least_loaded.run(conn, params)


def _pick(*conditions: object) -> _Pick:
    return _Pick(*conditions)


_PLACE = Prepared(
    select(_BL.c.grid_id, _BL.c.name, _H.c.unit, _H.c.room, _B.c.phone, _BL.c.id)
    .select_from(_B.join(_H, _H.c.id == _B.c.household_id).join(_BL, _BL.c.id == _H.c.building_id))
    .where(_B.c.person_id == bindparam("person_id"), _B.c.status == APPROVED)
)
_TOPIC_AND_GRID = _pick(
    _P.c.id.in_(select(_ST.c.person_id).where(_ST.c.topic_id == bindparam("topic_id"))),
    _P.c.id.in_(select(_SG.c.person_id).where(_SG.c.grid_id == bindparam("grid_id"))),
)
_GRID_WORKER = Prepared(
    select(_G.c.worker_id)
    .select_from(_G.join(_P, and_(_P.c.id == _G.c.worker_id, _P.c.staff_level >= LEVEL_STAFF)))
    .where(_G.c.id == bindparam("grid_id"))
)
_TOPIC_STAFF = _pick(
    _P.c.id.in_(select(_ST.c.person_id).where(_ST.c.topic_id == bindparam("topic_id")))
)
_AT_LEVEL = _pick(_P.c.staff_level == bindparam("level"))


def place_of(conn: Connection, person_id: int) -> Place | None:
    """Where the person lives (their approved binding), or None."""
    rows = _PLACE.run(conn, {"person_id": person_id})
    if not rows:
        return None
    grid_id, building, unit, room, phone, building_id = rows[0]
    return Place(grid_id, f"{building}-{unit}-{room}", phone, building_id)


def route(conn: Connection, *, person_id: int | None, topic_id: int | None) -> Route:
    """Choose the assignee of a new ticket from `person_id` under `topic_id` (see above).

    `person_id` None: someone not seen before, who cannot have a household yet.
    """
    place = place_of(conn, person_id) if person_id is not None else None
    grid_id = place.grid_id if place else None
    if topic_id is not None and grid_id is not None:
        found = _TOPIC_AND_GRID.run(conn, {"topic_id": topic_id, "grid_id": grid_id})
        if found:
            return Route(found[0][0], TOPIC_AND_GRID, place)
    if grid_id is not None:
        found = _GRID_WORKER.run(conn, {"grid_id": grid_id})
        if found and found[0][0] is not None:
            return Route(found[0][0], GRID_WORKER, place)
    if topic_id is not None:
        found = _TOPIC_STAFF.run(conn, {"topic_id": topic_id})
        if found:
            return Route(found[0][0], TOPIC, place)
    found = _AT_LEVEL.run(conn, {"level": LEVEL_COMMUNITY})
    if found:
        return Route(found[0][0], SUPERVISOR, place)
    return Route(None, TRIAGE, place)


def duty_at_level(conn: Connection, level: int) -> int | None:
    """The person on duty at an escalation level: the least loaded, then the lowest id."""
    found = _AT_LEVEL.run(conn, {"level": level})
    return int(found[0][0]) if found else None


_PERSON_BY_OPENID = Prepared(select(_P.c.id).where(_P.c.openid == bindparam("openid")))


@dataclass(frozen=True)
class Prerouted:
    """A new ticket's topic and route, worked out before the write transaction begins.

    Routing only reads, so it need not hold SQLite's single write lock: the conversation
    routes the message it expects to be filed in a read transaction first, and filing uses
    the result when the ticket's topic is the one routed for. (If staff or bindings change
    in the milliseconds between, the ticket goes where it would have gone a moment before.)
    """

    topic: str | None  # the topic name routed for (None: triage)
    topic_id: int | None
    sla_hours: float | None  # None: the triage deadline
    route: Route


def preroute(conn: Connection, *, openid: str, topic: str | None) -> Prerouted:
    from .tickets import enabled_topic

    found = enabled_topic(conn, topic) if topic else None
    topic_id, sla_hours = found if found else (None, None)
    person = _PERSON_BY_OPENID.run(conn, {"openid": openid})
    person_id = int(person[0][0]) if person else None
    routed = route(conn, person_id=person_id, topic_id=topic_id)
    return Prerouted(topic if topic_id is not None else None, topic_id, sla_hours, routed)

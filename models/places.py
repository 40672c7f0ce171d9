"""Places: grids (网格), buildings (楼栋) and households (户), and who lives where.

A resident binds themself to a household by chat (`绑定 16-2-501`); the binding is pending
until staff approve it. Several people may belong to one household; a person belongs to at
most one (a new binding replaces the old). Only what the job needs is kept: the address, and a
phone number only if the resident gives one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Boolean, Float, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from .base import Base, UTCDateTime
from .communities import HOME_ID, community_names
from .outbox import enqueue
from .people import Person, Role
from .pushes import BINDING_APPROVED, BINDING_REJECTED, BINDING_REQUESTED

_T = TypeVar("_T")

PENDING = "pending"
APPROVED = "approved"


class Grid(Base):
    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique within its community (two communities may each have a 第一网格).
    name: Mapped[str] = mapped_column(String(64))
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id"), server_default=str(HOME_ID)
    )
    # The grid worker (网格员): tickets from the grid go to them when no one is more specific.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    buildings: Mapped[list[Building]] = relationship(
        back_populates="grid", order_by="Building.name"
    )

    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_grid_community_name"),)


class Building(Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))  # "16", "16号楼"; unique in its community
    community_id: Mapped[int] = mapped_column(
        ForeignKey("community.id"), server_default=str(HOME_ID)
    )
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True)
    # Where it stands (WGS-84, as a WeChat location message gives them), when the places
    # file says: a location message is placed at the nearest building (landmarks.py).
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    grid: Mapped[Grid | None] = relationship(back_populates="buildings")

    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_building_community_name"),)


class Household(Base):
    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"))
    unit: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(16))
    # Listed by an admin (places import): the known households a household poll's quorum
    # counts. Households created by an approved binding are not listed.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    building: Mapped[Building] = relationship()

    __table_args__ = (UniqueConstraint("building_id", "unit", "room", name="uq_household_address"),)

    @property
    def label(self) -> str:
        return f"{self.building.name}-{self.unit}-{self.room}"


class Binding(Base):
    """A person's claim to live in a household; pending until staff approve it."""

    __tablename__ = "binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    household: Mapped[Household] = relationship()


def grid_by_name(db: Session, name: str, community_id: int | None = None) -> Grid | None:
    """The grid named `name` in the community; None: anywhere, when only one has the name."""
    query = select(Grid).where(Grid.name == name)
    if community_id is not None:
        query = query.where(Grid.community_id == community_id)
    return _only(db.scalars(query.limit(2)).all())


def building_by_name(db: Session, name: str, community_id: int | None = None) -> Building | None:
    """The building named `name` exactly, like grid_by_name."""
    query = select(Building).where(Building.name == name)
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    return _only(db.scalars(query.limit(2)).all())


def _only(found: Sequence[_T]) -> _T | None:
    """The one row found; None when there is none, or several (an ambiguous name)."""
    return found[0] if len(found) == 1 else None


def approved_binding(db: Session, person_id: int) -> Binding | None:
    return db.scalars(
        select(Binding).where(Binding.person_id == person_id, Binding.status == APPROVED)
    ).one_or_none()


def mask_phone(phone: str | None) -> str | None:
    """138****5678: how staff see a resident's phone number."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_openid(openid: str) -> str:
    """o_re…wang: enough for staff to tell people apart, not enough to reuse the openid."""
    return openid if len(openid) <= 8 else f"{openid[:4]}…{openid[-4:]}"


def find_building(db: Session, name: str, community_id: int | None = None) -> Building | None:
    """The building a person means by `name`: "16" also finds "16号楼", "a座" also finds "A".

    Within the community when given; None: anywhere in the street, when only one community
    has a building by the best-matching name."""
    return _only(find_buildings(db, name, community_id))


def find_buildings(db: Session, name: str, community_id: int | None = None) -> list[Building]:
    """Every building `name` may mean (find_building), one per community having it."""
    name = name.strip()
    bare = _SUFFIX.sub("", name) or name
    candidates = list(
        dict.fromkeys(
            [name, bare, *(b + suffix for b in (bare, bare.upper()) for suffix in ("", *_SUFFIXES))]
        )
    )
    query = select(Building).where(Building.name.in_(candidates))
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    by_name: dict[str, list[Building]] = {}
    for building in db.scalars(query.order_by(Building.community_id)):
        by_name.setdefault(building.name, []).append(building)
    return next((by_name[c] for c in candidates if c in by_name), [])


_SUFFIXES = ("号楼", "栋", "幢", "座", "号")
_SUFFIX = re.compile("(" + "|".join(_SUFFIXES) + ")$")


def household_at(db: Session, building: Building, unit: str, room: str) -> Household | None:
    """The household building-unit-room (binding, the places file, paper ballots)."""
    return db.scalars(
        select(Household).where(
            Household.building_id == building.id, Household.unit == unit, Household.room == room
        )
    ).one_or_none()


# -- bindings: 绑定 / 审核 / `residents approve` --------------------------------------------


class BindingError(Exception):
    """A binding request or decision that cannot be made; the subclass says why."""


class UnknownBuilding(BindingError):
    def __init__(self, building: str) -> None:
        super().__init__(f"no building named {building!r}")
        self.building = building


class AmbiguousBuilding(BindingError):
    """Several communities have a building by this name (`building`, as they call it), and
    the person's is not known: they choose one (`community_ids`, in the order to offer)."""

    def __init__(self, building: str, community_ids: list[int]) -> None:
        super().__init__(f"building {building!r} is in several communities")
        self.building = building
        self.community_ids = community_ids


class NoBinding(BindingError):
    """The person has no binding (pending or approved) to act on."""


class NotPending(BindingError):
    """The binding was decided already."""


def request_binding(
    db: Session,
    person_id: int,
    building: str,
    unit: str,
    room: str,
    now: datetime,
    phone: str | None = None,
    community_id: int | None = None,
) -> Binding:
    """Ask to live at building-unit-room: pending until staff approve; replaces an old one.

    The building is looked for in `community_id` (the one the person chose) when given,
    else in the person's own community, else anywhere in the street; AmbiguousBuilding when
    several communities have it and the person must choose. The household is created
    (unlisted) when the building is known but the household is not. Asking again for the
    same household changes nothing but the phone. The grid's worker is told of each new
    request.
    """
    person = db.get(Person, person_id)
    found = _building_for(db, person, building, community_id)
    if person is not None and person.role < Role.STAFF and person.community_id is None:
        person.community_id = found.community_id  # their choice, until a binding is approved
    household = household_at(db, found, unit, room)
    if household is None:
        household = Household(building=found, unit=unit, room=room, listed=False)
        db.add(household)
        db.flush()
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is not None and binding.household_id == household.id:
        # The same place again: an approved binding stays approved, a pending one keeps
        # waiting (the worker is not told twice); only a new phone number is taken.
        binding.phone = phone or binding.phone
        db.flush()
        return binding
    if binding is None:
        binding = Binding(person_id=person_id)
        db.add(binding)
    binding.household = household
    binding.status = PENDING
    binding.phone = phone
    binding.created_at = now
    binding.decided_at = None
    binding.decided_by = None
    db.flush()
    grid = found.grid
    if grid is not None and grid.worker_id is not None:
        payload = {
            "person": person.name if person is not None and person.name else None,
            "place": household.label,
            "phone": mask_phone(phone),
            "binding": binding.id,
        }
        enqueue(db, BINDING_REQUESTED.push(grid.worker_id, **payload, now=now), now)
    return binding


def _building_for(
    db: Session, person: Person | None, name: str, community_id: int | None
) -> Building:
    """The building `person` means by `name` (request_binding says where it is looked for)."""
    if community_id is None and person is not None and person.community_id is not None:
        own = find_building(db, name, person.community_id)
        if own is not None:
            return own
    found = find_buildings(db, name, community_id)
    if not found:
        raise UnknownBuilding(name)
    if len(found) > 1:
        raise AmbiguousBuilding(found[0].name, [b.community_id for b in found])
    return found[0]


def unbind(db: Session, person_id: int) -> str | None:
    """Remove the person's binding; the place it was for, or None when there was none."""
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is None:
        return None
    place = binding.household.label
    db.delete(binding)
    db.flush()
    return place


def approve_binding(db: Session, person_id: int, by: str, now: datetime) -> Binding:
    """Approve the person's pending binding and tell them; NoBinding / NotPending otherwise."""
    binding = _pending(db, person_id)
    binding.status = APPROVED
    binding.decided_at = now
    binding.decided_by = by[:64]
    person = db.get(Person, person_id)
    if person is not None and person.role < Role.STAFF:
        # A resident belongs to their household's community; staff keep the one they work in.
        person.community_id = binding.household.building.community_id
    db.flush()
    push = BINDING_APPROVED.push(
        person_id, place=binding.household.label, binding=binding.id, now=now
    )
    enqueue(db, push, now)
    return binding


def reject_binding(db: Session, person_id: int, by: str, now: datetime) -> str:
    """Turn down the person's pending binding (it is removed); the place it was for."""
    binding = _pending(db, person_id)
    place = binding.household.label
    push = BINDING_REJECTED.push(person_id, place=place, binding=binding.id, now=now)
    db.delete(binding)
    db.flush()
    enqueue(db, push, now)
    return place


def _pending(db: Session, person_id: int) -> Binding:
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is None:
        raise NoBinding(f"person {person_id} has no binding")
    if binding.status != PENDING:
        raise NotPending(f"the binding to {binding.household.label} is {binding.status} already")
    return binding


def pending_bindings(
    db: Session,
    grid_id: int | Collection[int] | None = None,
    community_id: int | None = None,
) -> list[tuple[Binding, Person]]:
    """Pending bindings, oldest first, with who asked; only those in the grid(s) and the
    community if given."""
    query = (
        select(Binding, Person)
        .join(Person, Person.id == Binding.person_id)
        .join(Household, Household.id == Binding.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Binding.status == PENDING)
        .order_by(Binding.created_at, Binding.id)
    )
    if isinstance(grid_id, int):
        query = query.where(Building.grid_id == grid_id)
    elif grid_id is not None:
        query = query.where(Building.grid_id.in_(list(grid_id)))
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    return [(b, p) for b, p in db.execute(query)]


def binding_by_id(db: Session, binding_id: int) -> Binding | None:
    return db.get(Binding, binding_id)


def worker_grid_ids(db: Session, person_id: int) -> list[int]:
    """The grids `person_id` is the grid worker of."""
    return list(db.scalars(select(Grid.id).where(Grid.worker_id == person_id)))


def pending_page(
    db: Session, *, offset: int = 0, limit: int = 50, community_id: int | None = None
) -> tuple[list[tuple[Binding, Person]], int]:
    """One page of pending bindings, oldest first, with who asked, and how many are pending
    (in the households of `community_id` when given)."""

    def pending(query: Any) -> Any:
        query = query.where(Binding.status == PENDING)
        if community_id is None:
            return query
        in_community = select(Household.id).join(Building, Building.id == Household.building_id)
        in_community = in_community.where(Building.community_id == community_id)
        return query.where(Binding.household_id.in_(in_community))

    total = db.scalar(pending(select(func.count()).select_from(Binding)))
    rows = db.execute(
        pending(select(Binding, Person).join(Person, Person.id == Binding.person_id))
        .options(selectinload(Binding.household).selectinload(Household.building))
        .order_by(Binding.created_at, Binding.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [(b, p) for b, p in rows], int(total or 0)


@dataclass(frozen=True)
class BuildingCount:
    name: str
    households: int
    residents: int  # people with an approved binding there


@dataclass(frozen=True)
class GridCount:
    """A grid as the console shows it; `name` None for buildings in no grid."""

    name: str | None
    worker: str | None
    buildings: tuple[BuildingCount, ...]

    @property
    def households(self) -> int:
        return sum(b.households for b in self.buildings)

    @property
    def residents(self) -> int:
        return sum(b.residents for b in self.buildings)


def grid_counts(db: Session, community_id: int | None = None) -> list[GridCount]:
    """Every grid with its worker and buildings, and the households and residents in each
    (those of `community_id` when given)."""
    households: dict[int, int] = {
        building: count
        for building, count in db.execute(
            select(Household.building_id, func.count()).group_by(Household.building_id)
        )
    }
    residents: dict[int, int] = {
        building: count
        for building, count in db.execute(
            select(Household.building_id, func.count())
            .join(Binding, Binding.household_id == Household.id)
            .where(Binding.status == APPROVED)
            .group_by(Household.building_id)
        )
    }
    workers: dict[int, str] = {
        person: name or mask_openid(openid)
        for person, name, openid in db.execute(
            select(Person.id, Person.name, Person.openid).join(Grid, Grid.worker_id == Person.id)
        )
    }
    by_grid: dict[int | None, list[BuildingCount]] = {}
    buildings = select(Building).order_by(Building.name)
    grids = select(Grid).order_by(Grid.name)
    if community_id is not None:
        buildings = buildings.where(Building.community_id == community_id)
        grids = grids.where(Grid.community_id == community_id)
    for building in db.scalars(buildings):
        count = BuildingCount(
            building.name, households.get(building.id, 0), residents.get(building.id, 0)
        )
        by_grid.setdefault(building.grid_id, []).append(count)
    out = [
        GridCount(
            g.name, workers.get(g.worker_id) if g.worker_id else None, tuple(by_grid.get(g.id, ()))
        )
        for g in db.scalars(grids)
    ]
    if by_grid.get(None):
        out.append(GridCount(None, None, tuple(by_grid[None])))
    return out


@dataclass(frozen=True)
class CommunityCount:
    name: str
    grids: int
    buildings: int
    households: int


def community_counts(db: Session) -> list[CommunityCount]:
    """Each community with its grids, buildings and households, in the order they were made."""

    def counts(query: object) -> dict[int, int]:
        return {key: count for key, count in db.execute(query)}  # type: ignore[call-overload]

    grids = counts(select(Grid.community_id, func.count()).group_by(Grid.community_id))
    buildings = counts(select(Building.community_id, func.count()).group_by(Building.community_id))
    households = counts(
        select(Building.community_id, func.count())
        .join(Household, Household.building_id == Building.id)
        .group_by(Building.community_id)
    )
    return [
        CommunityCount(name, grids.get(cid, 0), buildings.get(cid, 0), households.get(cid, 0))
        for cid, name in community_names(db).items()
    ]

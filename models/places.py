"""Places: grids (网格), buildings (楼栋) and households (户), and who lives where.

A resident binds themself to a household by chat (`绑定 16-2-501`); the binding is pending
until staff approve it. Several people may belong to one household; a person belongs to at
most one (a new binding replaces the old). Only what the job needs is kept: the address, and a
phone number only if the resident gives one.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, UTCDateTime
from .outbox import Push, enqueue
from .people import Person, Role

PENDING = "pending"
APPROVED = "approved"


class Grid(Base):
    __tablename__ = "grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # The grid worker (网格员): tickets from the grid go to them when no one is more specific.
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    buildings: Mapped[list[Building]] = relationship(
        back_populates="grid", order_by="Building.name"
    )


class Building(Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)  # "16", "16号楼"
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), nullable=True)
    grid: Mapped[Grid | None] = relationship(back_populates="buildings")


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


def grid_by_name(db: Session, name: str) -> Grid | None:
    return db.scalars(select(Grid).where(Grid.name == name)).one_or_none()


def building_by_name(db: Session, name: str) -> Building | None:
    return db.scalars(select(Building).where(Building.name == name)).one_or_none()


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


def find_building(db: Session, name: str) -> Building | None:
    """The building a person means by `name`: "16" also finds "16号楼", "a座" also finds "A"."""
    name = name.strip()
    bare = _SUFFIX.sub("", name) or name
    candidates = list(
        dict.fromkeys(
            [name, bare, *(b + suffix for b in (bare, bare.upper()) for suffix in ("", *_SUFFIXES))]
        )
    )
    found = db.scalars(select(Building).where(Building.name.in_(candidates))).all()
    by_name = {b.name: b for b in found}
    return next((by_name[c] for c in candidates if c in by_name), None)


_SUFFIXES = ("号楼", "栋", "幢", "座", "号")
_SUFFIX = re.compile("(" + "|".join(_SUFFIXES) + ")$")


# -- places files: `yishiting places import` ---------------------------------------------


class PlacesFileError(ValueError):
    """A places file that cannot be used; `line` points at the problem (0 = unknown)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class GridSpec:
    name: str
    worker: str | None  # an openid; None: keep the current worker; "": no worker
    buildings: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class HouseholdSpec:
    building: str
    unit: str
    room: str
    line: int = 0

    @property
    def label(self) -> str:
        return f"{self.building}-{self.unit}-{self.room}"


@dataclass(frozen=True)
class PlacesSpec:
    grids: tuple[GridSpec, ...]
    households: tuple[HouseholdSpec, ...]


_TOML_LINE = re.compile(r"at line (\d+)")
_HEADER = re.compile(r"^\s*\[\[\s*(\w+)\s*\]\]")
_GRID_KEYS = {"name", "worker", "buildings"}
_HOUSEHOLD_KEYS = {"building", "unit", "room"}


class _Tables:
    """Where each `[[grid]]` / `[[household]]` table of a file starts and ends, by line."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.spans: dict[str, list[tuple[int, int]]] = {}
        starts = [
            (i, m.group(1)) for i, line in enumerate(self.lines) if (m := _HEADER.match(line))
        ]
        for n, (start, kind) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else len(self.lines)
            self.spans.setdefault(kind, []).append((start, end))

    def line(self, kind: str, index: int, key: str | None = None, value: str | None = None) -> int:
        """The 1-based line of table `index` of `kind`, or of `key` (holding `value`) in it."""
        spans = self.spans.get(kind, [])
        if index >= len(spans):
            return 0  # written as an inline array: no header to point at
        start, end = spans[index]
        if key is not None:
            pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for number in range(start + 1, end):
                text = self.lines[number]
                if value is not None:
                    if json.dumps(value, ensure_ascii=False) in text or f"'{value}'" in text:
                        return number + 1
                elif pattern.match(text):
                    return number + 1
        return start + 1

    def top_level(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(\[+\s*{re.escape(key)}\s*\]+|{re.escape(key)}\s*=)")
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), 0)


def parse_places(text: str) -> PlacesSpec:
    """Read a places file (TOML), or raise PlacesFileError with the line and the reason."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise PlacesFileError(
            int(found.group(1)) if found else 0, f"not valid TOML: {exc}"
        ) from None
    tables = _Tables(text)
    for key in data:
        if key not in ("grid", "household"):
            raise PlacesFileError(
                tables.top_level(key), f"unknown key {key!r} (expected [[grid]] or [[household]])"
            )
    raw_grids = _table_list(data, "grid", tables)
    raw_households = _table_list(data, "household", tables)
    if not raw_grids and not raw_households:
        raise PlacesFileError(0, "no [[grid]] or [[household]] tables")
    grids: list[GridSpec] = []
    grid_of: dict[str, str] = {}  # building → the grid that lists it
    for index, raw in enumerate(raw_grids):
        grid = _grid(raw, index, tables)
        if any(g.name == grid.name for g in grids):
            raise PlacesFileError(grid.line, f"grid {grid.name!r} is listed twice")
        for building in grid.buildings:
            if building in grid_of:
                where = "twice in" if grid_of[building] == grid.name else "also in"
                raise PlacesFileError(
                    tables.line("grid", index, "buildings", building),
                    f"building {building!r} is listed {where} grid {grid_of[building]!r}",
                )
            grid_of[building] = grid.name
        grids.append(grid)
    households: list[HouseholdSpec] = []
    for index, raw in enumerate(raw_households):
        household = _household(raw, index, tables)
        if any(h.label == household.label for h in households):
            raise PlacesFileError(household.line, f"household {household.label} is listed twice")
        households.append(household)
    return PlacesSpec(tuple(grids), tuple(households))


def _table_list(data: dict[str, Any], key: str, tables: _Tables) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise PlacesFileError(tables.top_level(key), f"write each {key} as a [[{key}]] table")
    return value


def _grid(raw: dict[str, Any], index: int, tables: _Tables) -> GridSpec:
    at = tables.line("grid", index)
    for key in raw:
        if key not in _GRID_KEYS:
            raise PlacesFileError(tables.line("grid", index, key), f"[[grid]]: unknown key {key!r}")
    name = _text(raw.get("name"))
    if not name:
        at = tables.line("grid", index, "name") if "name" in raw else at
        raise PlacesFileError(at, "a [[grid]] without a name")
    if len(name) > 64:
        raise PlacesFileError(at, f"grid name {name!r} is longer than 64 characters")
    where = f"grid {name!r}"
    worker = raw.get("worker")
    if worker is not None and (not isinstance(worker, str) or len(worker.strip()) > 64):
        raise PlacesFileError(
            tables.line("grid", index, "worker"), f"{where}: worker must be an openid"
        )
    buildings = raw.get("buildings", [])
    if not isinstance(buildings, list):
        raise PlacesFileError(
            tables.line("grid", index, "buildings"),
            f'{where}: buildings must be a list, e.g. ["16", "17"]',
        )
    names: list[str] = []
    for building in buildings:
        building_name = _text(building)
        if not building_name or len(building_name) > 32:
            raise PlacesFileError(
                tables.line("grid", index, "buildings"),
                f"{where}: {building!r} is not a building name (text of 1 to 32 characters)",
            )
        names.append(building_name)
    line = tables.line("grid", index, "name")
    return GridSpec(name, None if worker is None else worker.strip(), tuple(names), line)


def _household(raw: dict[str, Any], index: int, tables: _Tables) -> HouseholdSpec:
    for key in raw:
        if key not in _HOUSEHOLD_KEYS:
            raise PlacesFileError(
                tables.line("household", index, key), f"[[household]]: unknown key {key!r}"
            )
    values: dict[str, str] = {}
    for key, limit in (("building", 32), ("unit", 16), ("room", 16)):
        value = _text(raw.get(key))
        if not value or len(value) > limit:
            reason = "is missing" if key not in raw else f"must be text of 1 to {limit} characters"
            raise PlacesFileError(
                tables.line("household", index, key), f"[[household]]: {key} {reason}"
            )
        values[key] = value
    line = tables.line("household", index, "building")
    return HouseholdSpec(values["building"], values["unit"], values["room"], line)


def _text(value: Any) -> str:
    """A name as written: text, or a whole number (buildings = [16, 17] means "16", "17")."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def import_places(db: Session, spec: PlacesSpec, now: datetime) -> list[str]:
    """Make the grids, buildings and listed households of `spec`; one line per change.

    Buildings a grid lists are created or moved to it; buildings it does not list are left
    where they are. A grid's `worker` becomes staff (created if never seen); a grid without
    a `worker` key keeps its worker, `worker = ""` removes it. Nothing is deleted. Raises
    PlacesFileError, before changing anything, for a household in an unknown building.
    """
    in_file = {b for grid in spec.grids for b in grid.buildings}
    known = set(db.scalars(select(Building.name)))
    for household in spec.households:
        if household.building not in in_file | known:
            raise PlacesFileError(
                household.line,
                f"household {household.label}: building {household.building!r} is in no grid "
                "(list it under a [[grid]])",
            )
    changes: list[str] = []
    for grid in spec.grids:
        changes += _import_grid(db, grid, now)
    for household in spec.households:
        changes += _import_household(db, household)
    db.flush()
    return changes


def _import_grid(db: Session, spec: GridSpec, now: datetime) -> list[str]:
    changes: list[str] = []
    grid = grid_by_name(db, spec.name)
    if grid is None:
        grid = Grid(name=spec.name)
        db.add(grid)
        db.flush()
        changes.append(f"+ grid {spec.name}")
    if spec.worker is not None:
        worker = _ensure_staff(db, spec.worker, now, changes) if spec.worker else None
        new_id = worker.id if worker is not None else None
        if grid.worker_id != new_id:
            old = db.get(Person, grid.worker_id) if grid.worker_id is not None else None
            before = old.openid if old is not None else "(none)"
            changes.append(f"~ grid {spec.name}: worker {before} → {spec.worker or '(none)'}")
            grid.worker_id = new_id
    for name in spec.buildings:
        building = building_by_name(db, name)
        if building is None:
            db.add(Building(name=name, grid_id=grid.id))
            changes.append(f"+ building {name} (grid {spec.name})")
        elif building.grid_id != grid.id:
            old_grid = db.get(Grid, building.grid_id) if building.grid_id is not None else None
            before = old_grid.name if old_grid is not None else "(none)"
            changes.append(f"~ building {name}: grid {before} → {spec.name}")
            building.grid_id = grid.id
    db.flush()
    return changes


def _ensure_staff(db: Session, openid: str, now: datetime, changes: list[str]) -> Person:
    """The person behind `openid` as staff (level 1 unless higher), created if never seen."""
    person = db.scalars(select(Person).where(Person.openid == openid)).one_or_none()
    if person is None:
        # following=True: they may follow already (before the bot); a later unsubscribe
        # event corrects it.
        person = Person(
            openid=openid,
            role=Role.STAFF,
            staff_level=_LEVEL_STAFF,
            following=True,
            first_seen_at=now,
            last_seen_at=now,
            cs_sent=0,
        )
        db.add(person)
        db.flush()
        changes.append(f"+ staff {openid} (not seen yet)")
        return person
    if person.role < Role.STAFF or person.staff_level < _LEVEL_STAFF:
        changes.append(f"~ staff {openid}: {person.role.name.lower()} → staff")
        person.role = max(person.role, Role.STAFF)
        person.staff_level = max(person.staff_level, _LEVEL_STAFF)
    return person


_LEVEL_STAFF = 1  # staff.LEVEL_STAFF (staff.py imports this module, not the other way)


def _import_household(db: Session, spec: HouseholdSpec) -> list[str]:
    building = building_by_name(db, spec.building)
    assert building is not None  # checked by import_places
    household = _household_at(db, building, spec.unit, spec.room)
    if household is None:
        db.add(Household(building_id=building.id, unit=spec.unit, room=spec.room, listed=True))
        return [f"+ household {spec.label}"]
    if not household.listed:
        household.listed = True
        return [f"~ household {spec.label}: listed"]
    return []


def _household_at(db: Session, building: Building, unit: str, room: str) -> Household | None:
    return db.scalars(
        select(Household).where(
            Household.building_id == building.id, Household.unit == unit, Household.room == room
        )
    ).one_or_none()


@dataclass(frozen=True)
class GridSummary:
    """A grid as `places list` shows it; `name` None for the buildings in no grid."""

    name: str | None
    worker: str | None  # openid (and name)
    buildings: tuple[tuple[str, int], ...]  # building, households known


def places_overview(db: Session) -> list[GridSummary]:
    """Every grid with its worker and buildings, and the households known in each building."""
    counts: dict[int, int] = {
        building_id: count
        for building_id, count in db.execute(
            select(Household.building_id, func.count()).group_by(Household.building_id)
        )
    }
    buildings = db.scalars(select(Building).order_by(Building.name)).all()
    out: list[GridSummary] = []
    for grid in db.scalars(select(Grid).order_by(Grid.name)):
        worker = db.get(Person, grid.worker_id) if grid.worker_id is not None else None
        label = f"{worker.openid} ({worker.name})" if worker and worker.name else None
        out.append(
            GridSummary(
                grid.name,
                label or (worker.openid if worker else None),
                tuple((b.name, counts.get(b.id, 0)) for b in buildings if b.grid_id == grid.id),
            )
        )
    loose = tuple((b.name, counts.get(b.id, 0)) for b in buildings if b.grid_id is None)
    if loose:
        out.append(GridSummary(None, None, loose))
    return out


# -- bindings: 绑定 / 审核 / `residents approve` --------------------------------------------


class BindingError(Exception):
    """A binding request or decision that cannot be made; the subclass says why."""


class UnknownBuilding(BindingError):
    def __init__(self, building: str) -> None:
        super().__init__(f"no building named {building!r}")
        self.building = building


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
) -> Binding:
    """Ask to live at building-unit-room: pending until staff approve; replaces an old one.

    The household is created (unlisted) when the building is known but the household is
    not. Asking again for the same household changes nothing but the phone. The grid's
    worker is told of each new request.
    """
    found = find_building(db, building)
    if found is None:
        raise UnknownBuilding(building)
    household = _household_at(db, found, unit, room)
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
        person = db.get(Person, person_id)
        payload = {
            "person": person.name if person is not None and person.name else "居民",
            "place": household.label,
            "phone": mask_phone(phone),
            "binding": binding.id,
        }
        key = f"binding.requested:{binding.id}:{now.timestamp()}"
        enqueue(db, Push("binding.requested", grid.worker_id, payload, key), now)
    return binding


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
    db.flush()
    key = f"binding.approved:{binding.id}:{now.timestamp()}"
    payload = {"place": binding.household.label}
    enqueue(db, Push("binding.approved", person_id, payload, key), now)
    return binding


def reject_binding(db: Session, person_id: int, by: str, now: datetime) -> str:
    """Turn down the person's pending binding (it is removed); the place it was for."""
    binding = _pending(db, person_id)
    place = binding.household.label
    key = f"binding.rejected:{binding.id}:{now.timestamp()}"
    db.delete(binding)
    db.flush()
    enqueue(db, Push("binding.rejected", person_id, {"place": place}, key), now)
    return place


def _pending(db: Session, person_id: int) -> Binding:
    binding = db.scalars(select(Binding).where(Binding.person_id == person_id)).one_or_none()
    if binding is None:
        raise NoBinding(f"person {person_id} has no binding")
    if binding.status != PENDING:
        raise NotPending(f"the binding to {binding.household.label} is {binding.status} already")
    return binding


def pending_bindings(
    db: Session, grid_id: int | Collection[int] | None = None
) -> list[tuple[Binding, Person]]:
    """Pending bindings, oldest first, with who asked; only those in the grid(s) if given."""
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
    return [(b, p) for b, p in db.execute(query)]


def binding_by_id(db: Session, binding_id: int) -> Binding | None:
    return db.get(Binding, binding_id)


def worker_grid_ids(db: Session, person_id: int) -> list[int]:
    """The grids `person_id` is the grid worker of."""
    return list(db.scalars(select(Grid.id).where(Grid.worker_id == person_id)))

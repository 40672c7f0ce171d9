"""Places files (`yishiting places import`): read a TOML list of grids, buildings and
households, make them, and show what is known (`places list`)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .people import Person, Role
from .places import Building, Grid, Household, _household_at, building_by_name, grid_by_name


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

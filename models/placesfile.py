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

from .communities import HOME_ID, Community, community_by_name, community_names
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
    community: str | None = None  # the row's community column; None: the import's


@dataclass(frozen=True)
class HouseholdSpec:
    building: str
    unit: str
    room: str
    line: int = 0
    community: str | None = None

    @property
    def label(self) -> str:
        return f"{self.building}-{self.unit}-{self.room}"


@dataclass(frozen=True)
class PlacesSpec:
    grids: tuple[GridSpec, ...]
    households: tuple[HouseholdSpec, ...]


_TOML_LINE = re.compile(r"at line (\d+)")
_HEADER = re.compile(r"^\s*\[\[\s*(\w+)\s*\]\]")
# `community` (or "社区"): the row's community, by name (a file may cover several).
_COMMUNITY_KEYS = ("community", "社区")
_GRID_KEYS = {"name", "worker", "buildings", *_COMMUNITY_KEYS}
_HOUSEHOLD_KEYS = {"building", "unit", "room", *_COMMUNITY_KEYS}


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
            pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
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
    # (community, building) → the grid that lists it: names are unique within a community
    grid_of: dict[tuple[str | None, str], str] = {}
    for index, raw in enumerate(raw_grids):
        grid = _grid(raw, index, tables)
        if any((g.community, g.name) == (grid.community, grid.name) for g in grids):
            raise PlacesFileError(grid.line, f"grid {grid.name!r} is listed twice")
        for building in grid.buildings:
            if (grid.community, building) in grid_of:
                other = grid_of[grid.community, building]
                where = "twice in" if other == grid.name else "also in"
                raise PlacesFileError(
                    tables.line("grid", index, "buildings", building),
                    f"building {building!r} is listed {where} grid {other!r}",
                )
            grid_of[grid.community, building] = grid.name
        grids.append(grid)
    households: list[HouseholdSpec] = []
    for index, raw in enumerate(raw_households):
        household = _household(raw, index, tables)
        same = (household.community, household.label)
        if any((h.community, h.label) == same for h in households):
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
    community = _community(raw, "grid", index, tables)
    return GridSpec(name, None if worker is None else worker.strip(), tuple(names), line, community)


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
    community = _community(raw, "household", index, tables)
    return HouseholdSpec(values["building"], values["unit"], values["room"], line, community)


def _community(raw: dict[str, Any], kind: str, index: int, tables: _Tables) -> str | None:
    """The row's community column (`community` or "社区"), or None when it has none."""
    keys = [key for key in _COMMUNITY_KEYS if key in raw]
    if not keys:
        return None
    value = raw[keys[0]]
    if len(keys) > 1 or not isinstance(value, str) or not value.strip():
        raise PlacesFileError(
            tables.line(kind, index, keys[-1]),
            f"[[{kind}]]: community must be one community's name (text)",
        )
    return value.strip()


def _text(value: Any) -> str:
    """A name as written: text, or a whole number (buildings = [16, 17] means "16", "17")."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def import_places(
    db: Session, spec: PlacesSpec, now: datetime, community_id: int | None = None
) -> list[str]:
    """Make the grids, buildings and listed households of `spec`; one line per change.

    Each row goes into its community column's community, else `community_id`, else the
    first community. Buildings a grid lists are created or moved to it; buildings it does
    not list are left where they are. A grid's `worker` becomes staff (created if never
    seen); a grid without a `worker` key keeps its worker, `worker = ""` removes it.
    Nothing is deleted. Raises PlacesFileError, before changing anything, for a row of an
    unknown community or a household in an unknown building.
    """
    ids = _communities(db, spec, community_id)
    named = community_id is not None or len(ids) > 1  # say which community each change is in
    names = {cid: name for name, cid in ids.items() if name is not None}

    def where(row: GridSpec | HouseholdSpec) -> int:
        return ids[row.community]

    in_file = {(where(grid), b) for grid in spec.grids for b in grid.buildings}
    known = {(cid, name) for cid, name in db.execute(select(Building.community_id, Building.name))}
    for household in spec.households:
        if (where(household), household.building) not in in_file | known:
            raise PlacesFileError(
                household.line,
                f"household {household.label}: building {household.building!r} is in no grid "
                "(list it under a [[grid]])",
            )
    changes: list[str] = []
    for grid in spec.grids:
        cid = where(grid)
        changes += _in(names, cid, named, _import_grid(db, grid, now, cid))
    for household in spec.households:
        cid = where(household)
        changes += _in(names, cid, named, _import_household(db, household, cid))
    db.flush()
    return changes


def _communities(db: Session, spec: PlacesSpec, community_id: int | None) -> dict[str | None, int]:
    """Each community the rows name (None: the import's own) → its id; PlacesFileError for a
    community that does not exist, or a row naming another than `community_id`."""
    home = db.get(Community, community_id) if community_id is not None else None
    ids: dict[str | None, int] = {None: home.id if home is not None else HOME_ID}
    if home is not None:
        ids[home.name] = home.id
    rows: list[GridSpec | HouseholdSpec] = [*spec.grids, *spec.households]
    for row in rows:
        if row.community is None or row.community in ids:
            continue
        if home is not None:
            raise PlacesFileError(
                row.line, f"community {row.community!r} is not {home.name!r} (--community)"
            )
        found = community_by_name(db, row.community)
        if found is None:
            raise PlacesFileError(
                row.line,
                f"no community named {row.community!r} (add it first: yishiting community add)",
            )
        ids[row.community] = found.id
    return ids


def _in(names: dict[int, str], cid: int, named: bool, changes: list[str]) -> list[str]:
    """The change lines, each led by its community's name when the import names one."""
    if not named:
        return changes
    return [f"{names.get(cid, cid)}: {change}" for change in changes]


def _import_grid(db: Session, spec: GridSpec, now: datetime, community_id: int) -> list[str]:
    changes: list[str] = []
    grid = grid_by_name(db, spec.name, community_id)
    if grid is None:
        grid = Grid(name=spec.name, community_id=community_id)
        db.add(grid)
        db.flush()
        changes.append(f"+ grid {spec.name}")
    if spec.worker is not None:
        worker = _ensure_staff(db, spec.worker, now, changes, community_id) if spec.worker else None
        new_id = worker.id if worker is not None else None
        if grid.worker_id != new_id:
            old = db.get(Person, grid.worker_id) if grid.worker_id is not None else None
            before = old.openid if old is not None else "(none)"
            changes.append(f"~ grid {spec.name}: worker {before} → {spec.worker or '(none)'}")
            grid.worker_id = new_id
    for name in spec.buildings:
        building = building_by_name(db, name, community_id)
        if building is None:
            db.add(Building(name=name, grid_id=grid.id, community_id=community_id))
            changes.append(f"+ building {name} (grid {spec.name})")
        elif building.grid_id != grid.id:
            old_grid = db.get(Grid, building.grid_id) if building.grid_id is not None else None
            before = old_grid.name if old_grid is not None else "(none)"
            changes.append(f"~ building {name}: grid {before} → {spec.name}")
            building.grid_id = grid.id
    db.flush()
    return changes


def _ensure_staff(
    db: Session, openid: str, now: datetime, changes: list[str], community_id: int
) -> Person:
    """The person behind `openid` as staff (level 1 unless higher), created if never seen;
    one made staff here works in the grid's community (staff already keep theirs)."""
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
            community_id=community_id,
        )
        db.add(person)
        db.flush()
        changes.append(f"+ staff {openid} (not seen yet)")
        return person
    if person.role < Role.STAFF or person.staff_level < _LEVEL_STAFF:
        changes.append(f"~ staff {openid}: {person.role.name.lower()} → staff")
        if person.role < Role.STAFF:
            person.community_id = community_id  # a resident's community was where they live
        person.role = max(person.role, Role.STAFF)
        person.staff_level = max(person.staff_level, _LEVEL_STAFF)
    return person


_LEVEL_STAFF = 1  # staff.LEVEL_STAFF (staff.py imports this module, not the other way)


def _import_household(db: Session, spec: HouseholdSpec, community_id: int) -> list[str]:
    building = building_by_name(db, spec.building, community_id)
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
    community: str = ""


def places_overview(db: Session, community_id: int | None = None) -> list[GridSummary]:
    """Every grid with its worker and buildings, and the households known in each, by
    community (only `community_id`'s when given)."""
    counts: dict[int, int] = {
        building_id: count
        for building_id, count in db.execute(
            select(Household.building_id, func.count()).group_by(Household.building_id)
        )
    }
    names = community_names(db)
    buildings = db.scalars(select(Building).order_by(Building.name)).all()
    grids = db.scalars(select(Grid).order_by(Grid.name)).all()
    out: list[GridSummary] = []
    for cid, community in names.items():
        if community_id is not None and cid != community_id:
            continue
        for grid in (g for g in grids if g.community_id == cid):
            worker = db.get(Person, grid.worker_id) if grid.worker_id is not None else None
            label = f"{worker.openid} ({worker.name})" if worker and worker.name else None
            out.append(
                GridSummary(
                    grid.name,
                    label or (worker.openid if worker else None),
                    tuple((b.name, counts.get(b.id, 0)) for b in buildings if b.grid_id == grid.id),
                    community,
                )
            )
        loose = tuple(
            (b.name, counts.get(b.id, 0))
            for b in buildings
            if b.grid_id is None and b.community_id == cid
        )
        if loose:
            out.append(GridSummary(None, None, loose, community))
    return out

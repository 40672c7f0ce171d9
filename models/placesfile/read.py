"""Reading a places file: TOML `[[grid]]`, `[[household]]`, `[[building]]` (a building's
coordinates) and `[[place]]` (a named place that is not a building: a gate, a square, the car
park) tables, checked line by line.

A row may name its community (`community = "…"` or `"社区" = "…"`); rows without one go
where the import puts them (write.py)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any


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
class BuildingSpec:
    """A building's coordinates (WGS-84, as a WeChat location message gives them)."""

    name: str
    lat: float | None
    lon: float | None
    line: int = 0
    community: str | None = None


@dataclass(frozen=True)
class LandmarkSpec:
    """A `[[place]]`: a name residents use for a spot, the building it stands by, its grid."""

    name: str
    aliases: tuple[str, ...] = ()
    building: str | None = None
    grid: str | None = None
    lat: float | None = None
    lon: float | None = None
    line: int = 0
    community: str | None = None


@dataclass(frozen=True)
class PlacesSpec:
    grids: tuple[GridSpec, ...]
    households: tuple[HouseholdSpec, ...]
    buildings: tuple[BuildingSpec, ...] = ()
    places: tuple[LandmarkSpec, ...] = ()


_TOML_LINE = re.compile(r"at line (\d+)")
_HEADER = re.compile(r"^\s*\[\[\s*(\w+)\s*\]\]")
# `community` (or "社区"): the row's community, by name (a file may cover several).
_COMMUNITY_KEYS = ("community", "社区")
_GRID_KEYS = {"name", "worker", "buildings", *_COMMUNITY_KEYS}
_HOUSEHOLD_KEYS = {"building", "unit", "room", *_COMMUNITY_KEYS}
_BUILDING_KEYS = {"name", "lat", "lon", *_COMMUNITY_KEYS}
_PLACE_KEYS = {"name", "aliases", "building", "grid", "lat", "lon", *_COMMUNITY_KEYS}
_KINDS = ("grid", "household", "building", "place")
# The landmark table's columns: name String(32), aliases String(200) comma-joined.
NAME_LIMIT = 32
ALIASES_LIMIT = 200


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
        if key not in _KINDS:
            raise PlacesFileError(
                tables.top_level(key),
                f"unknown key {key!r} (expected [[grid]], [[household]], [[building]] or "
                "[[place]])",
            )
    raw_grids = _table_list(data, "grid", tables)
    raw_households = _table_list(data, "household", tables)
    raw_buildings = _table_list(data, "building", tables)
    raw_places = _table_list(data, "place", tables)
    if not (raw_grids or raw_households or raw_buildings or raw_places):
        raise PlacesFileError(0, "no [[grid]], [[household]], [[building]] or [[place]] tables")
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
    buildings: list[BuildingSpec] = []
    for index, raw in enumerate(raw_buildings):
        row = _building(raw, index, tables)
        if any((b.community, b.name) == (row.community, row.name) for b in buildings):
            raise PlacesFileError(row.line, f"[[building]] {row.name!r} is listed twice")
        buildings.append(row)
    places: list[LandmarkSpec] = []
    for index, raw in enumerate(raw_places):
        place = _place(raw, index, tables)
        if any((p.community, p.name) == (place.community, place.name) for p in places):
            raise PlacesFileError(place.line, f"[[place]] {place.name!r} is listed twice")
        places.append(place)
    return PlacesSpec(tuple(grids), tuple(households), tuple(buildings), tuple(places))


def _unknown_keys(
    raw: dict[str, Any], kind: str, allowed: set[str], index: int, tables: _Tables
) -> None:
    for key in raw:
        if key not in allowed:
            raise PlacesFileError(tables.line(kind, index, key), f"[[{kind}]]: unknown key {key!r}")


def _name(raw: dict[str, Any], kind: str, index: int, tables: _Tables, key: str = "name") -> str:
    value = _text(raw.get(key))
    if not value or len(value) > NAME_LIMIT:
        reason = "is missing" if key not in raw else f"must be text of 1 to {NAME_LIMIT} characters"
        at = tables.line(kind, index, key) if key in raw else tables.line(kind, index)
        raise PlacesFileError(at, f"[[{kind}]]: {key} {reason}")
    return value


def _coordinates(
    raw: dict[str, Any], kind: str, index: int, tables: _Tables, name: str
) -> tuple[float | None, float | None]:
    """lat and lon (both or neither), degrees within range."""
    if "lat" not in raw and "lon" not in raw:
        return None, None
    values: list[float] = []
    for key, limit in (("lat", 90.0), ("lon", 180.0)):
        value = raw.get(key)
        at = tables.line(kind, index, key) if key in raw else tables.line(kind, index)
        if value is None:
            raise PlacesFileError(
                at, f"[[{kind}]] {name!r}: lat and lon go together ({key} is missing)"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not -limit <= value <= limit
        ):
            raise PlacesFileError(
                at,
                f"[[{kind}]] {name!r}: {key} must be a number of degrees "
                f"from {-limit:g} to {limit:g}",
            )
        values.append(float(value))
    return values[0], values[1]


def _building(raw: dict[str, Any], index: int, tables: _Tables) -> BuildingSpec:
    _unknown_keys(raw, "building", _BUILDING_KEYS, index, tables)
    name = _name(raw, "building", index, tables)
    lat, lon = _coordinates(raw, "building", index, tables, name)
    line = tables.line("building", index, "name")
    return BuildingSpec(name, lat, lon, line, _community(raw, "building", index, tables))


def _place(raw: dict[str, Any], index: int, tables: _Tables) -> LandmarkSpec:
    _unknown_keys(raw, "place", _PLACE_KEYS, index, tables)
    name = _name(raw, "place", index, tables)
    raw_aliases = raw.get("aliases", [])
    at = tables.line("place", index, "aliases")
    if not isinstance(raw_aliases, list):
        raise PlacesFileError(at, f'[[place]] {name!r}: aliases must be a list, e.g. ["东大门"]')
    aliases: list[str] = []
    for alias in raw_aliases:
        text = _text(alias)
        if not text or "," in text or len(text) > NAME_LIMIT:
            raise PlacesFileError(
                at,
                f"[[place]] {name!r}: alias {alias!r} must be text of 1 to {NAME_LIMIT} "
                "characters without a comma",
            )
        if text != name and text not in aliases:
            aliases.append(text)
    if len(",".join(aliases)) > ALIASES_LIMIT:
        raise PlacesFileError(
            at,
            f"[[place]] {name!r}: the aliases are too long together "
            f"({len(','.join(aliases))} characters, at most {ALIASES_LIMIT} with commas)",
        )
    building = (_text(raw.get("building")) or None) if "building" in raw else None
    if "building" in raw and (building is None or len(building) > NAME_LIMIT):
        raise PlacesFileError(
            tables.line("place", index, "building"),
            f"[[place]] {name!r}: building must be a building's name (text of 1 to 32 characters)",
        )
    grid = (_text(raw.get("grid")) or None) if "grid" in raw else None
    if "grid" in raw and (grid is None or len(grid) > 64):
        raise PlacesFileError(
            tables.line("place", index, "grid"),
            f"[[place]] {name!r}: grid must be a grid's name (text of 1 to 64 characters)",
        )
    lat, lon = _coordinates(raw, "place", index, tables, name)
    line = tables.line("place", index, "name")
    community = _community(raw, "place", index, tables)
    return LandmarkSpec(name, tuple(aliases), building, grid, lat, lon, line, community)


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

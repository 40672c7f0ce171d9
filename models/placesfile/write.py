"""Making what a places file lists: grids, buildings (and their coordinates), households and
named places (landmarks), each in its community."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..communities import HOME_ID, Community, community_by_name
from ..landmarks import Landmark
from ..people import Person, Role
from ..places import Building, Grid, Household, building_by_name, grid_by_name, household_at
from ..spots import building_key
from .read import BuildingSpec, GridSpec, HouseholdSpec, LandmarkSpec, PlacesFileError, PlacesSpec

_Row = GridSpec | HouseholdSpec | BuildingSpec | LandmarkSpec


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

    def where(row: _Row) -> int:
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
    in_file |= {(where(b), b.name) for b in spec.buildings}
    grids_known = {(where(g), g.name) for g in spec.grids} | {
        (cid, name) for cid, name in db.execute(select(Grid.community_id, Grid.name))
    }
    for place in spec.places:
        if place.building is not None and (where(place), place.building) not in in_file | known:
            raise PlacesFileError(
                place.line, f"[[place]] {place.name!r}: no building {place.building!r}"
            )
        if place.grid is not None and (where(place), place.grid) not in grids_known:
            raise PlacesFileError(place.line, f"[[place]] {place.name!r}: no grid {place.grid!r}")
    _refuse_names_said_twice(db, spec, where)
    changes: list[str] = []
    for grid in spec.grids:
        cid = where(grid)
        changes += _in(names, cid, named, _import_grid(db, grid, now, cid))
    for building in spec.buildings:
        cid = where(building)
        changes += _in(names, cid, named, _import_building(db, building, cid))
    for household in spec.households:
        cid = where(household)
        changes += _in(names, cid, named, _import_household(db, household, cid))
    db.flush()
    for place in spec.places:
        cid = where(place)
        changes += _in(names, cid, named, _import_place(db, place, cid))
    db.flush()
    return changes


def _refuse_names_said_twice(db: Session, spec: PlacesSpec, where: Callable[[_Row], int]) -> None:
    """A word residents write for a place (its name or an alias, folded: 東門 is 东门) must
    name one place or building of its community: otherwise a report naming it would go to
    whichever was read first, without anyone noticing."""
    owner: dict[tuple[int, str], str] = {}  # (community, word) → what it names
    for cid, name in db.execute(select(Building.community_id, Building.name)):
        owner.setdefault((cid, building_key(name)), f"building {name!r}")
    in_file = {(where(place), place.name) for place in spec.places}
    for cid, name, aliases in db.execute(
        select(Landmark.community_id, Landmark.name, Landmark.aliases)
    ):
        if (cid, name) in in_file:
            continue  # the file describes it anew
        for word in [name, *(aliases or "").split(",")]:
            if word.strip():
                owner.setdefault((cid, building_key(word)), f"place {name!r}")
    for building in spec.buildings:
        # 3号楼 or 03 beside building 3: a second building that reports and locations would
        # never reach (they go to the first), its coordinates not the real one's.
        taken = owner.setdefault(
            (where(building), building_key(building.name)), f"building {building.name!r}"
        )
        if taken != f"building {building.name!r}":
            raise PlacesFileError(
                building.line,
                f"[[building]] {building.name!r} is {taken} written another way "
                "(write its name as it is listed)",
            )
    for place in spec.places:
        cid = where(place)
        mine = f"place {place.name!r}"
        for word in [place.name, *place.aliases]:
            if building_key(word).isdigit():
                raise PlacesFileError(
                    place.line,
                    f"[[place]] {place.name!r}: {word!r} reads as building "
                    f"{building_key(word)} (list it as a [[building]])",
                )
            taken = owner.setdefault((cid, building_key(word)), mine)
            if taken != mine:
                said = "its name" if word == place.name else f"its alias {word!r}"
                raise PlacesFileError(
                    place.line,
                    f"[[place]] {place.name!r}: {said} already names {taken} "
                    "(a report naming it would go to either)",
                )


def _communities(db: Session, spec: PlacesSpec, community_id: int | None) -> dict[str | None, int]:
    """Each community the rows name (None: the import's own) → its id; PlacesFileError for a
    community that does not exist, or a row naming another than `community_id`."""
    home = db.get(Community, community_id) if community_id is not None else None
    ids: dict[str | None, int] = {None: home.id if home is not None else HOME_ID}
    if home is not None:
        ids[home.name] = home.id
    rows: list[_Row] = [*spec.grids, *spec.households, *spec.buildings, *spec.places]
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
    household = household_at(db, building, spec.unit, spec.room)
    if household is None:
        db.add(Household(building_id=building.id, unit=spec.unit, room=spec.room, listed=True))
        return [f"+ household {spec.label}"]
    if not household.listed:
        household.listed = True
        return [f"~ household {spec.label}: listed"]
    return []


def _where(lat: float | None, lon: float | None) -> str:
    return f"{lat:.6f},{lon:.6f}" if lat is not None and lon is not None else "(none)"


def _import_building(db: Session, spec: BuildingSpec, community_id: int) -> list[str]:
    """A building's coordinates; the building is made (in no grid) when it is new."""
    building = building_by_name(db, spec.name, community_id)
    if building is None:
        db.add(Building(name=spec.name, community_id=community_id, lat=spec.lat, lon=spec.lon))
        db.flush()
        return [f"+ building {spec.name} (no grid) at {_where(spec.lat, spec.lon)}"]
    if (building.lat, building.lon) == (spec.lat, spec.lon):
        return []
    before = _where(building.lat, building.lon)
    building.lat, building.lon = spec.lat, spec.lon
    return [f"~ building {spec.name}: at {before} → {_where(spec.lat, spec.lon)}"]


def _import_place(db: Session, spec: LandmarkSpec, community_id: int) -> list[str]:
    """A named place as the file writes it (a key it leaves out is cleared: the file is the
    place's whole description)."""
    building = building_by_name(db, spec.building, community_id) if spec.building else None
    grid = grid_by_name(db, spec.grid, community_id) if spec.grid else None
    values = {
        "aliases": ",".join(spec.aliases),
        "building_id": building.id if building is not None else None,
        "grid_id": grid.id if grid is not None else None,
        "lat": spec.lat,
        "lon": spec.lon,
    }
    found = db.scalars(
        select(Landmark).where(Landmark.community_id == community_id, Landmark.name == spec.name)
    ).one_or_none()
    if found is None:
        db.add(Landmark(name=spec.name, community_id=community_id, **values))
        return [f"+ place {spec.name}{_about(spec)}"]
    changed = [key for key, value in values.items() if getattr(found, key) != value]
    if not changed:
        return []
    for key in changed:
        setattr(found, key, values[key])
    return [f"~ place {spec.name}: {', '.join(changed)}{_about(spec)}"]


def _about(spec: LandmarkSpec) -> str:
    parts = [f"aliases {'、'.join(spec.aliases)}"] if spec.aliases else []
    if spec.building:
        parts.append(f"building {spec.building}")
    if spec.grid:
        parts.append(f"grid {spec.grid}")
    if spec.lat is not None:
        parts.append(f"at {_where(spec.lat, spec.lon)}")
    return f" ({'; '.join(parts)})" if parts else ""

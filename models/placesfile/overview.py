"""`places list`: every grid with its worker and buildings (with their coordinates), and the
named places (landmarks), by community."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..communities import community_names
from ..landmarks import Landmark
from ..people import Person
from ..places import Building, Grid, Household


@dataclass(frozen=True)
class GridSummary:
    """A grid as `places list` shows it; `name` None for the buildings in no grid."""

    name: str | None
    worker: str | None  # openid (and name)
    buildings: tuple[tuple[str, int], ...]  # building, households known
    community: str = ""
    # The buildings' coordinates (lat, lon), in the order of `buildings`; None: not known.
    coordinates: tuple[tuple[float, float] | None, ...] = ()


@dataclass(frozen=True)
class LandmarkSummary:
    """A named place as `places list` shows it."""

    name: str
    aliases: tuple[str, ...]
    building: str | None
    grid: str | None
    at: tuple[float, float] | None
    community: str = ""


def _at(row: Building | Landmark) -> tuple[float, float] | None:
    return (row.lat, row.lon) if row.lat is not None and row.lon is not None else None


def landmarks_overview(db: Session, community_id: int | None = None) -> list[LandmarkSummary]:
    """Every named place, by community (only `community_id`'s when given), by name."""
    names = community_names(db)
    buildings = {b.id: b.name for b in db.scalars(select(Building))}
    grids = {g.id: g.name for g in db.scalars(select(Grid))}
    query = select(Landmark).order_by(Landmark.community_id, Landmark.name)
    if community_id is not None:
        query = query.where(Landmark.community_id == community_id)
    return [
        LandmarkSummary(
            row.name,
            tuple(a for a in row.aliases.split(",") if a),
            buildings.get(row.building_id) if row.building_id is not None else None,
            grids.get(row.grid_id) if row.grid_id is not None else None,
            _at(row),
            names.get(row.community_id, ""),
        )
        for row in db.scalars(query)
    ]


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
                    tuple(_at(b) for b in buildings if b.grid_id == grid.id),
                )
            )
        unlisted = [b for b in buildings if b.grid_id is None and b.community_id == cid]
        if unlisted:
            loose = tuple((b.name, counts.get(b.id, 0)) for b in unlisted)
            out.append(GridSummary(None, None, loose, community, tuple(_at(b) for b in unlisted)))
    return out

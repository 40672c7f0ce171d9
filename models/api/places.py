"""Places as the API lists them (GET /api/v1/communities, /grids, /buildings): names and
how they nest, no households and no residents. Each list is a few queries whatever its
length (counts grouped, names joined), since a street has a few hundred buildings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..base import fits_id
from ..communities import Community
from ..people import Person
from ..places import Building, Grid


def communities(db: Session, community_id: int | None) -> list[dict[str, Any]]:
    """Every community (`community_id`: only that one), oldest first, with its counts."""
    query = select(Community.id, Community.name).order_by(Community.id)
    if community_id is not None:
        query = query.where(Community.id == community_id)
    grids = _counts(db, Grid.community_id)
    buildings = _counts(db, Building.community_id)
    return [
        {"id": cid, "name": name, "grids": grids.get(cid, 0), "buildings": buildings.get(cid, 0)}
        for cid, name in db.execute(query)
    ]


def grids(db: Session, community_id: int | None) -> list[dict[str, Any]]:
    """The grids (of `community_id`; None: all), by community then name."""
    query = (
        select(Grid.id, Grid.name, Community.name, Person.name)
        .join(Community, Community.id == Grid.community_id)
        .outerjoin(Person, Person.id == Grid.worker_id)
        .order_by(Community.id, Grid.name, Grid.id)
    )
    if community_id is not None:
        query = query.where(Grid.community_id == community_id)
    buildings = _counts(db, Building.grid_id)
    return [
        {
            "id": gid,
            "name": name,
            "community": community,
            "worker": worker,
            "buildings": buildings.get(gid, 0),
        }
        for gid, name, community, worker in db.execute(query)
    ]


def buildings(
    db: Session, community_id: int | None, grid_id: int | None
) -> list[dict[str, Any]] | None:
    """The buildings (of `community_id`, of `grid_id`), by community then name; None when
    `grid_id` names no grid there."""
    if grid_id is not None:
        grid = db.get(Grid, grid_id) if fits_id(grid_id) else None
        if grid is None or (community_id is not None and grid.community_id != community_id):
            return None
    query = (
        select(Building.id, Building.name, Community.name, Grid.id, Grid.name)
        .join(Community, Community.id == Building.community_id)
        .outerjoin(Grid, Grid.id == Building.grid_id)
        .order_by(Community.id, Building.name, Building.id)
    )
    if community_id is not None:
        query = query.where(Building.community_id == community_id)
    if grid_id is not None:
        query = query.where(Building.grid_id == grid_id)
    return [
        {"id": bid, "name": name, "community": community, "grid_id": gid, "grid": grid_name}
        for bid, name, community, gid, grid_name in db.execute(query)
    ]


def _counts(db: Session, column: Any) -> dict[int, int]:
    rows = db.execute(select(column, func.count()).where(column.is_not(None)).group_by(column))
    return {int(key): int(count) for key, count in rows}

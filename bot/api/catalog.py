"""/api/v1 routes: what tickets are about and where — topics, and places (communities,
grids, buildings). Any valid key may read them; a community's key sees its community."""

from __future__ import annotations

from typing import Annotated

from flask import current_app, request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api import places
from models.communities import NAME_MAX
from models.topics import enabled_topics

from ..extension import yishiting
from . import texts
from .auth import ANY_KEY, caller, needs
from .blueprint import bp, spec
from .problems import problem
from .schemas import answers
from .scope import community_named


class TopicOut(BaseModel):
    id: int
    name: str = Field(description="类别名称，如 电梯设施")
    description: str
    sla_hours: int = Field(description="默认办理时限（小时）")


class TopicList(BaseModel):
    items: list[TopicOut]


@bp.get("/topics")
@spec.validate(resp=answers(HTTP_200=TopicList), tags=["catalog"])
@needs(ANY_KEY)
def list_topics() -> TopicList:
    """类别：诉求可归入的类别（社区密钥只看到本社区启用的类别）。"""
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        topics = enabled_topics(db, caller().community_id)
        items = [
            TopicOut(id=t.id, name=t.name, description=t.description, sla_hours=t.sla_hours)
            for t in topics
        ]
    return TopicList(items=items)


# -- places (helper: catalog) ---------------------------------------------------------------
# Places are no one's personal data: names of communities, grids, buildings, and the grid
# worker (staff are named, as in tickets). Households and residents are not in the API.
# Buildings come in one list, not pages: a street has a few hundred.


def invalid(field: str, message: str) -> Response:
    """A 400 naming one field, as spectree's own validation errors do."""
    return problem(400, texts.INVALID, errors=[{"field": field, "message": message}])


def community_filter(db: Session, name: str | None) -> int | None | Response:
    """The community a `community` filter names (scope.py's rule); a name no community has,
    from a street key: 400 naming the field."""

    def unknown(given: str) -> Response:
        return invalid("community", texts.NO_SUCH_COMMUNITY.format(community=given))

    return community_named(db, name, caller(), unknown)


# A community as a filter names it: no control characters (a NUL is no text to PostgreSQL).
CommunityName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_MAX,
        pattern=r"^[^\x00-\x1f]+$",
    ),
]
COMMUNITY = "社区名称（见 GET /api/v1/communities）；社区密钥只能填本社区"


class PlacesQuery(BaseModel):
    community: CommunityName | None = Field(None, description=COMMUNITY)


class BuildingsQuery(PlacesQuery):
    grid: int | None = Field(None, ge=1, le=2**31 - 1, description="网格编号（grids 的 id）")


class CommunityOut(BaseModel):
    id: int
    name: str = Field(description="社区名称，筛选参数 community 用它")
    grids: int = Field(description="网格数")
    buildings: int = Field(description="楼栋数")


class CommunityList(BaseModel):
    items: list[CommunityOut]


class GridOut(BaseModel):
    id: int
    name: str = Field(description="网格名称，如 第一网格（在社区内唯一）")
    community: str
    worker: str | None = Field(description="网格员姓名（工作人员）；未指定时为 null")
    buildings: int = Field(description="楼栋数")


class GridList(BaseModel):
    items: list[GridOut]


class BuildingOut(BaseModel):
    id: int
    name: str = Field(description="楼栋名称，如 16号楼（在社区内唯一）；工单的 building 用它")
    community: str
    grid_id: int | None
    grid: str | None = Field(description="所属网格名称；未划入网格时为 null")


class BuildingList(BaseModel):
    items: list[BuildingOut]


@bp.get("/communities")
@spec.validate(resp=answers(HTTP_200=CommunityList), tags=["catalog"])
@needs(ANY_KEY)
def list_communities() -> CommunityList:
    """社区：本街道的社区（社区密钥只看到本社区）。"""
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        rows = places.communities(db, caller().community_id)
    return CommunityList(items=[CommunityOut(**row) for row in rows])


@bp.get("/grids")
@spec.validate(query=PlacesQuery, resp=answers(HTTP_200=GridList), tags=["catalog"])
@needs(ANY_KEY)
def list_grids() -> GridList | Response:
    """网格：各社区的网格及网格员（可按社区筛选）。"""
    query: PlacesQuery = request.context.query  # type: ignore[attr-defined]
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        community_id = community_filter(db, query.community)
        if isinstance(community_id, Response):
            return community_id
        rows = places.grids(db, community_id)
    return GridList(items=[GridOut(**row) for row in rows])


@bp.get("/buildings")
@spec.validate(query=BuildingsQuery, resp=answers(HTTP_200=BuildingList), tags=["catalog"])
@needs(ANY_KEY)
def list_buildings() -> BuildingList | Response:
    """楼栋：各社区的楼栋及所属网格（可按社区、网格筛选；一次返回全部，不分页）。"""
    query: BuildingsQuery = request.context.query  # type: ignore[attr-defined]
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        community_id = community_filter(db, query.community)
        if isinstance(community_id, Response):
            return community_id
        rows = places.buildings(db, community_id, query.grid)
        if rows is None:
            return invalid("grid", texts.NO_SUCH_GRID.format(grid=query.grid))
    return BuildingList(items=[BuildingOut(**row) for row in rows])

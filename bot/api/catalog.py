"""/api/v1 routes: what tickets are about and where — topics, and places (communities,
grids, buildings). Any valid key may read them; a community's key sees its community."""

from __future__ import annotations

from flask import current_app
from pydantic import BaseModel, Field

from models.topics import enabled_topics

from ..extension import yishiting
from .auth import ANY_KEY, caller, needs
from .blueprint import bp, spec
from .schemas import answers


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

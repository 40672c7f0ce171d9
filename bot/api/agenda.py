"""/api/v1 routes: 议题 (agenda items) and polls, read only (agenda:read, polls:read).

Bodies are the CLI's (`agenda show --json`, `poll show --json`) without what residents wrote
about themselves unless the key has `personal`, and never who voted what
(models/api/agenda_polls.py). A community's key sees its community's items and the street's;
another community's item is 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Literal

from flask import current_app, request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.agenda import STAGES, agenda_by_number
from models.api.agenda_polls import Where, agenda_page, api_agenda, api_poll, poll_page
from models.communities import Scope
from models.polls import CLOSED, DECIDED, DRAFT, OPEN, poll_by_number

from ..extension import yishiting
from . import texts
from .auth import caller, needs
from .blueprint import bp, spec
from .catalog import COMMUNITY, CommunityName, community_filter
from .problems import problem
from .schemas import answers

Stage = Literal[STAGES]  # type: ignore[valid-type]
PollStatus = Literal[DRAFT, OPEN, CLOSED, DECIDED]  # type: ignore[valid-type]
CURSOR = Field(None, pattern=r"^[0-9]{1,9}$", description="上一页返回的 next_cursor；不填为第一页")
LIMIT = Field(20, ge=1, le=100, description="每页条数（1–100）")
NUMBER = {"number": "编号（议题 #N、投票 #N 的 N）"}


class PageQuery(BaseModel):
    community: CommunityName | None = Field(None, description=COMMUNITY)
    cursor: str | None = CURSOR
    limit: int = LIMIT


class AgendaQuery(PageQuery):
    stage: Stage | None = Field(None, description="阶段")


class PollQuery(PageQuery):
    status: PollStatus | None = Field(None, description="状态")


class AgendaSummary(BaseModel):
    number: int
    title: str
    stage: Stage
    community: str | None = Field(description="社区名称；null 为全街道的议题")
    backing: int = Field(description="附议数")
    backing_threshold: int = Field(description="立项所需附议数")
    decision: str | None
    due_at: str | None = Field(description="落实期限（ISO 8601）")
    created_at: str | None


class AgendaPage(BaseModel):
    items: list[AgendaSummary]
    next_cursor: str | None = Field(description="下一页的 cursor；null 为最后一页")


class Progress(BaseModel):
    at: str | None
    text: str


class Proposer(BaseModel):
    openid: str


class AgendaOut(BaseModel):
    """`agenda show --json`, without the proposal's text and proposer unless `personal`."""

    number: int
    title: str
    stage: Stage
    backing: int
    backing_threshold: int
    meetings: list[int] = Field(description="议事会编号")
    polls: list[int] = Field(description="投票编号（GET /api/v1/polls/{number}）")
    decision: str | None = Field(description="议定事项")
    public_url: str | None = Field(description="公示页地址")
    objections: int = Field(description="公示期异议数")
    owner: str | None = Field(description="落实责任方")
    owner_staff: str | None = Field(description="落实责任人（工作人员）")
    due_at: str | None
    progress: list[Progress] = Field(description="落实进展")
    ratings: dict[str, int] = Field(description="评议：1 满意、2 基本满意、3 不满意 的人数")
    result: str | None = Field(description="落实结果")
    community: str | None = Field(description="社区名称；null 为全街道的议题")
    text: str | None = Field(description="提议原文：仅 personal 权限可见，否则为 null")
    proposer: Proposer | None = Field(description="提议人：仅 personal 权限可见，否则为 null")
    created_at: str | None
    review: dict[str, int] = Field(description="回头看：held 仍有效、not_held 未保持 的人数")


class PollSummary(BaseModel):
    number: int
    title: str
    status: PollStatus
    community: str | None = Field(description="社区名称；null 为全街道的投票")
    agenda: int | None = Field(description="所属议题编号")
    unit: str = Field(description="person 一人一票；household 一户一票")
    opens_at: str | None
    closes_at: str | None
    ballots: int = Field(description="已投票数")
    decision: str | None


class PollPage(BaseModel):
    items: list[PollSummary]
    next_cursor: str | None = Field(description="下一页的 cursor；null 为最后一页")


class PollOut(BaseModel):
    """`poll show --json`: counts and decision, never who voted what."""

    number: int
    agenda: int | None
    status: PollStatus
    title: str
    description: str
    options: dict[str, str] = Field(description="选项：标签 → 文字，如 A → 同意")
    scope: str = Field(description="范围：all、grid:<网格>、building:<楼栋,…>")
    community: str | None
    unit: str
    eligibility: str = Field(description="bound 已绑定住户；followers 所有关注者")
    max_choices: int
    anonymous: bool
    hide_results: bool
    results_hidden: bool = Field(description="投票结束前不公开结果：counts 等为 null")
    counts: dict[str, int] | None
    ballots: int
    eligible: int
    turnout: float | None
    quorum: float
    threshold: float
    quorum_met: bool
    leaders: list[str] | None
    tie: bool | None
    passed: bool | None
    decision: str | None
    opens_at: str | None
    closes_at: str | None
    closed_at: str | None
    decided_at: str | None
    created_at: str | None


def _where(db: Session, community: str | None) -> Where | Response:
    """The rows a list shows: the named community's; without a name, the key's community
    and the street's (street key: everything)."""
    if community is None:
        return Where(caller().community_id, street_too=True)
    found = community_filter(db, community)
    return found if isinstance(found, Response) else Where(found)


def _cursor(query: PageQuery) -> int | None:
    return int(query.cursor) if query.cursor is not None else None


@bp.get("/agenda")
@spec.validate(query=AgendaQuery, resp=answers(HTTP_200=AgendaPage), tags=["agenda"])
@needs("agenda:read")
def list_agenda() -> AgendaPage | Response:
    """议题列表：最新的在前，可按阶段、社区筛选，分页。"""
    query: AgendaQuery = request.context.query  # type: ignore[attr-defined]
    with yishiting(current_app).db.session(read_only=True) as db:
        where = _where(db, query.community)
        if isinstance(where, Response):
            return where
        items, last = agenda_page(db, where, query.stage, _cursor(query), query.limit)
    return AgendaPage(
        items=[AgendaSummary(**item) for item in items],
        next_cursor=str(last) if last is not None else None,
    )


@bp.get("/agenda/<int:number>")
@spec.validate(
    resp=answers("HTTP_404", HTTP_200=AgendaOut),
    path_parameter_descriptions=NUMBER,
    tags=["agenda"],
)
@needs("agenda:read")
def get_agenda(number: int) -> AgendaOut | Response:
    """一个议题：阶段、附议、议事会、投票、议定事项、落实进展与评议。"""
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        item = agenda_by_number(db, number)
        if item is None or not Scope(caller().community_id).covers(item.community_id):
            return problem(404, texts.NO_SUCH_AGENDA.format(number=number))
        personal = caller().may("personal")
        data = api_agenda(db, item, ys.settings.tz, ys.settings.app.public_url, personal=personal)
    return AgendaOut(**data)


@bp.get("/polls")
@spec.validate(query=PollQuery, resp=answers(HTTP_200=PollPage), tags=["polls"])
@needs("polls:read")
def list_polls() -> PollPage | Response:
    """投票列表：最新的在前，可按状态、社区筛选，分页。"""
    query: PollQuery = request.context.query  # type: ignore[attr-defined]
    with yishiting(current_app).db.session(read_only=True) as db:
        where = _where(db, query.community)
        if isinstance(where, Response):
            return where
        items, last = poll_page(db, where, query.status, _cursor(query), query.limit)
    return PollPage(
        items=[PollSummary(**item) for item in items],
        next_cursor=str(last) if last is not None else None,
    )


@bp.get("/polls/<int:number>")
@spec.validate(
    resp=answers("HTTP_404", HTTP_200=PollOut),
    path_parameter_descriptions=NUMBER,
    tags=["polls"],
)
@needs("polls:read")
def get_poll(number: int) -> PollOut | Response:
    """一个投票：选项、票数、投票率、是否通过与决定（不含谁投了什么）。"""
    with yishiting(current_app).db.session(read_only=True) as db:
        poll = poll_by_number(db, number)
        if poll is None or not Scope(caller().community_id).covers(poll.community_id):
            return problem(404, texts.NO_SUCH_POLL.format(number=number))
        data = api_poll(db, poll)
    return PollOut(**data)

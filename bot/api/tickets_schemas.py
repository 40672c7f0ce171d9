"""The tickets resource's schemas: they validate requests and make the OpenAPI document.

Every length a column has is a `max_length` here, so an overlong value is a 400 naming the
field on both databases (PostgreSQL would refuse it with an error; SQLite would keep it).
Single-line fields refuse control characters (PostgreSQL cannot store NUL)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.api.orders import EXTERNAL_MAX, SOURCE_MAX

TEXT_MAX = 2000  # a 12345 order's description can be long; the console's form takes 1000
NOTE_MAX = 1000  # notes, outcomes, reasons: as the console's forms
PHONE_RAW_MAX = 32  # as typed (+86, spaces, dashes); 5 to 20 digits once read
NAME_MAX = 64  # a building's or community's name as the platform writes it
LINE = r"^[^\x00-\x1f\x7f]*$"  # one line, no control characters


def _plausible(moment: datetime) -> datetime:
    """A time a platform can mean: years 1970 to 9000 (0001-01-01 or 9999-12-31 in another
    time zone would overflow Python's datetime when turned into UTC for the database)."""
    if not 1970 <= moment.year <= 9000:
        raise ValueError("year out of range (1970-9000)")
    return moment


Moment = Annotated[datetime, AfterValidator(_plausible)]
Status = Literal[
    "new", "accepted", "in_progress", "resolved", "closed", "reopened", "rejected", "escalated"
]


class NewTicket(BaseModel):
    """A work order from a city platform."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=TEXT_MAX, description="工单内容，原样保存")
    source: str = Field(
        min_length=1,
        max_length=SOURCE_MAX,
        pattern=LINE,
        description="来源平台，如 12345、grid（网格化管理平台）",
    )
    external_id: str = Field(
        min_length=1,
        max_length=EXTERNAL_MAX,
        pattern=LINE,
        description="平台的工单编号：同一来源、同一编号再次提交即同一件诉求（200）",
    )
    phone: str | None = Field(
        None,
        max_length=PHONE_RAW_MAX,
        pattern=LINE,
        description="来电人电话：已绑定此号码的居民会像自己反映一样收到进展",
    )
    building: str | None = Field(
        None, max_length=NAME_MAX, pattern=LINE, description="楼栋，如 16号楼"
    )
    community: str | None = Field(
        None,
        max_length=NAME_MAX,
        pattern=LINE,
        description="社区名称；社区密钥只能填自己的社区",
    )
    due_at: Moment | None = Field(
        None, description="办理时限（ISO 8601；不带时区按 [app] timezone）；缺省按类别时限"
    )


class OrderHeaders(BaseModel):
    """The headers of POST /tickets the API reads (besides Authorization)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,  # api_idempotency.idem_key
        pattern=r"^[\x20-\x7e]+$",
        description="幂等键：同一个键重发同一个请求，得到第一次的回答（状态码和内容）",
    )


class Who(BaseModel):
    """A staff member by name; a resident's name and openids only to `personal` keys."""

    name: str | None
    openid: str | None


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    at: str
    action: str
    from_: str | None = Field(alias="from")
    to: str | None
    note: str | None
    actor: Who | None


class TicketOut(BaseModel):
    """A ticket (models/api/ticket_json.py `api_ticket`); `timeline` only for one ticket."""

    model_config = ConfigDict(extra="allow")

    number: int
    status: str = Field(description="new、accepted、in_progress、resolved、closed、…")
    topic: str | None
    community: str
    text: str
    source: str | None
    external_id: str | None
    channel: str
    place: str | None = Field(description="居民住址（户），如 16-2-501")
    spot: str | None = Field(
        description="问题所在地点（居民留言或位置消息指明时），如 3号楼、3号楼2单元501、东门"
    )
    phone: str | None = Field(description="无 personal 权限时打码，如 138****5678")
    resident: Who | None
    assignee: Who | None
    level: int
    created_at: str
    updated_at: str
    due_at: str | None
    accepted_at: str | None
    resolved_at: str | None
    closed_at: str | None
    outcome: str | None
    rating: int | None
    timeline: list[TimelineEntry] | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="下一页的 cursor；null：没有更多")


class TicketQuery(BaseModel):
    status: Status | None = None
    topic: str | None = Field(None, max_length=NAME_MAX, pattern=LINE, description="类别名称")
    community: str | None = Field(None, max_length=NAME_MAX, pattern=LINE, description="社区名称")
    updated_since: Moment | None = Field(
        None, description="只列此时刻以后更新过的（ISO 8601；不带时区按 [app] timezone）"
    )
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(
        None, max_length=64, pattern=LINE, description="上一页的 next_cursor"
    )


class TicketChange(BaseModel):
    """The community's move on a ticket, or a note."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["accepted", "in_progress", "resolved", "rejected"] | None = Field(
        None, description="accepted 接单、in_progress 处理中、resolved 办结、rejected 退回"
    )
    note: str | None = Field(None, max_length=NOTE_MAX, description="备注")
    outcome: str | None = Field(None, max_length=NOTE_MAX, description="办结时的处理结果")
    reason: str | None = Field(None, max_length=NOTE_MAX, description="退回的理由")

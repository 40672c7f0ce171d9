"""/api/v1/tickets: a city platform's view of the tickets — the list (filters, cursor
pages) and one ticket with its timeline, here; filing a work order in tickets_create.py; the
community's moves in tickets_patch.py. A community's key sees its community's tickets only
(another's is a 404; naming another community, a 403); personal data needs `personal`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import current_app, request
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from models.api.ticket_json import api_ticket
from models.base import ID_MAX
from models.tickets import Ticket
from models.topics import Topic

from ..extension import yishiting
from . import texts
from .auth import caller, needs
from .blueprint import bp, spec
from .problems import problem
from .schemas import Problem, answers
from .tickets_schemas import TicketOut, TicketPage, TicketQuery
from .tickets_scope import aware, community_named, not_found, visible_ticket

_CURSOR = "t1:"  # a cursor is the last id of the page before, base64url'd: opaque to clients


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR}{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The id a cursor stands for, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    digits = raw.removeprefix(_CURSOR)
    if not raw.startswith(_CURSOR) or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(digits)
    return value if value <= ID_MAX else None


@bp.get("/tickets")
@spec.validate(query=TicketQuery, resp=answers(HTTP_200=TicketPage), tags=["tickets"])
@needs("tickets:read")
def list_tickets() -> Any:
    """诉求列表：按 id 排序、游标分页（新登记的在最后，翻页不重复不遗漏），不含处理记录。"""
    query: TicketQuery = request.context.query  # type: ignore[attr-defined]
    after = 0
    if query.cursor is not None:
        found = decode_cursor(query.cursor)
        if found is None:
            return problem(
                400,
                texts.BAD_CURSOR,
                errors=[{"field": "cursor", "message": texts.BAD_CURSOR}],
            )
        after = found
    ys = yishiting(current_app)
    personal = caller().may("personal")
    with ys.db.session(read_only=True) as db:
        wanted = _filtered(db, query, ys.settings.tz)
        if isinstance(wanted, Response):
            return wanted
        page: list[Ticket] = list(
            db.scalars(wanted.where(Ticket.id > after).limit(query.limit + 1))
        )
        more = len(page) > query.limit
        page = page[: query.limit]
        items = [api_ticket(db, t, personal=personal, timeline=False) for t in page]
    next_cursor = encode_cursor(page[-1].id) if more and page else None
    return {"items": items, "next_cursor": next_cursor}


def _filtered(db: Session, query: TicketQuery, tz: Any) -> Select[Any] | Response:
    """The tickets the key sees with the query's filters, in id order."""
    community_id = community_named(db, query.community, caller(), unknown_ok=True)
    if isinstance(community_id, Response):
        return community_id
    wanted = (
        select(Ticket)
        .options(selectinload(Ticket.topic), selectinload(Ticket.community))
        .order_by(Ticket.id)
    )
    if community_id is not None:
        wanted = wanted.where(Ticket.community_id == community_id)
    if query.status is not None:
        wanted = wanted.where(Ticket.status == query.status)
    if query.topic is not None:
        wanted = wanted.join(Topic, Topic.id == Ticket.topic_id).where(
            Topic.name == query.topic.strip()
        )
    if query.updated_since is not None:
        wanted = wanted.where(Ticket.updated_at >= aware(query.updated_since, tz))
    return wanted


@bp.get("/tickets/<int:number>")
@spec.validate(resp=answers(HTTP_200=TicketOut, HTTP_404=Problem), tags=["tickets"])
@needs("tickets:read")
def get_ticket(number: int) -> Any:
    """一件诉求及其处理记录（timeline）；其他社区的诉求对社区密钥不存在（404）。"""
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        ticket = visible_ticket(db, number, caller())
        if ticket is None:
            return not_found(number)
        return api_ticket(db, ticket, personal=caller().may("personal"))


from . import tickets_create, tickets_patch  # noqa: E402  (their routes are on `bp` too)

del tickets_create, tickets_patch

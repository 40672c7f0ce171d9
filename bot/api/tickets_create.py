"""POST /api/v1/tickets: a city platform's work order, filed through the one intake
(models/api/orders.py `file_order`): routed, with its deadline, its holder pushed, and the
bound resident with the order's phone told of it as of their own report.

Idempotent twice over: the same `source` + `external_id` again is the same ticket (200, not
201), also when two arrive at once (PostgreSQL's unique index refuses the second INSERT; it
is answered from a new transaction); and a request sent again with the same
`Idempotency-Key` gets the answer the first got (status and body), while the same key with
another body is refused (422).

A community's key files into its own community (naming another: 403); an order number that
is another community's ticket is a 409, its content unsaid. Where an order without
`community` or `building` goes, from a street key: where intake puts it — the bound
resident's home when the phone finds one, else the first community."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from flask import current_app, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response

from models.api.orders import Order, OrderError, file_order, store_answer, stored_answer
from models.api.ticket_json import api_ticket
from models.tickets import Ticket

from ..extension import Yishiting, yishiting
from ..filing import policy_from
from . import texts
from .auth import caller, needs
from .blueprint import bp, spec
from .problems import not_json, problem
from .schemas import Problem, answers
from .tickets_schemas import NewTicket, OrderHeaders, TicketOut
from .tickets_scope import aware, community_named

IDEMPOTENCY_HEADER = "Idempotency-Key"


@bp.post("/tickets")
@spec.validate(
    json=NewTicket,
    headers=OrderHeaders,
    resp=answers(HTTP_200=TicketOut, HTTP_201=TicketOut, HTTP_409=Problem, HTTP_422=Problem),
    tags=["tickets"],
)
@needs("tickets:write")
def create_ticket() -> Any:
    """登记平台派来的工单（与其他渠道同一受理流程）；同一 source + external_id 再次提交返回
    已有诉求（200）。可带 Idempotency-Key 请求头：同一个键重发得到同一个回答。"""
    order: NewTicket | None = request.context.json  # type: ignore[attr-defined]
    if order is None:  # a form body
        return not_json()
    # Checked by OrderHeaders (1 to 200 printable ASCII characters) when given.
    idem_key = request.headers.get(IDEMPOTENCY_HEADER)
    digest = _request_hash(order)
    ys = yishiting(current_app)
    try:
        return _answer(ys, order, idem_key, digest)
    except IntegrityError:
        # The same order (or Idempotency-Key) filed by a concurrent request a moment ago:
        # in a new transaction it is found, and answered as a repeat.
        return _answer(ys, order, idem_key, digest)


def _request_hash(order: NewTicket) -> str:
    """The request as the key sent it: the same Idempotency-Key must come with the same."""
    body = json.dumps(order.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"POST /api/v1/tickets\n{body}".encode()).hexdigest()


def _answer(ys: Yishiting, order: NewTicket, idem_key: str | None, digest: str) -> Any:
    """File the order (or find it again) in one write transaction, with the answer kept
    for its Idempotency-Key. Refusals are not kept: the same request is refused again."""
    who = caller()
    now = ys.conversation.clock()
    with ys.db.session() as db:
        if idem_key is not None:
            kept = stored_answer(db, who.key_id, idem_key)
            if kept is not None and kept.request_hash != digest:
                return problem(422, texts.IDEMPOTENCY_REUSED)
            if kept is not None:
                return _as_json(kept.status, kept.body)
        result = _filed(ys, db, order, now)
        if isinstance(result, Response):
            return result
        if idem_key is not None:
            store_answer(
                db,
                key_id=who.key_id,
                idem_key=idem_key,
                request_hash=digest,
                answer=result,
                now=now,
            )
    return _as_json(*result)


def _filed(
    ys: Yishiting, db: Session, order: NewTicket, now: datetime
) -> tuple[int, dict[str, Any]] | Response:
    """(201, the new ticket), (200, the one filed before), or a refusal."""
    community_id = community_named(db, order.community, caller())
    if isinstance(community_id, Response):
        return community_id
    due_at = aware(order.due_at, ys.settings.tz) if order.due_at is not None else None
    if due_at is not None and due_at < now:
        shown = due_at.astimezone(ys.settings.tz).strftime("%Y-%m-%d %H:%M")
        return problem(422, texts.DUE_IN_PAST.format(due=shown))
    work_order = Order(
        text=order.text,
        source=order.source,
        external_id=order.external_id,
        now=now,
        phone=order.phone,
        building=order.building,
        community_id=community_id,
        due_at=due_at,
    )
    try:
        filed = file_order(db, work_order, policy_from(ys.settings), ys.rulebook)
    except OrderError as exc:
        return problem(422, texts.ORDER_ERRORS[exc.reason].format(value=exc.value))
    # One query for the ticket, its topic and community, which the body names.
    ticket = db.get(
        Ticket, filed.ticket_id, options=[joinedload(Ticket.topic), joinedload(Ticket.community)]
    )
    assert ticket is not None
    own = caller().community_id
    if own is not None and ticket.community_id != own:
        # The platform's number is another community's ticket: its content is not this
        # key's to see, and the number cannot be filed twice.
        where = f"{order.source.strip()}/{order.external_id.strip()}"
        return problem(409, texts.ORDER_ELSEWHERE.format(order=where))
    body = api_ticket(db, ticket, personal=caller().may("personal"))
    return (201 if filed.created else 200), body


def _as_json(status: int, body: dict[str, Any]) -> Response:
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
    )

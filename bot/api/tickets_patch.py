"""PATCH /api/v1/tickets/{number}: the community's move on a ticket, made by a platform —
接单 (accepted), 处理中 (in_progress, with its note), 办结 (resolved, with the outcome the
resident is told), 退回 (rejected, with the reason) — or a note alone, through the same
moves as the chat and the console (models/lifecycle.py), with the same pushes.

Who acted: the key, as an admin without a person acts in the console (`SYSTEM`); the
timeline says which key — every change a request makes starts with a note "平台：<key name>"
(followed by the note it sent, if any). 接单 is the one move the system cannot make itself
(a ticket must be held by someone): the ticket's holder accepts it, as the platform says;
a ticket nobody holds yet (待分派) cannot be accepted (409). A move the ticket's status does
not allow is a 409 naming the status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, request
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api.keys import Caller
from models.api.ticket_json import api_ticket
from models.lifecycle import (
    SYSTEM,
    TRANSITIONS,
    IllegalMove,
    NotYours,
    Taken,
    accept,
    actor_for,
    add_note,
    record_event,
    reject,
    resolve,
)
from models.tickets import Ticket
from words import ACTION_NAMES, STATUS_NAMES, clean

from ..config import Settings
from ..extension import yishiting
from . import texts
from .auth import caller, needs
from .blueprint import bp, spec
from .problems import not_json, problem
from .schemas import Problem, answers
from .tickets_schemas import TicketChange, TicketOut
from .tickets_scope import not_found, visible_ticket

MOVE_OF = {  # the status asked for → the lifecycle's move (for the words of a refusal)
    "accepted": "accept",
    "in_progress": "progress",
    "resolved": "resolve",
    "rejected": "reject",
}


@bp.patch("/tickets/<int:number>")
@spec.validate(
    json=TicketChange,
    resp=answers(HTTP_200=TicketOut, HTTP_404=Problem, HTTP_409=Problem, HTTP_422=Problem),
    tags=["tickets"],
)
@needs("tickets:write")
def change_ticket(number: int) -> Any:
    """以社区的名义办理：接单、处理中、办结（带处理结果）、退回（带理由），或只加备注。
    当前状态不允许的动作返回 409，并说明当前状态。"""
    change: TicketChange | None = request.context.json  # type: ignore[attr-defined]
    if change is None or request.get_json(silent=True) is None:
        # A form, or no JSON at all (text/plain, malformed): spectree validated it as {},
        # which would read as "nothing to do" (422) instead of "send JSON".
        return not_json()
    note, outcome, reason = (
        clean(v) if v else "" for v in (change.note, change.outcome, change.reason)
    )
    refused = _unfit(change.status, note, outcome, reason)
    if refused is not None:
        return refused
    ys = yishiting(current_app)
    who = caller()
    try:
        with ys.db.session() as db:
            ticket = visible_ticket(db, number, who)
            if ticket is None:
                return not_found(number)
            now = ys.conversation.clock()
            try:
                _make(db, ticket, change.status, (note, outcome, reason), who, ys.settings, now)
            except (IllegalMove, NotYours, Taken) as exc:
                raise _Refused(_conflict(number, change.status, exc)) from exc
            db.flush()
            db.refresh(ticket)
            return api_ticket(db, ticket, personal=who.may("personal"))
    except _Refused as exc:  # out of the session: nothing of the request is kept
        return exc.response


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def _unfit(status: str | None, note: str, outcome: str, reason: str) -> Response | None:
    """A request that says nothing to do, or lacks the words its move needs."""
    if status is None and not note:
        return problem(422, texts.NOTHING_TO_DO)
    if status == "resolved" and not outcome:
        return problem(422, texts.OUTCOME_NEEDED)
    if status == "rejected" and not reason:
        return problem(422, texts.REASON_NEEDED)
    if outcome and status != "resolved":
        return problem(422, texts.OUTCOME_ONLY)
    if reason and status != "rejected":
        return problem(422, texts.REASON_ONLY)
    return None


def _make(
    db: Session,
    ticket: Ticket,
    status: str | None,
    words: tuple[str, str, str],
    who: Caller,
    settings: Settings,
    now: datetime,
) -> None:
    """The moves, signed with the key's name on the timeline."""
    note, outcome, reason = words
    signed = texts.PLATFORM.format(name=who.name) + (f"：{note}" if note else "")
    if status is None or status == "in_progress":
        # 备注 as the chat's: on an accepted ticket, it is then in progress.
        if status == "in_progress" and ticket.status not in ("accepted", "in_progress"):
            raise IllegalMove(ticket, "progress")
        add_note(db, ticket, SYSTEM, signed, now)
        return
    if ticket.status not in _sources(status):
        raise IllegalMove(ticket, MOVE_OF[status])
    record_event(db, ticket, "note", SYSTEM, now, before=ticket.status, note=signed)
    if status == "accepted":
        if ticket.assignee_id is None:
            raise _NoHolder(ticket, "accept")
        accept(db, ticket, actor_for(db, ticket.assignee_id), now)
    elif status == "resolved":
        days = settings.tickets
        resolve(
            db,
            ticket,
            SYSTEM,
            outcome,
            now,
            rating_days=days.rating_days,
            followup_days=days.followup_days,
        )
    else:
        reject(db, ticket, SYSTEM, reason, now)


def _sources(status: str) -> frozenset[str]:
    return TRANSITIONS[MOVE_OF[status]][0]


class _NoHolder(IllegalMove):
    """接单 of a ticket nobody holds: the system cannot hold it."""


def _conflict(number: int, status: str | None, exc: Exception) -> Response:
    """409 naming the ticket's status now."""
    if isinstance(exc, _NoHolder):
        return problem(409, texts.NO_HOLDER.format(number=number), current_status=exc.ticket.status)
    if isinstance(exc, Taken | NotYours):
        return problem(409, texts.TAKEN.format(number=number), current_status=exc.ticket.status)
    assert isinstance(exc, IllegalMove)
    current = exc.ticket.status
    action = ACTION_NAMES.get(MOVE_OF.get(status or "", exc.action), exc.action)
    detail = texts.ILLEGAL_MOVE.format(
        number=number, status_name=STATUS_NAMES.get(current, current), status=current, action=action
    )
    return problem(409, detail, current_status=current)

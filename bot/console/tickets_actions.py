"""The staff's moves on a ticket from the console: the same domain operations as the chat's
接单 / 备注 / 办结 / 退回 / 转派 (handlers/staff.py), with the same refusals in the same words.

`perform` raises `Refused` with the reason a person reads; the caller lets it out of the
write session, so a refused move changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from handlers import texts as chat
from handlers.router import Options
from handlers.staff import order_rejected, resolved_reply
from models import Person, Role, Ticket, ticket_by_number
from models.communities import STREET, Scope
from models.community_topics import SwitchedOff
from models.lifecycle import (
    Actor,
    IllegalMove,
    NotYours,
    Taken,
    accept,
    add_note,
    reassign_to_person,
    reassign_to_topic,
    reject,
    resolve,
)
from models.onbehalf import CALLBACK_ANSWERS, record_callback
from models.tickets import deadline_hours
from models.topics import Topic
from words import ACTION_NAMES, STATUS_NAMES, clean, when
from words.channels import CALLBACK_RESULTS

MAX_TEXT = 1000

TEXTS = {
    "no_identity": "您的账号尚未关联工作人员的微信身份，不能办理诉求。请联系管理员关联后再试。",
    "not_staff": "您账号关联的微信身份不是社区工作人员，不能办理诉求。",
    "accept_needs_person": "接单需要由具体的工作人员承办：请把您的账号关联到工作人员的微信身份，"
    "或用“转派”交给一位工作人员。",
    "accepted": "已接单 #{number}（{topic}），办理时限 {due}。",
    "note_empty": "请填写备注内容。",
    "outcome_empty": "请填写处理结果，结果会告知居民。",
    "reason_empty": "请填写退回理由，理由会告知居民（如应向哪个部门反映）。",
    "order_reason_empty": "请填写退单理由（为何不属于本社区），理由将反馈派单平台。",
    "too_long": "内容太长了，请控制在 {limit} 字以内。",
    "target_empty": "请选择要转派的类别或工作人员。",
    "target_unknown": "没有找到要转派的类别或工作人员，请刷新页面后重新选择。",
    "topic_switched_off": "“{topic}”在 #{number} 所属社区已停用，不能转派到这个类别。",
    "answer_unknown": "请选择电话回访的结果。",
    "called_back": "已记录 #{number} 的电话回访：{answer}。",
}

ACTIONS = ("accept", "note", "resolve", "reject", "reassign", "callback")


class Refused(Exception):
    """A move that was not made; the message says why, in Chinese."""


class Move:
    """One move asked for from the console: the ticket, who acts, and what the form says."""

    def __init__(
        self,
        db: Session,
        ticket: Ticket,
        actor: Actor,
        form: MultiDict[str, str],
        now: datetime,
        tz: tzinfo,
        options: Options,
        scope: Scope = STREET,
    ) -> None:
        self.db, self.ticket, self.actor, self.form = db, ticket, actor, form
        self.now, self.tz, self.options = now, tz, options
        self.scope = scope

    def text(self, name: str, empty: str) -> str:
        # As typed, without control and invisible characters: the chat's rule (folding.clean).
        value = clean(self.form.get(name) or "")
        if not value:
            raise Refused(TEXTS[empty])
        if len(value) > MAX_TEXT:
            raise Refused(TEXTS["too_long"].format(limit=MAX_TEXT))
        return value


def perform(
    db: Session,
    number: int,
    action: str,
    actor: Actor,
    form: MultiDict[str, str],
    *,
    now: datetime,
    tz: tzinfo,
    options: Options,
    scope: Scope = STREET,
) -> str:
    """Make the move; the message for the person on success. Raises Refused, LookupError
    (no such ticket in `scope`: another community's is not there for this account)."""
    ticket = ticket_by_number(db, number)  # the route caps it at the largest id (IdConverter)
    if ticket is None or action not in MOVES or not scope.covers(ticket.community_id):
        raise LookupError(number)
    if actor.id is None and not actor.overrides:
        raise Refused(TEXTS["no_identity"])
    if actor.id is not None and actor.role < Role.STAFF:
        raise Refused(TEXTS["not_staff"])
    try:
        return MOVES[action](Move(db, ticket, actor, form, now, tz, options, scope))
    except Taken as exc:
        raise Refused(chat.TAKEN.format(number=number, holder=_holder(exc.holder))) from exc
    except NotYours as exc:
        raise Refused(chat.NOT_YOURS.format(number=number, holder=_holder(exc.holder))) from exc
    except IllegalMove as exc:
        status = STATUS_NAMES.get(exc.ticket.status, exc.ticket.status)
        what = ACTION_NAMES.get(exc.action, exc.action)
        raise Refused(chat.ILLEGAL.format(number=number, status=status, action=what)) from exc


def _holder(person: Person | None) -> str:
    return person.name if person is not None and person.name else chat.SOMEONE


def _topic(ticket: Ticket) -> str:
    return ticket.topic.name if ticket.topic is not None else chat.NO_TOPIC


def _accept(move: Move) -> str:
    if move.actor.id is None:
        # The system cannot hold a ticket: accepting would leave it with nobody.
        raise Refused(TEXTS["accept_needs_person"])
    accept(move.db, move.ticket, move.actor, move.now)
    due = when(move.ticket.due_at, move.tz) if move.ticket.due_at else "无"
    return TEXTS["accepted"].format(number=move.ticket.number, topic=_topic(move.ticket), due=due)


def _note(move: Move) -> str:
    text = move.text("text", "note_empty")
    add_note(move.db, move.ticket, move.actor, text, move.now)
    return chat.NOTED.format(number=move.ticket.number)


def _resolve(move: Move) -> str:
    outcome = move.text("outcome", "outcome_empty")
    resolve(
        move.db,
        move.ticket,
        move.actor,
        outcome,
        move.now,
        rating_days=move.options.rating_days,
        followup_days=move.options.followup_days,
    )
    return resolved_reply(move.db, move.ticket)


def _reject(move: Move) -> str:
    """退回; a platform's work order's is reported back to it (12345: 退单), and says so."""
    order = move.ticket.source
    reason = move.text("reason", "order_reason_empty" if order else "reason_empty")
    reject(move.db, move.ticket, move.actor, reason, move.now)
    if order:
        return order_rejected(move.ticket, reason)
    return chat.REJECTED.format(number=move.ticket.number)


def _reassign(move: Move) -> str:
    """`target` is topic-<id> (an enabled topic) or person-<id> (a staff member)."""
    kind, _, raw = (move.form.get("target") or "").partition("-")
    if not kind:
        raise Refused(TEXTS["target_empty"])
    valid = raw.isascii() and raw.isdigit() and len(raw) < 10
    found = move.db.get(Topic if kind == "topic" else Person, int(raw)) if valid else None
    number = move.ticket.number
    if kind == "topic" and isinstance(found, Topic) and found.enabled:
        try:
            holder = reassign_to_topic(move.db, move.ticket, move.actor, found, move.now, move.tz)
        except SwitchedOff:
            problem = TEXTS["topic_switched_off"].format(topic=found.name, number=number)
            raise Refused(problem) from None
        if holder is None:
            return chat.REASSIGNED_TRIAGE.format(number=number, topic=found.name)
        return chat.REASSIGNED_TOPIC.format(number=number, topic=found.name, holder=_holder(holder))
    if (
        kind == "person"
        and isinstance(found, Person)
        and found.staff_level >= 1
        and move.scope.covers(found.community_id)  # its own or the street's staff, as routing
    ):
        reassign_to_person(move.db, move.ticket, move.actor, found, move.now, move.tz)
        return chat.REASSIGNED_PERSON.format(number=number, holder=_holder(found))
    raise Refused(TEXTS["target_unknown"])


def _callback(move: Move) -> str:
    """电话回访: what the resident said on the phone (models/onbehalf.py record_callback)."""
    answer = move.form.get("answer") or ""
    if answer not in CALLBACK_ANSWERS:
        raise Refused(TEXTS["answer_unknown"])
    note = clean(move.form.get("note") or "")
    if len(note) > MAX_TEXT:
        raise Refused(TEXTS["too_long"].format(limit=MAX_TEXT))
    ticket = move.ticket
    record_callback(
        move.db,
        ticket,
        move.actor,
        answer,
        note,
        move.now,
        move.tz,
        sla_hours=deadline_hours(ticket, move.options.intake.triage_hours),
    )
    said = CALLBACK_RESULTS[answer]
    return TEXTS["called_back"].format(number=ticket.number, answer=said)


MOVES: dict[str, Callable[[Move], str]] = {
    "accept": _accept,
    "note": _note,
    "resolve": _resolve,
    "reject": _reject,
    "reassign": _reassign,
    "callback": _callback,
}

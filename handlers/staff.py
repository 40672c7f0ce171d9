"""办 handle: the staff's chat commands on tickets.

`待办` lists the sender's open tickets, nearest deadline first; `接单 N`, `备注 N 文本`,
`办结 N 处理结果`, `退回 N 理由` and `转派 N 类别|姓名` move a ticket through its life
(models/lifecycle.py has the table of moves). The router refuses these to anyone who is not
staff; the domain refuses a move the ticket's state does not allow, and a change to a ticket
someone else holds (supervisors and admins may act on any).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Person, Role, Ticket
from models.community_topics import SwitchedOff
from models.lifecycle import (
    IllegalMove,
    NotYours,
    Taken,
    accept,
    actor_for,
    add_note,
    open_tickets_for,
    reassign_to_person,
    reassign_to_topic,
    reject,
    resolve,
)
from models.onbehalf import needs_callback, reachable
from models.reach import staff_community, ticket_in_reach
from models.topics import enabled_topics
from words import ACTION_NAMES, STATUS_NAMES, as_number, fold, when
from words.channels import order_mark

from . import texts
from .router import Context, Router, split_word

router = Router("staff")


def _number_and_rest(args: str) -> tuple[int | None, str]:
    """`12 已更换控制板，恢复运行` -> (12, the rest exactly as typed)."""
    head, rest = split_word(args)
    number = as_number(head)
    return (number, rest) if number is not None else (None, "")


def _when(ctx: Context, moment: datetime | None) -> str:
    if moment is None:
        return "无"
    return when(moment, ctx.tz)


def _holder(person: Person | None) -> str:
    return person.name if person is not None and person.name else texts.SOMEONE


def _topic(ticket: Ticket) -> str:
    return ticket.topic.name if ticket.topic is not None else texts.NO_TOPIC


def _order(ticket: Ticket) -> str:
    """A platform's work order marked in a list or reply: 【12345工单 GD…】 ("" otherwise)."""
    mark = order_mark(ticket.source)
    if not mark:
        return ""
    number = f" {ticket.external_id}" if ticket.external_id else ""
    return texts.ORDER_TAG.format(mark=mark, external_id=number)


def _on_ticket(
    ctx: Context,
    args: str,
    command: str,
    usage: str | None,
    needs_text: bool,
    act: Callable[[Ticket, str], str],
) -> str:
    number, rest = _number_and_rest(args)
    if number is None:
        return usage or texts.TICKET_USAGE.format(command=command)
    if needs_text and not rest:
        return usage or texts.TICKET_USAGE.format(command=command)
    ticket = ticket_in_reach(ctx.db, number, ctx.person.id, acting=True)
    if ticket is None:
        return texts.TICKET_NOT_FOUND.format(number=number)
    try:
        return act(ticket, rest)
    except Taken as exc:
        return texts.TAKEN.format(number=number, holder=_holder(exc.holder))
    except NotYours as exc:
        return texts.NOT_YOURS.format(number=number, holder=_holder(exc.holder))
    except IllegalMove as exc:
        return texts.ILLEGAL.format(
            number=number,
            status=STATUS_NAMES.get(exc.ticket.status, exc.ticket.status),
            action=ACTION_NAMES.get(exc.action, exc.action),
        )


@router.command("待办", help="待办：查看我负责的诉求（工作人员）", role=Role.STAFF)
def todo(ctx: Context, args: str) -> str:
    tickets = open_tickets_for(ctx.db, ctx.person.id, staff_community(ctx.db, ctx.person.id))
    if not tickets:
        return texts.TODO_EMPTY
    lines = [texts.TODO_HEADER]
    reached = reachable(ctx.db, tickets)
    for ticket in tickets:
        late = ticket.due_at is not None and ticket.due_at < ctx.now
        lines.append(
            texts.TODO_LINE.format(
                number=ticket.number,
                order=_order(ticket),
                topic=_topic(ticket),
                status=STATUS_NAMES.get(ticket.status, ticket.status),
                due=_when(ctx, ticket.due_at),
                late=texts.TODO_LATE if late else "",
            )
            + (texts.TODO_SUPPORTERS.format(count=ticket.supporters) if ticket.supporters else "")
            + (texts.TODO_CALLBACK if ticket.id not in reached else "")
        )
    lines.append(texts.TODO_FOOTER)
    return "\n".join(lines)


@router.command("接单", help="接单 编号：接手办理一件诉求（工作人员）", role=Role.STAFF)
def take(ctx: Context, args: str) -> str:
    def act(ticket: Ticket, _rest: str) -> str:
        accept(ctx.db, ticket, actor_for(ctx.db, ctx.person.id), ctx.now)
        return texts.ACCEPTED.format(
            number=ticket.number,
            order=_order(ticket),
            topic=_topic(ticket),
            due=_when(ctx, ticket.due_at),
        )

    return _on_ticket(ctx, args, "接单", None, False, act)


@router.command("备注", help="备注 编号 内容：记录处理情况或上门走访（工作人员）", role=Role.STAFF)
def note(ctx: Context, args: str) -> str:
    def act(ticket: Ticket, text: str) -> str:
        add_note(ctx.db, ticket, actor_for(ctx.db, ctx.person.id), text, ctx.now)
        return texts.NOTED.format(number=ticket.number)

    return _on_ticket(ctx, args, "备注", texts.NOTE_USAGE, True, act)


@router.command(
    "办结", help="办结 编号 处理结果：办理完毕，结果告知居民（工作人员）", role=Role.STAFF
)
def finish(ctx: Context, args: str) -> str:
    def act(ticket: Ticket, outcome: str) -> str:
        resolve(
            ctx.db,
            ticket,
            actor_for(ctx.db, ctx.person.id),
            outcome,
            ctx.now,
            rating_days=ctx.options.rating_days,
            followup_days=ctx.options.followup_days,
        )
        return resolved_reply(ctx.db, ticket)

    return _on_ticket(ctx, args, "办结", texts.RESOLVE_USAGE, True, act)


@router.command(
    "退回", help="退回 编号 理由：不属于社区办理范围，理由告知居民（工作人员）", role=Role.STAFF
)
def send_back(ctx: Context, args: str) -> str:
    def act(ticket: Ticket, reason: str) -> str:
        reject(ctx.db, ticket, actor_for(ctx.db, ctx.person.id), reason, ctx.now)
        if not ticket.source:
            return texts.REJECTED.format(number=ticket.number)
        return order_rejected(ticket, reason)

    number, reason = _number_and_rest(args)
    if number is not None and not reason:
        # A work order's 退回 is reported to its platform: say so when asking for the reason.
        ticket = ticket_in_reach(ctx.db, number, ctx.person.id, acting=True)
        if ticket is not None and ticket.source:
            return texts.REJECT_ORDER_USAGE.format(number=number, mark=order_mark(ticket.source))
    return _on_ticket(ctx, args, "退回", texts.REJECT_USAGE, True, act)


def resolved_reply(db: Session, ticket: Ticket) -> str:
    """办结's answer: who learns the result — the resident by WeChat, the platform an order
    came from, or nobody yet (staff call the resident back)."""
    if not needs_callback(db, ticket):
        return texts.RESOLVED.format(number=ticket.number)
    if ticket.source:
        platform = texts.RESOLVED_PLATFORM.get(ticket.source, texts.RESOLVED_PLATFORM_OTHER)
        return texts.RESOLVED_ORDER.format(number=ticket.number, platform=platform)
    return texts.RESOLVED_CALLBACK.format(number=ticket.number)


def order_rejected(ticket: Ticket, reason: str) -> str:
    """退单 of a 12345 order (退回 of another platform's): what happens next, and to whom."""
    source = ticket.source or ""
    return texts.REJECTED_ORDER.format(
        number=ticket.number,
        verb=texts.REJECTED_VERB.get(source, texts.REJECTED_VERB_OTHER),
        platform=texts.REJECTED_PLATFORM.get(source, texts.REJECTED_PLATFORM_OTHER),
        resident=texts.REJECTED_RESIDENT if ticket.person_id is not None else "",
        reason=reason,
    )


@router.command(
    "转派", help="转派 编号 类别或姓名：转给其他类别或工作人员（工作人员）", role=Role.STAFF
)
def hand_over(ctx: Context, args: str) -> str:
    def act(ticket: Ticket, target: str) -> str:
        actor = actor_for(ctx.db, ctx.person.id)
        wanted = fold(target).strip()  # 環境衛生 and 环境卫生 name the same topic
        topics = enabled_topics(ctx.db)
        topic = next((t for t in topics if fold(t.name) == wanted), None)
        if topic is not None:
            try:
                holder = reassign_to_topic(ctx.db, ticket, actor, topic, ctx.now, ctx.tz)
            except SwitchedOff:
                here = enabled_topics(ctx.db, ticket.community_id)
                return texts.REASSIGN_SWITCHED_OFF.format(
                    topic=topic.name, number=ticket.number, topics="、".join(t.name for t in here)
                )
            if holder is None:
                return texts.REASSIGNED_TRIAGE.format(number=ticket.number, topic=topic.name)
            return texts.REASSIGNED_TOPIC.format(
                number=ticket.number, topic=topic.name, holder=_holder(holder)
            )
        # The ticket's community's staff, or the street's.
        staff = ctx.db.scalars(
            select(Person).where(
                Person.staff_level >= 1,
                or_(Person.community_id == ticket.community_id, Person.community_id.is_(None)),
            )
        ).all()
        person = next((p for p in staff if p.name and fold(p.name) == wanted), None)
        if person is None:
            names = "、".join(t.name for t in topics)
            return texts.REASSIGN_UNKNOWN.format(target=target, topics=names)
        reassign_to_person(ctx.db, ticket, actor, person, ctx.now, ctx.tz)
        return texts.REASSIGNED_PERSON.format(number=ticket.number, holder=_holder(person))

    return _on_ticket(ctx, args, "转派", texts.REASSIGN_USAGE, True, act)

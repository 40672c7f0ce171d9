"""我的 / 查询: a resident follows their own tickets."""

from __future__ import annotations

from models import Role, Ticket, open_tickets_of
from models.onbehalf import callback_phone, needs_callback
from models.places import mask_phone
from models.reach import ticket_in_reach
from words import STATUS_NAMES, as_number
from words.channels import CHANNEL_NAMES

from . import texts
from .router import Context, Router

router = Router("mine")


@router.command("我的", help="我的：查看我反映的、正在办理的诉求", aliases=("我的诉求",))
def my_tickets(ctx: Context, args: str) -> str:
    tickets = open_tickets_of(ctx.db, ctx.person.id)
    if not tickets:
        return texts.MINE_EMPTY
    lines = [texts.MINE_HEADER]
    for ticket in tickets:
        lines.append(
            texts.MINE_LINE.format(
                number=ticket.number,
                topic=_topic(ticket),
                status=STATUS_NAMES.get(ticket.status, ticket.status),
                date=ticket.created_at.astimezone(ctx.tz).strftime("%m-%d %H:%M"),
            )
        )
    lines.append(texts.MINE_FOOTER.format(number=tickets[0].number))
    return "\n".join(lines)


@router.command("查询", help="查询 <编号>：查看一条诉求的详情和进度")
def show_ticket(ctx: Context, args: str) -> str:
    number = as_number(args)
    if number is None:
        return texts.QUERY_USAGE
    # Someone else's ticket (another community's, for staff) looks exactly like a missing
    # one: numbers reveal nothing.
    ticket = ticket_in_reach(ctx.db, number, ctx.person.id)
    if ticket is None:
        return texts.QUERY_NOT_FOUND.format(number=number)
    text = ticket.text if len(ticket.text) <= 120 else ticket.text[:119] + "…"
    lines = [
        texts.QUERY_DETAIL.format(
            number=ticket.number,
            topic=_topic(ticket),
            status=STATUS_NAMES.get(ticket.status, ticket.status),
            created=ticket.created_at.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M"),
            text=text,
        )
    ]
    if ticket.attachments:
        lines.append(texts.QUERY_ATTACHMENTS.format(count=len(ticket.attachments)))
    if ctx.person.role >= Role.STAFF:
        lines.extend(_on_behalf_lines(ctx, ticket))
    return "\n".join(lines)


def _on_behalf_lines(ctx: Context, ticket: Ticket) -> list[str]:
    """For staff: how a ticket staff filed came in, and whether the resident needs a call."""
    lines = []
    if ticket.channel != "wechat":
        channel = CHANNEL_NAMES.get(ticket.channel, ticket.channel)
        lines.append(texts.QUERY_ON_BEHALF.format(channel=channel))
    if needs_callback(ctx.db, ticket):
        phone = mask_phone(callback_phone(ctx.db, ticket)) or texts.QUERY_NO_PHONE
        lines.append(texts.QUERY_CALLBACK.format(phone=phone))
    return lines


def _topic(ticket: Ticket) -> str:
    return ticket.topic.name if ticket.topic is not None else texts.NO_TOPIC

"""评 evaluate: the resident rates the outcome, says what is still wrong, answers 回头看.

After `办结` the resident is asked `1 满意 2 基本满意 3 不满意` (a conversation state, so a
bare digit answers it — the most recent question wins); `评价 N 1` works any time the ticket
waits for a rating. 不满意 reopens the ticket and asks what is still wrong: the next text is
added to the ticket's timeline for the assignee. The 回头看 question weeks later takes
`1 已解决` or `2 问题还在` (which reopens the ticket).
"""

from __future__ import annotations

from datetime import timedelta

from models import ConversationState, Ticket, drop_state, push_state, ticket_by_number
from models.lifecycle import Actor, IllegalMove, record_event
from models.ratings import rate, reopen_by_followup, resident_note
from models.states import FOLLOWUP, RATE, REOPEN_DETAIL
from models.tickets import deadline_hours
from words import fold

from . import texts
from .router import PASS, Context, Pass, Reply, Router

router = Router("rating")


def _digit(ctx: Context) -> int | None:
    if ctx.message.kind != "text":
        return None
    answer = fold(ctx.message.text or "").strip()
    return int(answer) if answer.isascii() and answer.isdigit() and len(answer) < 3 else None


def _rate(ctx: Context, ticket: Ticket, score: int) -> str:
    if ticket.status != "resolved":
        return texts.RATE_NOT_NOW.format(number=ticket.number)
    rate(
        ctx.db,
        ticket,
        ctx.person.id,
        score,
        ctx.now,
        ctx.tz,
        sla_hours=deadline_hours(ticket, ctx.options.intake.triage_hours),
    )
    for state in ctx.pending_states():
        if state.kind == RATE and state.values.get("ticket") == ticket.number:
            drop_state(ctx.db, state)
    if score == 3:
        push_state(
            ctx.db,
            ctx.person.id,
            REOPEN_DETAIL,
            {"ticket": ticket.number},
            now=ctx.now,
            ttl=timedelta(hours=24),
        )
        return texts.RATED_BAD.format(number=ticket.number)
    return texts.RATED_GOOD.format(number=ticket.number)


@router.command("评价", help="评价 编号 数字：评价办理结果（1 满意 2 基本满意 3 不满意）")
def rate_command(ctx: Context, args: str) -> str:
    parts = fold(args).replace("#", " ").split()
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return texts.RATE_USAGE
    number, score = int(parts[0]), int(parts[1])
    ticket = ticket_by_number(ctx.db, number)
    if ticket is None or ticket.person_id != ctx.person.id:
        return texts.RATE_NOT_YOURS.format(number=number)
    if score not in (1, 2, 3):
        return texts.RATE_CHOICES
    return _rate(ctx, ticket, score)


@router.state(RATE)
def rate_answer(ctx: Context, state: ConversationState) -> Reply | Pass:
    score = _digit(ctx)
    if score is None:
        return PASS  # not an answer: the question stays open until it expires
    ticket = ticket_by_number(ctx.db, state.values["ticket"])
    if ticket is None or ticket.person_id != ctx.person.id or ticket.status != "resolved":
        drop_state(ctx.db, state)
        return PASS
    if score not in (1, 2, 3):
        return texts.RATE_CHOICES
    return _rate(ctx, ticket, score)


@router.state(REOPEN_DETAIL)
def reopen_detail(ctx: Context, state: ConversationState) -> Reply | Pass:
    text = (ctx.message.text or "").strip() if ctx.message.kind in ("text", "voice") else ""
    if not text or ctx.router.find_command(text) is not None:
        return PASS
    drop_state(ctx.db, state)
    ticket = ticket_by_number(ctx.db, state.values["ticket"])
    if ticket is None:
        return PASS
    resident_note(ctx.db, ticket, ctx.person.id, text, ctx.now)
    return texts.REOPEN_DETAIL_NOTED.format(number=ticket.number)


@router.state(FOLLOWUP)
def followup_answer(ctx: Context, state: ConversationState) -> Reply | Pass:
    answer = _digit(ctx)
    said = fold(ctx.message.text or "").strip() if ctx.message.kind == "text" else ""
    if answer is None and said not in ("已解决", "解决了", "还在", "问题还在", "还有"):
        return PASS
    ticket = ticket_by_number(ctx.db, state.values["ticket"])
    if ticket is None or ticket.person_id != ctx.person.id:
        drop_state(ctx.db, state)
        return PASS
    if answer == 1 or said in ("已解决", "解决了"):
        drop_state(ctx.db, state)
        record_event(
            ctx.db,
            ticket,
            "followup",
            Actor(ctx.person.id),
            ctx.now,
            before=ticket.status,
            note="回头看：居民确认已解决",
        )
        return texts.FOLLOWUP_GOOD
    if answer == 2 or said in ("还在", "问题还在", "还有"):
        drop_state(ctx.db, state)
        try:
            reopen_by_followup(
                ctx.db,
                ticket,
                ctx.person.id,
                ctx.now,
                ctx.tz,
                sla_hours=deadline_hours(ticket, ctx.options.intake.triage_hours),
            )
        except IllegalMove:
            return texts.RATE_NOT_NOW.format(number=ticket.number)
        return texts.FOLLOWUP_BAD.format(number=ticket.number)
    return texts.FOLLOWUP_CHOICES

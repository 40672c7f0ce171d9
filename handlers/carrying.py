"""落实 and 评议 by chat: the owner reports 进展 and 完成; residents rate and answer the 回头看.

`进展 N 内容` and `完成 N 结果` are staff commands (a resident gets the router's polite
refusal): the staff member answerable for #N, or the admins and supervisors of the item's
community or of the street, may use them (models/carrying.py `may_report`); another community's
item is "not found", like a missing one. After 完成 the people who took part are asked
`1 满意 2 基本满意 3 不满意` (a conversation state: a bare digit answers it, the most recent
question first); `评议 N 1` works any time after. The 回头看 question takes 1 or 2, or a short
reply that says which, with anything written after the digit kept as the resident's note.
"""

from __future__ import annotations

import re

from models import ConversationState, Person, Role, drop_state
from models.agenda import CARRYING_OUT, AgendaError, AgendaItem, agenda_by_number
from models.agenda_people import staff_scope
from models.agenda_ratings import answer_review, rate
from models.carrying import complete, may_report, report_progress
from models.proposals import visible_to
from models.states import AGENDA_RATE, AGENDA_REVIEW
from words import as_number, fold, meaningful_length

from . import agenda_texts as texts
from .router import PASS, Context, Pass, Reply, Router, split_word

router = Router("carrying")

SHORT_REPLY = 12  # meaningful characters: a longer text is something else (a new request)


def _staff_item(ctx: Context, command: str, args: str) -> tuple[AgendaItem | None, str, str]:
    """The item a staff command names and the rest as written; else (None, "", the reply)."""
    head, rest = split_word(args)
    number = as_number(head)
    if number is None or not rest:
        return None, "", texts.CARRY_USAGE[command]
    item = agenda_by_number(ctx.db, number)
    if item is None or not staff_scope(ctx.db, ctx.person.id).covers(item.community_id):
        return None, "", texts.CARRY_NOT_FOUND.format(number=number)
    if item.stage != CARRYING_OUT:
        return None, "", texts.CARRY_NOT_NOW.format(number=number, what=command)
    if not may_report(ctx.db, ctx.person.id, item):
        return None, "", texts.CARRY_NOT_YOURS.format(number=number)
    return item, rest, ""


def _refusal(error: AgendaError, number: int, what: str) -> str:
    if error.reason == "text_long":
        return texts.CARRY_TEXT_LONG.format(**error.details)
    return texts.CARRY_NOT_NOW.format(number=number, what=what)


def _actor(ctx: Context) -> str:
    person = ctx.db.get(Person, ctx.person.id)
    return person.name if person is not None and person.name else ""


@router.command("进展", help="进展 议题编号 内容：报告议题的落实进展（工作人员）", role=Role.STAFF)
def progress(ctx: Context, args: str) -> str:
    item, text, refusal = _staff_item(ctx, "进展", args)
    if item is None:
        return refusal
    try:
        told = report_progress(
            ctx.db, item, text, ctx.now, actor=_actor(ctx), person_id=ctx.person.id
        )
    except AgendaError as error:
        return _refusal(error, item.number, "进展")
    reply = texts.PROGRESS_TOLD if told else texts.PROGRESS_NOTED
    return reply.format(number=item.number, count=told)


@router.command(
    "完成", help="完成 议题编号 结果：议题落实完成，请参与的居民评议（工作人员）", role=Role.STAFF
)
def finish(ctx: Context, args: str) -> str:
    item, result, refusal = _staff_item(ctx, "完成", args)
    if item is None:
        return refusal
    days = ctx.options.review_days
    try:
        asked = complete(
            ctx.db,
            item,
            result,
            ctx.now,
            review_days=days,
            actor=_actor(ctx),
            person_id=ctx.person.id,
        )
    except AgendaError as error:
        return _refusal(error, item.number, "完成")
    return texts.COMPLETED.format(number=item.number, count=asked, days=f"{days:g}")


# -- 评议 -------------------------------------------------------------------------------------


def _rated(ctx: Context, item: AgendaItem, score: int) -> str:
    try:
        replaced = rate(ctx.db, item, ctx.person.id, score, ctx.now)
    except AgendaError as error:
        if error.reason == "not_participant":
            return texts.AGENDA_RATE_NOT_YOURS.format(number=item.number)
        return texts.AGENDA_RATE_NOT_YET.format(number=item.number)
    for state in ctx.pending_states():
        if state.kind == AGENDA_RATE and state.values.get("agenda") == item.number:
            drop_state(ctx.db, state)
    reply = texts.AGENDA_RERATED if replaced else texts.AGENDA_RATED
    return reply.format(number=item.number, title=item.title, label=texts.RATING_LABELS[score])


@router.command("评议", help="评议 议题编号 数字：评议议题的落实结果（1 满意 2 基本满意 3 不满意）")
def rate_command(ctx: Context, args: str) -> str:
    parts = fold(args).replace("#", " ").split()
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) < 10 for p in parts):
        return texts.AGENDA_RATE_USAGE
    number, score = int(parts[0]), int(parts[1])
    item = agenda_by_number(ctx.db, number)
    if item is None or not visible_to(ctx.db, item, ctx.person.id):
        return texts.CARRY_NOT_FOUND.format(number=number)  # another community's: none
    if score not in texts.RATING_LABELS:
        return texts.AGENDA_RATE_CHOICES
    return _rated(ctx, item, score)


def _answer(ctx: Context) -> str:
    """The message's text folded for matching ("" for anything but text)."""
    return fold(ctx.message.text or "").strip() if ctx.message.kind == "text" else ""


@router.state(AGENDA_RATE)
def rate_answer(ctx: Context, state: ConversationState) -> Reply | Pass:
    said = _answer(ctx)
    words = {label: score for score, label in texts.RATING_LABELS.items()}
    if said in words:
        score = words[said]
    elif said.isascii() and said.isdigit() and len(said) < 3:
        score = int(said)
    else:
        return PASS  # not an answer: the question stays open until it expires
    if score not in texts.RATING_LABELS:
        return texts.AGENDA_RATE_CHOICES
    drop_state(ctx.db, state)  # answered (or unanswerable: not asked twice either way)
    item = agenda_by_number(ctx.db, state.values["agenda"])
    return PASS if item is None else _rated(ctx, item, score)


# -- 回头看 -----------------------------------------------------------------------------------

_LEADING_DIGIT = re.compile(r"\s*([12])(?:\s|[，,、。.:：;；!！]|$)\s*(.*)", re.DOTALL)


def _review_answer(ctx: Context) -> tuple[bool | None, str]:
    """(held, note as written) from the reply; held None: not an answer to the question."""
    written = (ctx.message.text or "").strip() if ctx.message.kind == "text" else ""
    match = _LEADING_DIGIT.match(fold(written[:1]) + written[1:]) if written else None
    if match is not None:
        return match.group(1) == "1", match.group(2).strip()
    said = fold(written)
    if not said or meaningful_length(said) > SHORT_REPLY or ctx.router.find_command(written):
        return None, ""
    if any(word in said for word in texts.REVIEW_NOT_HELD_WORDS):
        return False, written
    bare = "".join(ch for ch in said if ch.isalnum())
    if bare in texts.REVIEW_HELD_EXACT or any(w in said for w in texts.REVIEW_HELD_WORDS):
        return True, written
    return None, ""


@router.state(AGENDA_REVIEW)
def review_answer(ctx: Context, state: ConversationState) -> Reply | Pass:
    held, note = _review_answer(ctx)
    if held is None:
        said = _answer(ctx)
        if said.isascii() and said.isdigit() and len(said) < 3:
            return texts.AGENDA_REVIEW_CHOICES  # a number, but not 1 or 2
        return PASS
    item = agenda_by_number(ctx.db, state.values["agenda"])
    drop_state(ctx.db, state)
    if item is None:
        return PASS
    try:
        answer_review(ctx.db, item, ctx.person.id, held, note, ctx.now)
    except AgendaError:
        return texts.AGENDA_RATE_NOT_YOURS.format(number=item.number)
    reply = texts.AGENDA_REVIEW_HELD if held else texts.AGENDA_REVIEW_NOT_HELD
    return reply.format(number=item.number)

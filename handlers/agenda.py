"""提议 · 附议 · 议题: a resident proposes, backs and reads agenda items.

`提议 内容` files a 议题 in the resident's community (bound residents only: backing counts
by household, and the proposer's own unit is its first backing); `附议 N` backs one, once per
unit; `议题` lists the open ones in the person's scope and `议题 N` shows one with its
timeline as residents read it (no one else's name or words but the committee's). Another
community's item is answered like a missing number. The rules are models/proposals.py's;
this module only words them.
"""

from __future__ import annotations

from models.agenda import (
    HOUSEHOLD_BACKING,
    OBJECTION,
    AgendaError,
    AgendaItem,
    agenda_by_number,
    backing_count,
    timeline,
)
from models.proposals import (
    BACKING_STAGES,
    Backed,
    back,
    open_items_for,
    propose,
    visible_to,
)
from words import as_number, fold, meaningful_length, when
from words.agenda import EVENT_NAMES, STAGE_NAMES

from . import agenda_texts as texts
from .help import REPLY_CHARS
from .router import Context, Reply, Router

router = Router("agenda")

# A chat reply stays short: the latest lines of a long timeline.
_TIMELINE_LINES = 8


def _unit(item: AgendaItem) -> str:
    return texts.UNIT_WORDS.get(item.backing_unit, "户")


def _count(item: AgendaItem, count: int) -> str:
    if item.backing_needed > 0:
        return texts.COUNT.format(count=count, needed=item.backing_needed, unit=_unit(item))
    return texts.COUNT_NO_THRESHOLD.format(count=count, unit=_unit(item))


def _refused(exc: AgendaError, what: str, number: int | None = None) -> str:
    if exc.reason == "not_bound":
        return texts.NOT_BOUND.format(what=what)
    if exc.reason == "pending":
        return texts.PENDING.format(what=what)
    if exc.reason == "closed":
        stage = STAGE_NAMES.get(str(exc.details.get("stage")), "")
        return texts.BACK_CLOSED.format(number=number, stage=stage)
    return texts.NOT_FOUND.format(number=number)  # other_community: as if there were none


@router.command("提议", help=texts.HELP_PROPOSE)
def propose_item(ctx: Context, args: str) -> Reply:
    """`提议 内容`: the text exactly as written becomes 议题 #N; without text, how to write it."""
    if meaningful_length(args) < ctx.options.min_chars:
        return texts.HOW_TO_PROPOSE
    options = ctx.options
    try:
        item = propose(
            ctx.db,
            ctx.person.id,
            args.strip(),
            ctx.now,
            unit=options.backing_unit,
            threshold=options.backing_threshold,
        )
    except AgendaError as exc:
        return _refused(exc, texts.WHAT_PROPOSE)
    unit = _unit(item)
    if item.backing_needed > 0:
        count = backing_count(ctx.db, item.id)
        backing = texts.PROPOSED_BACKING.format(needed=item.backing_needed, count=count, unit=unit)
    else:
        backing = texts.PROPOSED_NO_THRESHOLD.format(unit=unit)
    return texts.PROPOSED.format(
        number=item.number,
        title=item.title,
        backing=backing,
        next=texts.PROPOSED_NEXT.format(number=item.number),
    )


@router.command("附议", help=texts.HELP_BACK)
def back_item(ctx: Context, args: str) -> Reply:
    words = fold(args).split()
    number = as_number(words[0]) if words else None
    if number is None:
        return texts.BACK_USAGE
    item = agenda_by_number(ctx.db, number)
    if item is None or not visible_to(ctx.db, item, ctx.person.id):
        return texts.NOT_FOUND.format(number=number)
    try:
        backed = back(ctx.db, item, ctx.person.id, ctx.now)
    except AgendaError as exc:
        return _refused(exc, texts.WHAT_BACK, number)
    return _receipt(backed)


def _receipt(backed: Backed) -> str:
    item = backed.item
    count = _count(item, backed.count)
    if not backed.added:
        household = item.backing_unit == HOUSEHOLD_BACKING
        template = texts.BACKED_ALREADY if household else texts.BACKED_ALREADY_PERSON
        return template.format(number=item.number, count=count)
    reply = texts.BACKED.format(number=item.number, title=item.title, count=count)
    return reply + (texts.BACKED_REACHED if backed.threshold_reached else "")


@router.command("议题", help=texts.HELP_AGENDA)
def agenda_items(ctx: Context, args: str) -> Reply:
    words = fold(args).split()
    if not words:
        return _list(ctx)
    number = as_number(words[0])
    if number is None:
        return texts.AGENDA_USAGE
    item = agenda_by_number(ctx.db, number)
    if item is None or not visible_to(ctx.db, item, ctx.person.id):
        return texts.NOT_FOUND.format(number=number)
    return _show(ctx, item)


def _list(ctx: Context) -> str:
    items = open_items_for(ctx.db, ctx.person.id)
    if not items:
        return texts.LIST_NONE
    lines = [texts.LIST_HEADER]
    room = REPLY_CHARS - len(texts.LIST_HEADER) - len(texts.LIST_FOOTER) - 1
    for item in items:
        count = backing_count(ctx.db, item.id)
        shown = f"{count}/{item.backing_needed}" if item.backing_needed else str(count)
        line = texts.LIST_LINE.format(
            number=item.number,
            title=item.title,
            stage=STAGE_NAMES[item.stage],
            count=f"附议 {shown}",
        )
        room -= len(line) + 1
        if room < 0:  # one reply's worth, newest first; the footer must still show
            break
        lines.append(line)
    lines.append(texts.LIST_FOOTER)
    return "\n".join(lines)


def _show(ctx: Context, item: AgendaItem) -> str:
    lines = []
    for event in timeline(ctx.db, item.id)[-_TIMELINE_LINES:]:
        line = texts.TIMELINE_LINE.format(
            at=when(event.at, ctx.tz), event=EVENT_NAMES.get(event.kind, event.kind)
        )
        # The committee's words (a reason, minutes, progress) are the item's; an objection
        # is one resident's own, and not for every neighbour to read.
        if event.text and event.kind != OBJECTION:
            line += f"：{event.text}"
        lines.append(line)
    values = {
        "number": item.number,
        "title": item.title,
        "stage": STAGE_NAMES[item.stage],
        "count": _count(item, backing_count(ctx.db, item.id)),
        "timeline": "\n".join(lines),
    }
    back = texts.DETAIL_BACK.format(number=item.number) if item.stage in BACKING_STAGES else ""
    # A long proposal is shortened here, not the reply at its end: the timeline (what has
    # happened to it) and how to back it are what the resident asked for.
    room = REPLY_CHARS - len(texts.DETAIL.format(**values, body="")) - len(back)
    body = item.body if len(item.body) <= room else item.body[: max(room - 1, 0)] + "…"
    return texts.DETAIL.format(**values, body=body) + back

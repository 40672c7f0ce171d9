"""公示 by chat: residents object to a published decision (异议 N 理由).

Only during the period, only bound residents in the item's scope, and only with a reason,
kept exactly as written; the community's admins are pushed (models/publicity.py).
"""

from __future__ import annotations

from models.agenda import AgendaError, agenda_by_number
from models.proposals import visible_to
from models.publicity import object_to
from words import as_number, when

from . import agenda_texts as texts
from .router import Context, Router, split_word

router = Router("publicity")


@router.command("异议", help=texts.HELP_OBJECT)
def object_to_decision(ctx: Context, args: str) -> str:
    word, reason = split_word(args.strip())
    number = as_number(word) if word else None
    if number is None:
        return texts.OBJECT_USAGE
    item = agenda_by_number(ctx.db, number)
    # Another community's item is "not found", as its polls are: nothing to say about it.
    if item is None or not visible_to(ctx.db, item, ctx.person.id):
        return texts.OBJECT_REFUSED["unknown"].format(number=number)
    if not reason.strip():
        return texts.OBJECT_NO_REASON.format(number=number)
    try:
        objection = object_to(ctx.db, item, ctx.person.id, reason, ctx.now, ctx.tz)
    except AgendaError as exc:
        until = when(item.objections_until, ctx.tz) if item.objections_until else ""
        refusal = texts.OBJECT_REFUSED.get(exc.reason, texts.OBJECT_USAGE)
        return refusal.format(number=number, until=until, max=exc.details.get("max", ""))
    assert item.objections_until is not None
    return texts.OBJECT_RECEIPT.format(
        number=number,
        title=item.title,
        text=objection.text,
        until=when(item.objections_until, ctx.tz),
    )

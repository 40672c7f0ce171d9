"""Flood control on the report path: the open-ticket cap, and 附议 for a neighbour's problem.

Before a resident's text is filed, two checks run (handlers/report.py calls `before_filing`):

- 附议: a bound resident's text is compared with the other residents' open tickets about the
  same building filed within [abuse] support_hours. The same normalised text (text_key), or
  the same topic and nearly the same words, is the same problem: the resident is linked to
  that ticket as a supporter (models/flood.py) instead of filing a second one.
- The cap: a resident holding [abuse] max_open_tickets open tickets is told which, and nothing
  is filed. Staff and admins are exempt (they often report on residents' behalf).

"Nearly the same words" is the Jaccard similarity of the two texts' character bigrams (after
folding, without punctuation), at least SIMILAR. Bigrams rather than jieba tokens: they need
no segmenting of the candidates inside the write transaction (SQLite's single writer), and
two short reports of one problem are often cut into different words by jieba (楼道灯 / 楼道
的灯) while sharing most bigrams. The topic must match too, so two different problems in
similar words (电梯坏了 / 路灯坏了: 0.4) stay apart; one inserted word in a twenty-character
report still scores above 0.8.
"""

from __future__ import annotations

import re
from datetime import timedelta

from models import Role, open_tickets_of
from models.flood import Nearby, nearby_tickets, support
from words import fold

from . import texts
from .router import Context

SIMILAR = 0.7
_NOT_WORD = re.compile(r"[\W_]+")


def before_filing(ctx: Context, text: str, key: str, open_count: int) -> str | None:
    """The reply instead of a new ticket (附议, or the cap reached), or None: file it."""
    if ctx.person.role >= Role.STAFF:
        return None
    seconded = _second(ctx, text, key)
    if seconded is not None:
        return seconded
    cap = ctx.options.max_open_tickets
    if cap and open_count >= cap:
        numbers = "、".join(f"#{t.number}" for t in open_tickets_of(ctx.db, ctx.person.id))
        return texts.TOO_MANY_OPEN.format(count=open_count, numbers=numbers)
    return None


def _second(ctx: Context, text: str, key: str) -> str | None:
    """附议 on a neighbour's open ticket about the same problem, if there is one."""
    hours = ctx.options.support_hours
    place = ctx.prerouted.route.place if ctx.prerouted is not None else None
    if not hours or place is None or place.building_id is None:
        return None  # not bound to a building: nothing to compare with, and no query
    since = ctx.now - timedelta(hours=hours)
    candidates = nearby_tickets(
        ctx.conn, building_id=place.building_id, person_id=ctx.person.id, since=since
    )
    found = _same_problem(ctx, text, key, candidates)
    if found is None:
        return None
    if support(ctx.conn, found.id, ctx.person.id, ctx.now):
        return texts.SUPPORTED.format(number=found.number)
    return texts.SUPPORTED_AGAIN.format(number=found.number)


def _same_problem(ctx: Context, text: str, key: str, candidates: list[Nearby]) -> Nearby | None:
    if not candidates:
        return None
    for ticket in candidates:
        if ticket.text_key == key:
            return ticket
    verdict = ctx.classify(text)  # classified before the transaction: no segmenting here
    topic = verdict.topic if not verdict.unsure else None
    if topic is None:
        return None
    words = bigrams(text)
    for ticket in candidates:
        if ticket.topic == topic and similarity(words, bigrams(ticket.text)) >= SIMILAR:
            return ticket
    return None


def bigrams(text: str) -> frozenset[str]:
    """The text's adjacent character pairs, folded and without punctuation."""
    letters = _NOT_WORD.sub("", fold(text))
    if len(letters) < 2:
        return frozenset({letters})
    return frozenset(letters[i : i + 2] for i in range(len(letters) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard: shared pairs over all pairs (1.0 for the same set)."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0

"""The short "which topic?" question of an unsure ticket: what to offer, how to read the answer.

A resident whose report the classifier could not place is offered the few likeliest topics
first (handlers/report.py), not the whole list. The likeliest are the classifier's ranking
(rules, or the learned model's ranking when it has one), kept to the topics enabled in the
ticket's community; when it ranked nothing (or too few), the community's most filed topics
of the last RECENT_DAYS fill the places, then the topics in their sort order.

"Most filed" counts only tickets whose topic did not come from this very question: a topic
the classifier was sure of, or one staff confirmed. A resident's unconfirmed pick is left
out, so the topics offered first do not keep themselves first by being offered.

The answer is a number (handlers/report.py reads it) or a topic's name, as written or near
it: `topic_named`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from words import fold

from .tickets import Ticket
from .topics import Topic, enabled_topics

SHORT = 3  # how many topics the short question offers before 更多类别
RECENT_DAYS = 90  # how far back "most filed" looks

# Words around a name or a number that do not change the answer: "选2", "是电梯", "电梯问题",
# "第2个". Matched on the folded answer without spaces or punctuation; longest first.
_PREFIXES = ("应该是", "应该算", "就是", "属于", "选择", "我选", "选", "是", "第")
_SUFFIXES = ("方面的", "问题", "类别", "方面", "类的", "一类", "类", "吧", "的", "个", "项", "号")
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
_NOT_WORD = re.compile(r"[\W_]+")
_AFFIXES_MAX = 3  # "应该是电梯方面的问题吧": 应该是 and 吧, 问题, 方面的
_NEAR_MIN = 2  # a part of a name is read as that name from this many characters on


def bare(text: str) -> str:
    """`text` folded (width, case, script) without spaces or punctuation."""
    return _NOT_WORD.sub("", fold(text))


def choice_words(text: str) -> str:
    """The answer as a choice is read from it: `bare`, without the words around a choice
    (选, 是, 第…, …问题, …类, …个)."""
    answer = bare(text)
    for _ in range(_AFFIXES_MAX):
        prefix = next((p for p in _PREFIXES if answer.startswith(p) and answer != p), "")
        answer = answer[len(prefix) :]
        suffix = next((s for s in _SUFFIXES if answer.endswith(s) and answer != s), "")
        answer = answer[: len(answer) - len(suffix)]
        if not prefix and not suffix:
            break
    return answer


def choice_number(text: str) -> int | None:
    """The number `text` answers with: 2, ２, 二, 选2, 第2个; None for anything else."""
    answer = choice_words(text)
    if answer.isascii() and answer.isdigit():
        return int(answer)
    return _NUMERALS.get(answer)


def topic_named(text: str, names: Sequence[str]) -> str | None:
    """The topic in `names` that `text` names: the name as written or folded the same
    ("电梯设施", "電梯設施", "电梯 设施。"), with the words around a choice ("是电梯设施吧"),
    else a part of exactly one name of at least two characters ("电梯", "电梯问题"). None
    when it names none, or several ("服务" in 物业服务 and 家政服务)."""
    whole, answer = bare(text), choice_words(text)
    keys = {name: bare(name) for name in names}
    for wanted in (whole, answer):
        exact = [name for name, key in keys.items() if key and key == wanted]
        if exact:
            return exact[0]
    if len(answer) < _NEAR_MIN:
        return None
    near = [name for name, key in keys.items() if answer in key]
    return near[0] if len(near) == 1 else None


def most_filed(
    db: Session, community_id: int | None, now: datetime, days: int = RECENT_DAYS
) -> list[str]:
    """The topics filed most in `community_id` (None: the whole street) since `days` ago,
    most first, counting only tickets whose topic the classifier was sure of or staff
    confirmed (see the module's note)."""
    count = func.count(Ticket.id)
    query = (
        select(Topic.name, count)
        .join(Ticket, Ticket.topic_id == Topic.id)
        .where(
            Ticket.created_at >= now - timedelta(days=days),
            or_(Ticket.topic_confirmed, Ticket.unsure.is_(False)),
        )
        .group_by(Topic.id, Topic.name, Topic.sort_order)
        .order_by(count.desc(), Topic.sort_order, Topic.id)
    )
    if community_id is not None:
        query = query.where(Ticket.community_id == community_id)
    return [str(name) for name, _ in db.execute(query)]


def likeliest_topics(
    db: Session,
    community_id: int | None,
    candidates: Sequence[str],
    now: datetime,
    n: int = SHORT,
) -> tuple[list[str], list[str]]:
    """The `n` topics to offer first and every topic the resident may choose (enabled in
    `community_id`, in order): the classifier's `candidates` (best first) that are enabled
    there, then the community's most filed, then the rest in their order."""
    enabled = [t.name for t in enabled_topics(db, community_id)]
    allowed = set(enabled)
    offered: list[str] = []
    for name in candidates:
        if name in allowed and name not in offered:
            offered.append(name)
    if len(offered) < n:
        for name in [*most_filed(db, community_id, now), *enabled]:
            if name in allowed and name not in offered:
                offered.append(name)
    return offered[:n], enabled


__all__ = [
    "RECENT_DAYS",
    "SHORT",
    "bare",
    "choice_number",
    "choice_words",
    "likeliest_topics",
    "most_filed",
    "topic_named",
]

"""为什么是这个类别: on a ticket's page, who set its topic — at filing (Ticket.topic_by: the
rules, the model, or nobody, so the resident was asked) and every change since, read from its
timeline (the resident's choice, staff's 转派 or confirmation, `tickets retopic`) — and how
today's rules and model read its text (one explain per page view).

The explanation is today's, not the one the ticket was filed with: rules and the model change
after filing, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.tickets import Ticket

from .common import ys
from .rules_common import explanation
from .tickets_query import Entry

MAX_TEXT = 2000  # as much as the try box reads

ARROW = " → "
UNSORTED = "（未分类）"  # how route_under_topic's note names no topic (models/lifecycle.py)

# Who set the topic when the ticket was filed (Ticket.topic_by).
FILED_BY = {
    "rules": "规则",
    "model": "模型",
}
FILED_UNSURE = "不确定"
# Sure of a topic the ticket's community has switched off: filed without one, for triage.
FILED_SWITCHED_OFF = "自动分类的类别未启用"
# The timeline's topic changes: (the short name in the chain, the full name on its line).
CHANGES = {
    "topic_chosen": ("居民选择", "居民选择了类别"),
    "reassigned": ("工作人员改派", "工作人员转派到其他类别"),
    "retopic": ("工作人员改派", "工作人员更改了类别"),
}
CONFIRMED = ("工作人员确认", "工作人员确认了类别")
CONFIRMED_WITHOUT_EVENT = "工作人员确认"  # a closed ticket relabeled (no timeline entry)


@dataclass(frozen=True)
class Step:
    """One change of the ticket's topic after filing."""

    at: Any
    who: str | None
    what: str
    before: str | None
    after: str


@dataclass
class TopicStory:
    """Who set the topic at filing and since, and today's explanation of the text."""

    filed: str  # 规则 / 模型 / 不确定
    filed_topic: str | None  # the topic it was filed under (None: none, the resident asked)
    steps: list[Step] = field(default_factory=list)
    chain: str = ""  # "不确定 → 居民选择", "模型 → 工作人员改派"
    filed_line: str = ""  # the filing, in a sentence
    explained: dict[str, Any] | None = None  # rules_common.explanation of the text, today


def topic_story(ticket: Ticket, timeline: list[Entry], *, explain: bool = True) -> TopicStory:
    """The story of `ticket`'s topic from its timeline (`ticket_detail`'s), and when `explain`,
    how the live classifier of its community reads its text now."""
    steps = [step for e in timeline if (step := _step(e)) is not None]
    filed_topic = _topic_or_none(steps[0].before) if steps else _name(ticket)
    if ticket.topic_by in FILED_BY:
        filed = FILED_BY[ticket.topic_by]
    elif filed_topic is None:
        filed = FILED_SWITCHED_OFF if ticket.unsure is False else FILED_UNSURE
    else:
        filed = FILED_BY["rules"]  # filed before the model (and topic_by) existed
    shorts = [filed, *(s.what for s in steps)]
    if not steps and ticket.topic_confirmed:
        shorts.append(CONFIRMED_WITHOUT_EVENT)
    chain = ARROW.join(_dedupe(shorts))
    story = TopicStory(filed, filed_topic, steps, chain, _filed_line(filed, filed_topic))
    if explain and ticket.text.strip():
        classifier = ys().rulebook.for_community(ticket.community_id)
        story.explained = explanation(classifier.explain(ticket.text[:MAX_TEXT]))
    return story


def _filed_line(filed: str, topic: str | None) -> str:
    if filed == FILED_BY["model"]:
        return f"登记时关键词规则不确定，由模型判断为“{topic}”。"
    if filed == FILED_SWITCHED_OFF:
        return "登记时自动分类的类别在本社区未启用，诉求进入待分派。"
    if filed == FILED_UNSURE:
        return "登记时未能自动确定类别，请居民选择或由工作人员分类。"
    return f"登记时由关键词规则确定为“{topic}”。"


def _step(e: Entry) -> Step | None:
    """The topic change an entry records, if it records one (a 转派 to a person does not)."""
    if e.action not in CHANGES or not e.note or ARROW not in e.note:
        return None
    before, after = e.note.split(ARROW, 1)
    if not before:  # "→ 张三": a 转派 to a person
        return None
    short = CHANGES[e.action][0]
    if before == after and e.action != "topic_chosen":
        short = CONFIRMED[0]
    return Step(e.at, e.who, short, _topic_or_none(before), after)


def _topic_or_none(name: str | None) -> str | None:
    return None if name in (None, "", UNSORTED) else name


def _name(ticket: Ticket) -> str | None:
    return ticket.topic.name if ticket.topic is not None else None


def _dedupe(shorts: list[str]) -> list[str]:
    """The chain without a step repeated back to back (two 转派 read as one)."""
    out: list[str] = []
    for short in shorts:
        if not out or out[-1] != short:
            out.append(short)
    return out

"""What the 分类规则 views share: the blueprint, saving a topic through the audited path,
reading and checking forms, and the confirmed tickets the backtest and suggestions learn from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.classify import Explanation
from bot.classify.book import percent, ranked_scores, rules_unsure, verdict_of
from bot.classify.engine import has_words
from bot.classify.evaluate import Labeled
from models import KINDS, Change, ConsoleRole, RuleSpec, Topic, TopicSpec, sync_topics
from models.communities import Community
from models.tickets import Ticket

from .access import current_scope, guard
from .common import now, writing, ys

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("console_rules", __name__, url_prefix="/admin/rules")
bp.before_request(guard)

# The newest confirmed tickets the backtest and the suggestions read: enough to judge a
# change, few enough to answer within a second or two.
SAMPLE_SIZE = 2000
MAX_KEYWORD = 64
MAX_TOPIC_NAME = 32
MAX_WEIGHT = 100.0

TEXTS = {
    "no_topic": "没有找到这个分类。",
    "no_rule": "没有找到这条规则。",
    "keyword_missing": "请填写关键词。",
    "keyword_long": f"关键词不能超过 {MAX_KEYWORD} 个字。",
    "keyword_exists": "分类“{topic}”已有关键词“{keyword}”，请直接修改那一条。",
    "weight_bad": f"权重须是大于 0、不超过 {MAX_WEIGHT:g} 的数字。",
    "kind_bad": "类型须是“计分”或“否决”。",
    "name_missing": "请填写分类名称。",
    "name_long": f"分类名称不能超过 {MAX_TOPIC_NAME} 个字。",
    "name_exists": "已有名为“{name}”的分类。",
    "sla_bad": "处理时限须是 1 到 8760 之间的整数（小时）。",
    "order_bad": "排序须是整数。",
    "rule_added": "已添加关键词“{keyword}”到“{topic}”。",
    "rule_saved": "已保存“{keyword}”的修改。",
    "rule_unchanged": "“{keyword}”没有变化。",
    "rule_deleted": "已删除关键词“{keyword}”。",
    "topic_added": "已添加分类“{name}”。",
    "topic_saved": "已保存分类“{name}”的设置。",
    "topic_unchanged": "分类“{name}”的设置没有变化。",
    "adopted": "已采用“{keyword}”（{topic}，权重 {weight:g}）。",
}

KIND_LABELS = {"include": "计分", "exclude": "否决"}
FIELD_LABELS = {
    "weight": "权重",
    "kind": "类型",
    "enabled": "启用",
    "description": "说明",
    "sla_hours": "处理时限（小时）",
    "sort_order": "排序",
}
ACTION_LABELS = {"create": "新增", "update": "修改", "delete": "删除"}


def street_only(view: F) -> F:
    """The street-wide set is the street's to change: a community's account gets 403 (its
    community's own rules and settings are on the 本社区 page, rules_community.py)."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not current_scope().street:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, checked)


def may_edit_street() -> bool:
    """An admin of the street (a community's admin reads the street's set: 继承)."""
    return bool(current_user.may(ConsoleRole.ADMIN)) and current_scope().street


def community_or_404(db: Session, community_id: int) -> Community:
    """The community the URL names, if the account's scope covers it (else 404: another
    community's rules are not theirs to see)."""
    found = db.get(Community, community_id)
    if found is None or not current_scope().owns(community_id):
        abort(404)
    return found


class FormProblem(ValueError):
    """A form field that cannot be used; the message is for the person who sent it."""


def spec_of(topic: Topic) -> TopicSpec:
    return TopicSpec(
        name=topic.name,
        description=topic.description,
        sla_hours=topic.sla_hours,
        sort_order=topic.sort_order,
        enabled=topic.enabled,
        rules=tuple(RuleSpec(r.keyword, r.weight, r.kind, r.enabled) for r in topic.rules),
    )


def topic_with_rules(db: Session, topic_id: int) -> Topic | None:
    return db.scalars(
        select(Topic).where(Topic.id == topic_id).options(selectinload(Topic.rules))
    ).one_or_none()


@contextmanager
def editing() -> Iterator[Session]:
    """A write transaction; once it is committed this process reloads its rules at once
    (the others within `[classifier] reload_seconds`, as the version moved)."""
    with writing() as db:
        yield db
    ys().rulebook.refresh()


def save(db: Session, spec: TopicSpec) -> list[Change]:
    """The same audited, versioned path as `yishiting rules import`, as the signed-in admin."""
    return sync_topics(db, [spec], actor=current_user.username, now=now())


def read_rule(form: Mapping[str, Any], keyword: str | None = None) -> RuleSpec:
    """A rule from form fields (`keyword` given when the rule exists), or FormProblem."""
    word = (keyword if keyword is not None else str(form.get("keyword", ""))).strip()
    if not word:
        raise FormProblem(TEXTS["keyword_missing"])
    if len(word) > MAX_KEYWORD:
        raise FormProblem(TEXTS["keyword_long"])
    kind = str(form.get("kind", "include"))
    if kind not in KINDS:
        raise FormProblem(TEXTS["kind_bad"])
    # A checkbox sends nothing when it is off: a form that means "on" says so.
    enabled = str(form.get("enabled", "")).lower() in ("1", "true", "on", "yes")
    return RuleSpec(word, read_weight(form.get("weight", "1")), kind, enabled)


def read_weight(raw: Any) -> float:
    try:
        weight = float(str(raw).strip())
    except ValueError:
        raise FormProblem(TEXTS["weight_bad"]) from None
    if not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT:
        raise FormProblem(TEXTS["weight_bad"])
    return weight


def read_int(raw: Any, low: int, high: int, problem: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.lstrip("-").isdigit() or not text.isascii():
        raise FormProblem(TEXTS[problem])
    value = int(text)
    if not low <= value <= high:
        raise FormProblem(TEXTS[problem])
    return value


def labeled_sample(
    db: Session, limit: int = SAMPLE_SIZE, *, community_id: int | None = None
) -> list[Labeled]:
    """The newest confirmed tickets (a person set or kept their topic), as labeled texts:
    the street's, or (`community_id`) one community's."""
    query = select(Ticket.text, Topic.name).join(Topic, Topic.id == Ticket.topic_id)
    if community_id is not None:
        query = query.where(Ticket.community_id == community_id)
    rows = db.execute(
        query.where(Ticket.topic_confirmed).order_by(Ticket.id.desc()).limit(limit)
    ).all()
    return [Labeled(text, label) for text, label in rows]


def describe(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """The values that changed, as people read them: 权重 2 → 3。"""
    old = before or {}
    new = after or {}
    keys = [k for k in (new or old) if action != "update" or old.get(k) != new.get(k)]
    parts = []
    for key in keys:
        label = FIELD_LABELS.get(key, key)
        if action == "update":
            parts.append(f"{label} {_value(key, old.get(key))} → {_value(key, new.get(key))}")
        else:
            parts.append(f"{label} {_value(key, (new or old).get(key))}")
    return "；".join(parts)


def _value(key: str, value: Any) -> str:
    if key == "kind":
        return KIND_LABELS.get(str(value), str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    return "（空）" if value in (None, "") else str(value)


def explanation(exp: Explanation) -> dict[str, Any]:
    """The classifier's reasoning as JSON: tokens, matched rules per topic, scores, and when
    the rules were unsure and a model was asked, its ranking and the n-grams that weighed
    most; the verdict says who decided (`by`: "rules", "model", None) in the chat's words."""
    per_topic: dict[str, list[dict[str, Any]]] = {}
    for m in exp.matches:
        per_topic.setdefault(m.rule.topic, []).append(
            {"keyword": m.rule.keyword, "weight": m.rule.weight, "kind": m.rule.kind}
        )
    ranked = ranked_scores(exp)
    result = exp.result
    model = None
    if exp.model_ranked:
        model = {
            "ranked": [
                {"topic": t, "p": round(p, 4), "shown": percent(p)} for t, p in exp.model_ranked[:5]
            ],
            "for": exp.model_ranked[0][0],
            "terms": [{"term": term, "weight": w} for term, w in exp.model_terms],
            "threshold": exp.model_threshold,
            "margin": exp.model_margin,
            # False: digits or symbols alone, which the model never decides, however sure.
            "words": has_words(exp.folded),
        }
    return {
        "tokens": exp.tokens,
        "matches": [{"topic": t, "rules": rules} for t, rules in per_topic.items()],
        "scores": [{"topic": t, "score": s} for t, s in ranked],
        "vetoed": exp.vetoed,
        "topic": result.topic,
        "score": result.score,
        "unsure": result.unsure,
        "by": result.by,
        "candidates": [name for name, _ in result.candidates],
        "verdict": verdict_of(exp),
        "rules_unsure": rules_unsure(exp),
        "threshold": exp.threshold,
        "margin": exp.margin,
        "model": model,
    }

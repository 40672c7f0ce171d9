"""分类规则: topics and their keyword rules, the try-a-message box, the audit log.

Everyone with a console account reads these pages and uses the try box; admins change rules
(rules_edit.py) and import them (rules_io.py). All of it runs on the classifier the chat
uses (`RuleBook`), and every change goes through `models.sync_topics`, audited.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from bot.classify import Explanation
from models import ConsoleRole, KeywordRule, RuleAudit, Topic

from . import rules_edit, rules_io
from .access import requires
from .common import page_number, reading, ys
from .rules_common import ACTION_LABELS, KIND_LABELS, bp, describe, topic_with_rules

__all__ = ["bp", "rules_edit", "rules_io"]  # the edit and import views live on the same bp

AUDIT_PAGE = 50
MAX_TRY_TEXT = 2000


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    """Every topic with its settings and rule count, the try box, the newest changes."""
    with reading() as db:
        counts = (
            select(KeywordRule.topic_id, func.count().label("rules"))
            .group_by(KeywordRule.topic_id)
            .subquery()
        )
        topics = db.execute(
            select(Topic, func.coalesce(counts.c.rules, 0))
            .outerjoin(counts, counts.c.topic_id == Topic.id)
            .order_by(Topic.sort_order, Topic.id)
        ).all()
        recent = audit_rows(db, 0, 8)
        return render_template(
            "console/rules.html",
            title="分类规则",
            topics=topics,
            recent=recent,
            can_edit=current_user.may(ConsoleRole.ADMIN),
            kind_labels=KIND_LABELS,
        )


@bp.route("/topic/<int:topic_id>")
@requires(ConsoleRole.VIEWER)
def topic(topic_id: int) -> str:
    """One topic: its settings and every rule, editable by admins, with the backtest panel."""
    with reading() as db:
        found = topic_with_rules(db, topic_id)
        if found is None:
            abort(404)
        return render_template(
            "console/rules_topic.html",
            title=f"分类规则 · {found.name}",
            topic=found,
            can_edit=current_user.may(ConsoleRole.ADMIN),
            kind_labels=KIND_LABELS,
        )


@bp.route("/try")
@requires(ConsoleRole.VIEWER)
def try_message() -> Response:
    """What the chat's classifier, with the saved rules, makes of `text` (JSON)."""
    text = request.args.get("text", "")[:MAX_TRY_TEXT]
    if not text.strip():
        return jsonify({"empty": True})
    return jsonify(explanation(ys().rulebook.current().explain(text)))


def explanation(exp: Explanation) -> dict[str, Any]:
    """The classifier's reasoning as JSON: tokens, matched rules per topic, scores, verdict."""
    per_topic: dict[str, list[dict[str, Any]]] = {}
    for m in exp.matches:
        per_topic.setdefault(m.rule.topic, []).append(
            {"keyword": m.rule.keyword, "weight": m.rule.weight, "kind": m.rule.kind}
        )
    ranked = sorted(exp.scores.items(), key=lambda kv: -kv[1])
    result = exp.result
    return {
        "tokens": exp.tokens,
        "matches": [{"topic": t, "rules": rules} for t, rules in per_topic.items()],
        "scores": [{"topic": t, "score": s} for t, s in ranked],
        "vetoed": exp.vetoed,
        "topic": result.topic,
        "score": result.score,
        "unsure": result.unsure,
        "verdict": verdict(exp),
        "threshold": exp.threshold,
        "margin": exp.margin,
    }


def verdict(exp: Explanation) -> str:
    result = exp.result
    if result.topic is None:
        return "没有命中任何规则 → 待分类（请居民选择，或由工作人员分类）"
    if result.unsure:
        return (
            f"不确定（最接近“{result.topic}”，得分 {result.score:g}；需达到 {exp.threshold:g}"
            f" 且领先第二名 {exp.margin:g}）→ 待分类，请居民选择"
        )
    return f"归入“{result.topic}”（得分 {result.score:g}）"


@bp.route("/audit")
@requires(ConsoleRole.VIEWER)
def audit() -> str:
    """Every change to topics and rules, newest first, 50 a page."""
    number = page_number(request.args.get("page"))
    with reading() as db:
        rows = audit_rows(db, (number - 1) * AUDIT_PAGE, AUDIT_PAGE + 1)
    return render_template(
        "console/rules_audit.html",
        title="规则变更记录",
        rows=rows[:AUDIT_PAGE],
        page=number,
        has_next=len(rows) > AUDIT_PAGE,
    )


def audit_rows(db: Any, offset: int, limit: int) -> list[dict[str, Any]]:
    audits = db.scalars(
        select(RuleAudit).order_by(RuleAudit.id.desc()).offset(offset).limit(limit)
    ).all()
    return [
        {
            "at": a.at,
            "actor": a.actor,
            "action": ACTION_LABELS.get(a.action, a.action),
            "topic": a.topic,
            "keyword": a.keyword,
            "change": describe(
                a.action,
                json.loads(a.before) if a.before else None,
                json.loads(a.after) if a.after else None,
            ),
        }
        for a in audits
    ]

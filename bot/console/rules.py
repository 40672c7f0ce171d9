"""分类规则: topics and their keyword rules, the try-a-message box, the audit log.

Everyone with a console account reads these pages and uses the try box; admins change rules
(rules_edit.py) and import them (rules_io.py). All of it runs on the classifier the chat
uses (`RuleBook`), and every change goes through `models.sync_topics`, audited.
"""

from __future__ import annotations

import json
from typing import Any

from flask import abort, jsonify, render_template, request
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from models import ConsoleRole, KeywordRule, RuleAudit, Topic
from models.communities import community_names

from . import rules_community, rules_edit, rules_io
from .access import current_scope, requires
from .common import page_number, reading, ys
from .rules_common import (
    ACTION_LABELS,
    KIND_LABELS,
    bp,
    describe,
    explanation,
    may_edit_street,
    topic_with_rules,
)

# The edit, import and 本社区 views live on the same bp.
__all__ = ["bp", "rules_community", "rules_edit", "rules_io"]

AUDIT_PAGE = 50
MAX_TRY_TEXT = 2000


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    """Every topic with its settings and rule count, the try box, the newest changes."""
    with reading() as db:
        counts = (
            select(KeywordRule.topic_id, func.count().label("rules"))
            .where(KeywordRule.community_id.is_(None))  # the street's (继承)
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
            can_edit=may_edit_street(),
            kind_labels=KIND_LABELS,
            communities=communities_seen(db),
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
            can_edit=may_edit_street(),
            communities=communities_seen(db),
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


def communities_seen(db: Any) -> dict[int, str]:
    """The communities whose 本社区 page the account may open (a community's: its own)."""
    names = community_names(db)
    scope = current_scope()
    if scope.street and len(names) < 2:
        return {}  # one community: the street's rules are its rules, as they always were
    return {cid: name for cid, name in names.items() if scope.owns(cid)}


def audit_rows(db: Any, offset: int, limit: int) -> list[dict[str, Any]]:
    """Changes to the street's set and (a community's account: only its own) communities'."""
    query = select(RuleAudit)
    scope = current_scope()
    if not scope.street:
        query = query.where(
            or_(RuleAudit.community_id.is_(None), RuleAudit.community_id == scope.community_id)
        )
    audits = db.scalars(query.order_by(RuleAudit.id.desc()).offset(offset).limit(limit)).all()
    names = community_names(db) if audits else {}
    return [
        {
            "at": a.at,
            "community": names.get(a.community_id, "街道") if a.community_id else "街道",
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

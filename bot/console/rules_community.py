"""分类规则 · 本社区: one community's rules on top of the street's set.

Every topic and rule of the street shows as 「继承」 (inherited: read-only here); the
community's own keywords, deadlines and topics switched off show as 「本社区」 and are its
admins' to change (models/community_topics.py, audited). A community's account opens only
its own community (another's is 404); a street admin opens any (the picker on the index).
"""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from models import ConsoleRole, KeywordRule, Topic
from models.community_topics import (
    OverrideError,
    own_rules,
    put_rule,
    remove_rule,
    set_override,
    topics_in,
)

from .access import requires
from .common import now, ok, problem, reading, ys
from .rules_common import (
    KIND_LABELS,
    TEXTS,
    FormProblem,
    bp,
    community_or_404,
    editing,
    explanation,
    read_int,
    read_rule,
)

MAX_TRY_TEXT = 2000
COMMUNITY_TEXTS = {
    "rule_added": "已为本社区添加关键词“{keyword}”（{topic}）。",
    "rule_unchanged": "“{keyword}”没有变化。",
    "rule_deleted": "已删除本社区的关键词“{keyword}”。",
    "settings_saved": "已保存“{topic}”在本社区的设置。",
    "settings_unchanged": "“{topic}”在本社区的设置没有变化。",
}


def _back(community_id: int) -> Response:
    return redirect(url_for("console_rules.community", community_id=community_id), code=303)


@bp.route("/community/<int:community_id>")
@requires(ConsoleRole.VIEWER)
def community(community_id: int) -> str:
    """The street's topics and rules (继承) with the community's own (本社区)."""
    with reading() as db:
        found = community_or_404(db, community_id)
        topics = topics_in(db, community_id)
        for item in topics:
            item.topic.rules  # noqa: B018 (loaded while the session is open)
        return render_template(
            "console/rules_community.html",
            title=f"分类规则 · {found.name}",
            community=found,
            topics=topics,
            own_rules=own_rules(db, community_id),
            can_edit=current_user.may(ConsoleRole.ADMIN),
            kind_labels=KIND_LABELS,
            try_url=url_for("console_rules.community_try", community_id=community_id),
        )


@bp.route("/community/<int:community_id>/try")
@requires(ConsoleRole.VIEWER)
def community_try(community_id: int) -> Response:
    """What the community's classifier makes of `text` (JSON, as the street's try box)."""
    with reading() as db:
        community_or_404(db, community_id)
    text = request.args.get("text", "")[:MAX_TRY_TEXT]
    if not text.strip():
        return jsonify({"empty": True})
    return jsonify(explanation(ys().rulebook.for_community(community_id).explain(text)))


@bp.route("/community/<int:community_id>/rules", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def community_add_rule(community_id: int) -> Response:
    """Add (or change) one of the community's own keywords."""
    with editing() as db:
        community_or_404(db, community_id)
        topic = db.get(Topic, _id(request.form.get("topic_id")))
        if topic is None:
            problem(TEXTS["no_topic"])
            return _back(community_id)
        try:
            spec = read_rule({**request.form, "enabled": "1"})
        except FormProblem as why:
            problem(str(why))
            return _back(community_id)
        actor = current_user.username
        change = put_rule(db, community_id, topic, spec, actor=actor, now=now())
    key = "rule_added" if change else "rule_unchanged"
    ok(COMMUNITY_TEXTS[key].format(keyword=spec.keyword, topic=topic.name))
    return _back(community_id)


@bp.route("/community/<int:community_id>/rules/<int:rule_id>/delete", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def community_delete_rule(community_id: int, rule_id: int) -> Response:
    """Delete one of the community's own keywords (the street's are not here to delete)."""
    with editing() as db:
        community_or_404(db, community_id)
        rule = db.get(KeywordRule, rule_id)
        if rule is None or rule.community_id != community_id:
            problem(TEXTS["no_rule"])
            return _back(community_id)
        keyword, topic = rule.keyword, rule.topic
        remove_rule(db, community_id, topic, keyword, actor=current_user.username, now=now())
    ok(COMMUNITY_TEXTS["rule_deleted"].format(keyword=keyword))
    return _back(community_id)


@bp.route("/community/<int:community_id>/topic/<int:topic_id>", methods=["POST"])
@requires(ConsoleRole.ADMIN)
def community_topic(community_id: int, topic_id: int) -> Response:
    """The community's deadline for a topic (empty: the street's) and whether it is off."""
    form = request.form
    raw = str(form.get("sla_hours", "")).strip()
    try:
        sla = read_int(raw, 1, 8760, "sla_bad") if raw else None
    except FormProblem as why:
        problem(str(why))
        return _back(community_id)
    enabled = False if form.get("switched_off") in ("1", "on", "true") else None
    with editing() as db:
        community_or_404(db, community_id)
        topic = db.get(Topic, topic_id)
        if topic is None:
            problem(TEXTS["no_topic"])
            return _back(community_id)
        try:
            change = set_override(
                db,
                community_id,
                topic,
                enabled=enabled,
                sla_hours=sla,
                actor=current_user.username,
                now=now(),
            )
        except OverrideError as why:
            problem(str(why))
            return _back(community_id)
        name = topic.name
    ok(COMMUNITY_TEXTS["settings_saved" if change else "settings_unchanged"].format(topic=name))
    return _back(community_id)


def _id(raw: str | None) -> int:
    """A form's id field as an int (0, which matches nothing, when it is not one)."""
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0

"""分类规则, the admin's side: add a topic, change its settings, add / change / delete a rule,
and backtest a change before saving it. Every save is `models.sync_topics` (audited)."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.classify.edits import find_rule, replace_topic, with_rule, with_settings, without_rule
from bot.classify.evaluate import Report, backtest
from models import ConsoleRole, KeywordRule, Topic, TopicSpec, load_specs, topic_by_name

from .access import requires
from .common import ok, problem, reading, small_int, ys
from .rules_common import (
    MAX_TOPIC_NAME,
    TEXTS,
    FormProblem,
    bp,
    editing,
    labeled_sample,
    read_int,
    read_rule,
    save,
    spec_of,
    street_only,
    topic_with_rules,
)


def _back(topic_id: int) -> Response:
    return redirect(url_for("console_rules.topic", topic_id=topic_id), code=303)


@bp.route("/topics", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def add_topic() -> Response:
    """A new topic, enabled, with no rules yet."""
    name = request.form.get("name", "").strip()
    try:
        if not name:
            raise FormProblem(TEXTS["name_missing"])
        if len(name) > MAX_TOPIC_NAME:
            raise FormProblem(TEXTS["name_long"])
        sla = read_int(request.form.get("sla_hours", "72"), 1, 8760, "sla_bad")
    except FormProblem as why:
        problem(str(why))
        return redirect(url_for("console_rules.index"), code=303)
    with editing() as db:
        if topic_by_name(db, name) is not None:
            problem(TEXTS["name_exists"].format(name=name))
            return redirect(url_for("console_rules.index"), code=303)
        description = request.form.get("description", "").strip()
        order = max((s.sort_order for s in load_specs(db)), default=0) + 1
        save(db, TopicSpec(name, description, sla, order))
        created = topic_by_name(db, name)
        assert created is not None
        topic_id = created.id
    ok(TEXTS["topic_added"].format(name=name))
    return _back(topic_id)


@bp.route("/topic/<int:topic_id>/settings", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def topic_settings(topic_id: int) -> Response:
    form = request.form
    try:
        settings = {
            "description": form.get("description", "").strip(),
            "sla_hours": read_int(form.get("sla_hours"), 1, 8760, "sla_bad"),
            "sort_order": read_int(form.get("sort_order"), -9999, 9999, "order_bad"),
            "enabled": form.get("enabled") in ("1", "on", "true"),
        }
    except FormProblem as why:
        problem(str(why))
        return _back(topic_id)
    with editing() as db:
        topic = topic_with_rules(db, topic_id)
        if topic is None:
            abort(404)
        changes = save(db, with_settings(spec_of(topic), **settings))
        name = topic.name
    ok(TEXTS["topic_saved" if changes else "topic_unchanged"].format(name=name))
    return _back(topic_id)


@bp.route("/topic/<int:topic_id>/rules", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def add_rule(topic_id: int) -> Response:
    try:
        rule = read_rule(request.form)
    except FormProblem as why:
        problem(str(why))
        return _back(topic_id)
    with editing() as db:
        topic = topic_with_rules(db, topic_id)
        if topic is None:
            abort(404)
        spec = spec_of(topic)
        if (same := find_rule(spec, rule.keyword)) is not None:
            problem(TEXTS["keyword_exists"].format(topic=topic.name, keyword=same.keyword))
            return _back(topic_id)
        save(db, with_rule(spec, rule))
        name = topic.name
    ok(TEXTS["rule_added"].format(keyword=rule.keyword, topic=name))
    return _back(topic_id)


def _topic_and_keyword(db: Session, topic_id: int, rule_id: int) -> tuple[Topic, str]:
    """The topic (with its rules) and the keyword of one of its rules; 404 if either is not
    there, or the rule belongs to another topic or is a community's own (rules_community.py)."""
    topic = topic_with_rules(db, topic_id)
    existing = db.get(KeywordRule, rule_id)
    if topic is None or existing is None or existing.topic_id != topic_id:
        abort(404)
    if existing.community_id is not None:
        abort(404)
    return topic, existing.keyword


@bp.route("/topic/<int:topic_id>/rules/<int:rule_id>", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def edit_rule(topic_id: int, rule_id: int) -> Response:
    """A rule's new weight, kind or switch (its keyword stays: renaming is delete + add)."""
    with editing() as db:
        topic, keyword = _topic_and_keyword(db, topic_id, rule_id)
        try:
            rule = read_rule(request.form, keyword=keyword)
        except FormProblem as why:
            problem(str(why))
            return _back(topic_id)
        changes = save(db, with_rule(spec_of(topic), rule))
    ok(TEXTS["rule_saved" if changes else "rule_unchanged"].format(keyword=keyword))
    return _back(topic_id)


@bp.route("/topic/<int:topic_id>/rules/<int:rule_id>/delete", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def delete_rule(topic_id: int, rule_id: int) -> Response:
    with editing() as db:
        topic, keyword = _topic_and_keyword(db, topic_id, rule_id)
        save(db, without_rule(spec_of(topic), keyword))
    ok(TEXTS["rule_deleted"].format(keyword=keyword))
    return _back(topic_id)


@bp.route("/backtest", methods=["POST"])
@requires(ConsoleRole.ADMIN)
@street_only
def backtest_change() -> tuple[Response, int] | Response:
    """Precision and recall on the confirmed tickets with the saved rules and with one
    pending change (`{"topic_id", "keyword", "weight", "kind", "enabled", "delete"}`),
    computed without saving anything."""
    data = request.get_json(silent=True)
    topic_id = small_int(data.get("topic_id")) if isinstance(data, dict) else None
    if not isinstance(data, dict) or topic_id is None:
        return jsonify({"error": "请求格式不对。"}), 400
    with reading() as db:
        topic = db.get(Topic, topic_id)
        if topic is None:
            return jsonify({"error": TEXTS["no_topic"]}), 404
        specs = load_specs(db)
        items = labeled_sample(db)
    spec = next(s for s in specs if s.name == topic.name)
    try:
        changed = _pending(spec, data)
    except FormProblem as why:
        return jsonify({"error": str(why)}), 400
    if not items:
        return jsonify({"error": "还没有已确认分类的诉求，无法回测。", "sample": 0}), 200
    book = ys().rulebook
    book.current()  # the newest model loaded, so both sides are judged as the chat would
    before = backtest(book.build(specs), items)
    after = backtest(book.build(replace_topic(specs, changed)), items)
    return jsonify({"sample": len(items), "before": summary(before), "after": summary(after)})


def _pending(spec: TopicSpec, data: dict[str, Any]) -> TopicSpec:
    if data.get("delete"):
        return without_rule(spec, str(data.get("keyword", "")))
    fields: dict[str, Any] = {k: data[k] for k in ("keyword", "weight", "kind") if k in data}
    fields["enabled"] = "1" if data.get("enabled", True) else "0"
    return with_rule(spec, read_rule(fields))


def summary(report: Report) -> dict[str, Any]:
    """The report, with macro precision and recall over the labels for the overall line."""
    data = report.as_dict()
    topics = report.topics
    data["precision"] = round(sum(t.precision for t in topics) / len(topics), 4) if topics else 0
    data["recall"] = round(sum(t.recall for t in topics) / len(topics), 4) if topics else 0
    return data

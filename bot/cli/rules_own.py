"""`rules list|add|remove|set`: one rule or setting at a time, street-wide or (--community)
a community's own, on top of the street's set it inherits (models/community_topics.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import KINDS, RuleSpec, Topic, TopicSpec, sync_topics, topic_by_name
from models.community_topics import (
    OverrideError,
    put_rule,
    remove_rule,
    set_override,
    topics_in,
)
from models.topics import Change

from ..classify.edits import find_rule, with_rule, without_rule
from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

INHERITED = "继承"  # the street's, as a community sees it
OWN = "本社区"  # the community's own


def _topic(session: Session, name: str) -> Topic:
    found = topic_by_name(session, name)
    if found is None:
        raise click.ClickException(f"no topic named {name!r}")
    return found


def _spec_of(topic: Topic) -> TopicSpec:
    rules = tuple(RuleSpec(r.keyword, r.weight, r.kind, r.enabled) for r in topic.rules)
    return TopicSpec(
        topic.name, topic.description, topic.sla_hours, topic.sort_order, topic.enabled, rules
    )


def _say(changes: list[Change]) -> None:
    for change in changes:
        click.echo(change.describe())
    click.echo(f"{len(changes)} change(s) changed" if changes else "no changes", err=True)


@click.command("list")
@config_option
@community_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, per topic.")
def list_rules(config_path: str | None, community: str | None, as_json: bool) -> None:
    """Every topic with its rules: street-wide, or as COMMUNITY runs them (继承 / 本社区)."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        scope = scope_of(session, community)
        if scope.community_id is None:
            rows = [_street_row(t) for t in session.scalars(_ordered_topics())]
        else:
            rows = [_community_row(t) for t in topics_in(session, scope.community_id)]
    db.dispose()
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False) if as_json else _line(row))


def _ordered_topics() -> Any:
    return select(Topic).order_by(Topic.sort_order, Topic.id)


def _rule_row(rule: Any, source: str) -> dict[str, Any]:
    return {
        "keyword": rule.keyword,
        "weight": rule.weight,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "source": source,
    }


def _street_row(topic: Topic) -> dict[str, Any]:
    return {
        "topic": topic.name,
        "enabled": topic.enabled,
        "sla_hours": topic.sla_hours,
        "rules": [_rule_row(r, "street") for r in topic.rules],
    }


def _community_row(found: Any) -> dict[str, Any]:
    own = {r.keyword for r in found.own}
    street = [_rule_row(r, "street") for r in found.topic.rules if r.keyword not in own]
    return {
        "topic": found.topic.name,
        "enabled": found.effective_enabled,
        "sla_hours": found.effective_sla,
        "override": {"enabled": found.enabled, "sla_hours": found.sla_hours},
        "rules": street + [_rule_row(r, "community") for r in found.own],
    }


def _line(row: dict[str, Any]) -> str:
    override = row.get("override") or {}
    off = (
        "" if row["enabled"] else " off" + (f" ({OWN})" if override.get("enabled") is False else "")
    )
    sla = f"sla {row['sla_hours']}h" + (f" ({OWN})" if override.get("sla_hours") else "")
    lines = [f"{row['topic']}  {sla}{off}"]
    for rule in row["rules"]:
        sign = "veto" if rule["kind"] == "exclude" else f"+{rule['weight']:g}"
        mark = (
            ""
            if "override" not in row
            else f" ({OWN if rule['source'] == 'community' else INHERITED})"
        )
        disabled = "" if rule["enabled"] else " disabled"
        lines.append(f"  {rule['keyword']} {sign}{disabled}{mark}")
    return "\n".join(lines)


@click.command("add")
@config_option
@community_option
@click.argument("topic")
@click.argument("keyword")
@click.option("--weight", type=click.FloatRange(0, 100, min_open=True), default=1.0)
@click.option("--kind", type=click.Choice(KINDS), default="include", show_default=True)
@click.option("--disabled", is_flag=True, help="Keep the rule, switched off.")
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
def add_rule(
    config_path: str | None,
    community: str | None,
    topic: str,
    keyword: str,
    weight: float,
    kind: str,
    disabled: bool,
    actor: str,
) -> None:
    """Add KEYWORD to TOPIC (or change it): street-wide, or COMMUNITY's own rule."""
    word = keyword.strip()
    if not word or len(word) > 64:
        raise click.UsageError("KEYWORD: 1 to 64 characters")
    spec = RuleSpec(word, weight, kind, not disabled)
    db = Database(settings_from(config_path))
    now = datetime.now(UTC)
    with db.session() as session:
        scope, found = scope_of(session, community), _topic(session, topic)
        if scope.community_id is None:
            changes = sync_topics(session, [with_rule(_spec_of(found), spec)], actor=actor, now=now)
        else:
            change = put_rule(session, scope.community_id, found, spec, actor=actor, now=now)
            changes = [change] if change else []
    db.dispose()
    _say(changes)


@click.command("remove")
@config_option
@community_option
@click.argument("topic")
@click.argument("keyword")
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
def remove_rule_command(
    config_path: str | None, community: str | None, topic: str, keyword: str, actor: str
) -> None:
    """Remove KEYWORD from TOPIC: street-wide, or COMMUNITY's own rule."""
    db = Database(settings_from(config_path))
    now = datetime.now(UTC)
    with db.session() as session:
        scope, found = scope_of(session, community), _topic(session, topic)
        if scope.community_id is None:
            spec = _spec_of(found)
            if find_rule(spec, keyword) is None:
                raise click.ClickException(f"{topic} has no keyword {keyword!r}")
            changes = sync_topics(session, [without_rule(spec, keyword)], actor=actor, now=now)
        else:
            change = remove_rule(session, scope.community_id, found, keyword, actor=actor, now=now)
            if change is None:
                raise click.ClickException(f"{community} has no own keyword {keyword!r} in {topic}")
            changes = [change]
    db.dispose()
    _say(changes)


@click.command("set")
@config_option
@click.option("--community", "community", metavar="NAME", required=True, help="The community.")
@click.argument("topic")
@click.option("--sla", metavar="HOURS|inherit", help="The topic's deadline in the community.")
@click.option("--off/--on", "off", default=None, help="Switch the topic off (on: as the street).")
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
def set_topic(
    config_path: str | None,
    community: str,
    topic: str,
    sla: str | None,
    off: bool | None,
    actor: str,
) -> None:
    """COMMUNITY's settings for TOPIC: its deadline (inherit: the street's), off or on."""
    db = Database(settings_from(config_path))
    with db.session() as session:
        scope, found = scope_of(session, community), _topic(session, topic)
        assert scope.community_id is not None
        current = {t.topic.id: t for t in topics_in(session, scope.community_id)}[found.id]
        enabled = current.enabled if off is None else (False if off else None)
        hours = current.sla_hours if sla is None else _hours(sla)
        try:
            change = set_override(
                session,
                scope.community_id,
                found,
                enabled=enabled,
                sla_hours=hours,
                actor=actor,
                now=datetime.now(UTC),
            )
        except OverrideError as exc:
            raise click.ClickException(str(exc)) from None
    db.dispose()
    _say([change] if change else [])


def _hours(raw: str) -> int | None:
    if raw.strip().lower() == "inherit":
        return None
    if not raw.strip().isascii() or not raw.strip().isdigit():
        raise click.UsageError(f"--sla: a whole number of hours or 'inherit', not {raw!r}")
    return int(raw)


COMMANDS = (list_rules, add_rule, remove_rule_command, set_topic)

"""A community's own keyword rules and its settings for the street's topics.

The street (the deployment) keeps one set of topics and keyword rules (topics.py). A
community inherits all of it and may: add its own keywords to a topic (a keyword it shares
with a street rule of the topic replaces that rule in the community: another weight, a veto,
or switched off), give a topic another deadline (SLA), or switch a topic off. A topic the
street switched off is off in every community. A community with none of these runs on the
street's rules exactly.

Every change is audited (RuleAudit.community_id names the community) and bumps the rules
version, so every process rebuilds that community's classifier within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, union
from sqlalchemy.orm import Session

from words import fold

from . import counters
from .rules import RuleSpec, TopicSpec
from .topics import Change, CommunityTopic, KeywordRule, Topic, audit_row, load_specs

SLA_MAX = 8760


class OverrideError(ValueError):
    """A change a community cannot make; the message says why (for admins)."""


class SwitchedOff(Exception):
    """The topic is switched off in the ticket's community: no ticket there goes under it."""

    def __init__(self, topic: Topic, community_id: int | None) -> None:
        super().__init__(f"topic {topic.name} is switched off in community {community_id}")
        self.topic = topic
        self.community_id = community_id


@dataclass(frozen=True)
class TopicInCommunity:
    """A street topic as one community has it: its override and its own rules."""

    topic: Topic
    enabled: bool | None  # None: as the street has it
    sla_hours: int | None  # None: the street's
    own: tuple[RuleSpec, ...]

    @property
    def effective_enabled(self) -> bool:
        return self.topic.enabled and self.enabled is not False

    @property
    def effective_sla(self) -> int:
        return self.sla_hours if self.sla_hours is not None else self.topic.sla_hours


def customised_communities(db: Session) -> set[int]:
    """The communities with any rule or setting of their own (the others run on the street's)."""
    query: Any = union(
        select(CommunityTopic.community_id),
        select(KeywordRule.community_id).where(KeywordRule.community_id.is_not(None)),
    )
    return {int(cid) for (cid,) in db.execute(query)}


def own_rules(db: Session, community_id: int) -> dict[int, list[KeywordRule]]:
    """The community's own rules by topic id."""
    rows = db.scalars(
        select(KeywordRule).where(KeywordRule.community_id == community_id).order_by(KeywordRule.id)
    )
    found: dict[int, list[KeywordRule]] = {}
    for rule in rows:
        found.setdefault(rule.topic_id, []).append(rule)
    return found


def _overrides(db: Session, community_id: int) -> dict[int, CommunityTopic]:
    rows = db.scalars(select(CommunityTopic).where(CommunityTopic.community_id == community_id))
    return {row.topic_id: row for row in rows}


def topics_in(db: Session, community_id: int) -> list[TopicInCommunity]:
    """Every street topic, in order, with the community's override and own rules."""
    topics = db.scalars(select(Topic).order_by(Topic.sort_order, Topic.id)).all()
    own, overrides = own_rules(db, community_id), _overrides(db, community_id)
    result = []
    for topic in topics:
        found = overrides.get(topic.id)
        rules = tuple(_spec(r) for r in own.get(topic.id, ()))
        enabled, sla = (found.enabled, found.sla_hours) if found else (None, None)
        result.append(TopicInCommunity(topic, enabled, sla, rules))
    return result


def _spec(rule: KeywordRule) -> RuleSpec:
    return RuleSpec(rule.keyword, rule.weight, rule.kind, rule.enabled)


def community_specs(db: Session, community_id: int) -> list[TopicSpec]:
    """What the classifier runs on in `community_id`: the street's topics and rules, with the
    community's own rules (replacing a street rule of the same keyword), deadlines and
    topics switched off."""
    street = load_specs(db)
    by_name = {t.topic.name: t for t in topics_in(db, community_id)}
    specs = []
    for spec in street:
        mine = by_name.get(spec.name)
        if mine is None:
            specs.append(spec)
            continue
        own = {fold(r.keyword).strip() for r in mine.own}
        rules = tuple(r for r in spec.rules if fold(r.keyword).strip() not in own) + mine.own
        specs.append(
            replace(
                spec,
                enabled=mine.effective_enabled,
                sla_hours=mine.effective_sla,
                rules=rules,
            )
        )
    return specs


def _audit(
    db: Session,
    community_id: int,
    change: Change,
    *,
    actor: str,
    now: datetime,
) -> None:
    db.add(audit_row(change, actor=actor, now=now, community_id=community_id))
    db.flush()
    counters.bump(db, counters.RULES_VERSION)


def _values(rule: KeywordRule | RuleSpec) -> dict[str, Any]:
    return {"weight": rule.weight, "kind": rule.kind, "enabled": rule.enabled}


def put_rule(
    db: Session, community_id: int, topic: Topic, spec: RuleSpec, *, actor: str, now: datetime
) -> Change | None:
    """Add the community's own rule to `topic`, or change the one with the same keyword.
    None when nothing changed."""
    found = db.scalars(
        select(KeywordRule).where(
            KeywordRule.community_id == community_id,
            KeywordRule.topic_id == topic.id,
            KeywordRule.keyword == spec.keyword,
        )
    ).one_or_none()
    before = _values(found) if found is not None else None
    after = _values(spec)
    if before == after:
        return None
    if found is None:
        found = KeywordRule(topic_id=topic.id, keyword=spec.keyword, community_id=community_id)
        db.add(found)
    found.weight, found.kind, found.enabled = spec.weight, spec.kind, spec.enabled
    found.updated_by, found.updated_at = actor, now
    change = Change("update" if before else "create", topic.name, spec.keyword, before, after)
    _audit(db, community_id, change, actor=actor, now=now)
    return change


def remove_rule(
    db: Session, community_id: int, topic: Topic, keyword: str, *, actor: str, now: datetime
) -> Change | None:
    """Delete the community's own rule; None when it has no such rule."""
    found = db.scalars(
        select(KeywordRule).where(
            KeywordRule.community_id == community_id,
            KeywordRule.topic_id == topic.id,
            KeywordRule.keyword == keyword,
        )
    ).one_or_none()
    if found is None:
        return None
    change = Change("delete", topic.name, keyword, _values(found), None)
    db.delete(found)
    _audit(db, community_id, change, actor=actor, now=now)
    return change


def set_override(
    db: Session,
    community_id: int,
    topic: Topic,
    *,
    enabled: bool | None,
    sla_hours: int | None,
    actor: str,
    now: datetime,
) -> Change | None:
    """The community's settings for `topic` (None: as the street has it); None when unchanged.

    `enabled` True means "as the street has it" too: a community cannot switch on a topic the
    street switched off, so only False is kept."""
    if sla_hours is not None and not 1 <= sla_hours <= SLA_MAX:
        raise OverrideError(f"处理时限须是 1 到 {SLA_MAX} 之间的整数（小时）。")
    enabled = False if enabled is False else None
    found = db.get(CommunityTopic, (community_id, topic.id))
    before = {"enabled": found.enabled, "sla_hours": found.sla_hours} if found else None
    after = {"enabled": enabled, "sla_hours": sla_hours}
    if (before or {"enabled": None, "sla_hours": None}) == after:
        return None
    if enabled is None and sla_hours is None:
        assert found is not None
        db.delete(found)  # back to the street's: no row is kept for nothing
        change = Change("delete", topic.name, None, before, None)
    else:
        if found is None:
            found = CommunityTopic(community_id=community_id, topic_id=topic.id)
            db.add(found)
        found.enabled, found.sla_hours = enabled, sla_hours
        found.updated_by, found.updated_at = actor, now
        change = Change("update" if before else "create", topic.name, None, before, after)
    _audit(db, community_id, change, actor=actor, now=now)
    return change


_SWITCHED_OFF = select(CommunityTopic.topic_id).where(
    CommunityTopic.community_id == bindparam("community_id"),
    CommunityTopic.topic_id == bindparam("topic_id"),
    CommunityTopic.enabled.is_(False),
)
_SLA = select(CommunityTopic.sla_hours).where(
    CommunityTopic.community_id == bindparam("community_id"),
    CommunityTopic.topic_id == bindparam("topic_id"),
)


def enabled_in(db: Session, topic: Topic, community_id: int | None) -> bool:
    """Whether `topic` may be used in `community_id` (None: street-wide)."""
    if not topic.enabled:
        return False
    if community_id is None:
        return True
    params = {"community_id": community_id, "topic_id": topic.id}
    return db.execute(_SWITCHED_OFF, params).first() is None


def sla_in(db: Session, topic: Topic, community_id: int | None) -> int:
    """The topic's deadline in hours in `community_id`: its override, else the street's."""
    if community_id is not None:
        params = {"community_id": community_id, "topic_id": topic.id}
        found = db.execute(_SLA, params).scalar_one_or_none()
        if found is not None:
            return int(found)
    return topic.sla_hours


__all__ = [
    "OverrideError",
    "SwitchedOff",
    "TopicInCommunity",
    "community_specs",
    "customised_communities",
    "enabled_in",
    "own_rules",
    "put_rule",
    "remove_rule",
    "set_override",
    "sla_in",
    "topics_in",
]

"""Topics and the keyword rules admins shape the classifier with; every change audited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    exists,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from . import counters
from .base import Base, UTCDateTime
from .rules import RuleSpec, TopicSpec


class Topic(Base):
    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sla_hours: Mapped[int] = mapped_column(Integer, default=72)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # The street-wide rules; a community's own rules (community_topics.py) are not here.
    rules: Mapped[list[KeywordRule]] = relationship(
        back_populates="topic",
        cascade="all, delete-orphan",
        order_by="KeywordRule.id",
        primaryjoin="and_(Topic.id == KeywordRule.topic_id, KeywordRule.community_id.is_(None))",
    )


# A keyword once per topic street-wide, and once per topic in each community. NULL never
# equals NULL in a unique constraint (on SQLite and PostgreSQL alike), so one partial index
# for each side instead of one constraint over a nullable column.
_STREET_ONLY = text("community_id IS NULL")
_COMMUNITY_ONLY = text("community_id IS NOT NULL")


class KeywordRule(Base):
    __tablename__ = "keyword_rule"
    __table_args__ = (
        Index(
            "uq_keyword_rule_street",
            "topic_id",
            "keyword",
            unique=True,
            sqlite_where=_STREET_ONLY,
            postgresql_where=_STREET_ONLY,
        ),
        Index(
            "uq_keyword_rule_community",
            "topic_id",
            "keyword",
            "community_id",
            unique=True,
            sqlite_where=_COMMUNITY_ONLY,
            postgresql_where=_COMMUNITY_ONLY,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    # None: street-wide; else the community whose own rule this is.
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id"), nullable=True, default=None
    )
    keyword: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    kind: Mapped[str] = mapped_column(String(8), default="include")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    topic: Mapped[Topic] = relationship(back_populates="rules")


class CommunityTopic(Base):
    """A community's settings for a street topic; NULL in a column: as the street has it."""

    __tablename__ = "community_topic"

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), primary_key=True)
    # False: switched off in this community (a topic the street switched off stays off).
    enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    sla_hours: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RuleAudit(Base):
    """One row per change to a topic or a rule: who, when, and the values before and after."""

    __tablename__ = "rule_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete
    topic: Mapped[str] = mapped_column(String(32))
    keyword: Mapped[str | None] = mapped_column(String(64), nullable=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    after: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    # The community whose own rules or settings changed; None: the street-wide set.
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("community.id"), nullable=True, default=None
    )


@dataclass(frozen=True)
class Change:
    action: str  # create, update, delete
    topic: str
    keyword: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def describe(self) -> str:
        what = f"{self.topic} / {self.keyword}" if self.keyword else self.topic
        sign = {"create": "+", "delete": "-", "update": "~"}[self.action]
        if self.action == "update" and self.before and self.after:
            fields = ", ".join(
                f"{k}: {self.before[k]!r} → {self.after[k]!r}"
                for k in self.after
                if self.before.get(k) != self.after[k]
            )
            return f"{sign} {what} ({fields})"
        return f"{sign} {what}"


def _topic_values(spec: TopicSpec) -> dict[str, Any]:
    return {
        "description": spec.description,
        "sla_hours": spec.sla_hours,
        "sort_order": spec.sort_order,
        "enabled": spec.enabled,
    }


def _rule_values(spec: RuleSpec) -> dict[str, Any]:
    return {"weight": spec.weight, "kind": spec.kind, "enabled": spec.enabled}


def load_specs(db: Session) -> list[TopicSpec]:
    """Every topic with its rules, as plain data (what the classifier and export use)."""
    topics = db.scalars(
        select(Topic).options(selectinload(Topic.rules)).order_by(Topic.sort_order, Topic.id)
    ).all()
    return [
        TopicSpec(
            name=t.name,
            description=t.description,
            sla_hours=t.sla_hours,
            sort_order=t.sort_order,
            enabled=t.enabled,
            rules=tuple(RuleSpec(r.keyword, r.weight, r.kind, r.enabled) for r in t.rules),
        )
        for t in topics
    ]


def plan_sync(db: Session, specs: list[TopicSpec]) -> list[Change]:
    """What `sync_topics` would change: each listed topic and its rules made as in `specs`.

    Topics not listed are left alone (tickets refer to them); a listed topic's rules that the
    specs do not list are deleted.
    """
    existing = {t.name: t for t in db.scalars(select(Topic)).all()}
    changes: list[Change] = []
    for spec in specs:
        topic = existing.get(spec.name)
        after = _topic_values(spec)
        if topic is None:
            changes.append(Change("create", spec.name, None, None, after))
            old_rules: dict[str, dict[str, Any]] = {}
        else:
            before = {k: getattr(topic, k) for k in after}
            if before != after:
                changes.append(Change("update", spec.name, None, before, after))
            old_rules = {
                r.keyword: {"weight": r.weight, "kind": r.kind, "enabled": r.enabled}
                for r in topic.rules
            }
        new_rules = {r.keyword: _rule_values(r) for r in spec.rules}
        for keyword, values in new_rules.items():
            if keyword not in old_rules:
                changes.append(Change("create", spec.name, keyword, None, values))
            elif old_rules[keyword] != values:
                changes.append(Change("update", spec.name, keyword, old_rules[keyword], values))
        for keyword, values in old_rules.items():
            if keyword not in new_rules:
                changes.append(Change("delete", spec.name, keyword, values, None))
    return changes


def sync_topics(db: Session, specs: list[TopicSpec], *, actor: str, now: datetime) -> list[Change]:
    """Make the listed topics and their rules as in `specs`; audit and version every change."""
    changes = plan_sync(db, specs)
    if not changes:
        return changes
    topics = {t.name: t for t in db.scalars(select(Topic)).all()}
    specs_by_name = {s.name: s for s in specs}
    for change in changes:  # topics first, so their rules have somewhere to go
        if change.keyword is None:
            spec = specs_by_name[change.topic]
            topic = topics.get(change.topic)
            if topic is None:
                topics[spec.name] = topic = Topic(name=spec.name, rules=[])
                db.add(topic)
            for key, value in _topic_values(spec).items():
                setattr(topic, key, value)
    rules = {(t.name, r.keyword): r for t in topics.values() for r in t.rules}
    for change in changes:
        if change.keyword is None:
            continue
        topic = topics[change.topic]
        rule = rules.get((change.topic, change.keyword))
        if change.action == "delete":
            if rule is not None:
                topic.rules.remove(rule)
            continue
        if rule is None:
            rule = KeywordRule(keyword=change.keyword)
            topic.rules.append(rule)
        for key, value in (change.after or {}).items():
            setattr(rule, key, value)
        rule.updated_by = actor
        rule.updated_at = now
    db.add_all(audit_row(change, actor=actor, now=now) for change in changes)
    db.flush()
    counters.bump(db, counters.RULES_VERSION)
    return changes


_TOPIC_BY_NAME = select(Topic).where(Topic.name == bindparam("topic_name"))


def audit_row(
    change: Change, *, actor: str, now: datetime, community_id: int | None = None
) -> RuleAudit:
    """The audit log's row for one change (of a community's own rules when `community_id`)."""
    return RuleAudit(
        at=now,
        actor=actor,
        action=change.action,
        topic=change.topic,
        keyword=change.keyword,
        before=json.dumps(change.before, ensure_ascii=False) if change.before else None,
        after=json.dumps(change.after, ensure_ascii=False) if change.after else None,
        community_id=community_id,
    )


def topic_by_name(db: Session, name: str) -> Topic | None:
    return db.scalars(_TOPIC_BY_NAME, {"topic_name": name}).one_or_none()


def switched_off_in(community_id: int | None) -> Any:
    """A WHERE clause: the topic is switched off in `community_id` (false when it is None)."""
    return exists().where(
        CommunityTopic.topic_id == Topic.id,
        CommunityTopic.community_id == community_id,
        CommunityTopic.enabled.is_(False),
    )


def enabled_topics(db: Session, community_id: int | None = None) -> list[Topic]:
    """The enabled topics, in order; with `community_id`, those it has not switched off."""
    query = select(Topic).where(Topic.enabled).order_by(Topic.sort_order, Topic.id)
    if community_id is not None:
        query = query.where(~switched_off_in(community_id))
    return list(db.scalars(query))


__all__ = [
    "Change",
    "CommunityTopic",
    "KeywordRule",
    "RuleAudit",
    "Topic",
    "enabled_topics",
    "load_specs",
    "plan_sync",
    "sync_topics",
    "topic_by_name",
]

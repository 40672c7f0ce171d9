"""Keyword rules as plain data: what a rules file holds and what the classifier runs on."""

from __future__ import annotations

from dataclasses import dataclass, field

INCLUDE = "include"
EXCLUDE = "exclude"
KINDS = (INCLUDE, EXCLUDE)


@dataclass(frozen=True)
class RuleSpec:
    keyword: str
    weight: float = 1.0
    kind: str = INCLUDE
    enabled: bool = True


@dataclass(frozen=True)
class TopicSpec:
    name: str
    description: str = ""
    sla_hours: int = 72
    sort_order: int = 0
    enabled: bool = True
    rules: tuple[RuleSpec, ...] = ()


@dataclass(frozen=True)
class Classification:
    """The classifier's verdict on one text."""

    topic: str | None  # the best topic whenever any rule matched; None when none did
    score: float
    unsure: bool  # the best topic missed the threshold or the margin
    candidates: tuple[tuple[str, float], ...] = field(default=())  # best first

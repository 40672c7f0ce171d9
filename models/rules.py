"""Keyword rules as plain data: what a rules file holds and what the classifier runs on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

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
    # Who decided: "rules" (sure), "model" (the rules were unsure, the learned model was
    # sure), None (unsure: the resident is asked, offered `candidates` first).
    by: str | None = None


ClassifyText = Callable[[str], Classification]


class ByCommunity(Protocol):
    """A classifier with a rule book per community (bot/classify/book.py): called alone it
    classifies with the street-wide rules, `within(id)` with that community's."""

    def __call__(self, text: str) -> Classification: ...

    def within(self, community_id: int) -> ClassifyText: ...


def classifier_in(classify: ClassifyText, community_id: int) -> ClassifyText:
    """The classifier for `community_id`: its own book when `classify` keeps one per
    community, else `classify` itself (one rule set for all: a rules file, a test double)."""
    within = getattr(classify, "within", None)  # an isinstance on the Protocol costs ~10 µs
    return cast(ClassifyText, within(community_id)) if within is not None else classify

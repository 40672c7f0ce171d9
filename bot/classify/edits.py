"""One change to the rules as plain data: a rule put or removed, a topic's settings changed.

The console edits one topic at a time; each edit yields that topic's whole new `TopicSpec`,
which goes through `models.sync_topics` like an imported file does (audited, versioned), or
into a throw-away `Classifier` to backtest it before it is saved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from models import RuleSpec, TopicSpec
from words import fold


def same_keyword(a: str, b: str) -> bool:
    """Whether two keywords are one to the classifier (it folds both before matching)."""
    return fold(a).strip() == fold(b).strip()


def find_rule(spec: TopicSpec, keyword: str) -> RuleSpec | None:
    return next((r for r in spec.rules if same_keyword(r.keyword, keyword)), None)


def with_rule(spec: TopicSpec, rule: RuleSpec) -> TopicSpec:
    """The topic with `rule` added, or replacing the rule with the same (folded) keyword.

    A replaced rule keeps the keyword as it was written (renaming is delete + add).
    """
    rules = list(spec.rules)
    for i, old in enumerate(rules):
        if same_keyword(old.keyword, rule.keyword):
            rules[i] = replace(rule, keyword=old.keyword)
            return replace(spec, rules=tuple(rules))
    return replace(spec, rules=(*rules, rule))


def without_rule(spec: TopicSpec, keyword: str) -> TopicSpec:
    return replace(spec, rules=tuple(r for r in spec.rules if not same_keyword(r.keyword, keyword)))


def with_settings(spec: TopicSpec, **settings: Any) -> TopicSpec:
    """The topic with new description, sla_hours, sort_order or enabled (rules unchanged)."""
    allowed = {"description", "sla_hours", "sort_order", "enabled"}
    unknown = set(settings) - allowed
    if unknown:
        raise TypeError(f"not a topic setting: {sorted(unknown)[0]}")
    return replace(spec, **settings)


def replace_topic(specs: list[TopicSpec], spec: TopicSpec) -> list[TopicSpec]:
    """All topics, with `spec` in place of the one of the same name (or added at the end)."""
    if any(s.name == spec.name for s in specs):
        return [spec if s.name == spec.name else s for s in specs]
    return [*specs, spec]


__all__ = [
    "find_rule",
    "replace_topic",
    "same_keyword",
    "with_rule",
    "with_settings",
    "without_rule",
]

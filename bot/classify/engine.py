"""The keyword classifier: jieba tokens looked up in an index of rule keywords.

Cost does not grow with the number of rules: each token (and each run of up to four adjacent
tokens, and each part of a long token) is one dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import jieba

from handlers.folding import fold
from models import EXCLUDE, Classification, TopicSpec

MAX_SPAN = 4  # adjacent tokens joined to find a phrase jieba cut apart

_dictionary_lock = threading.Lock()
_added: set[str] = set()


@dataclass(frozen=True)
class Rule:
    topic: str
    keyword: str  # as written
    weight: float
    kind: str


@dataclass(frozen=True)
class Match:
    rule: Rule
    via: str  # "token", "phrase" (adjacent tokens) or "part" (inside a longer token)


@dataclass
class Explanation:
    text: str
    folded: str
    tokens: list[str]
    matches: list[Match]
    scores: dict[str, float]
    vetoed: list[str]
    result: Classification
    threshold: float = 0.0
    margin: float = 0.0
    notes: list[str] = field(default_factory=list)


def teach_jieba(keywords: Iterable[str]) -> None:
    """Add keywords to jieba's dictionary so they come out as whole tokens (once each)."""
    with _dictionary_lock:
        for word in keywords:
            if word not in _added:
                _added.add(word)
                jieba.add_word(word, freq=jieba.suggest_freq(word, tune=False))


class Classifier:
    def __init__(self, topics: Iterable[TopicSpec], threshold: float, margin: float) -> None:
        self.threshold = threshold
        self.margin = margin
        self.index: dict[str, list[Rule]] = defaultdict(list)
        self.topic_names: list[str] = []
        for topic in topics:
            if not topic.enabled:
                continue
            self.topic_names.append(topic.name)
            for spec in topic.rules:
                if spec.enabled:
                    key = fold(spec.keyword).strip()
                    if key:
                        self.index[key].append(
                            Rule(topic.name, spec.keyword, spec.weight, spec.kind)
                        )
        self.index = dict(self.index)
        self.longest = max((len(k) for k in self.index), default=0)
        teach_jieba(k for k in self.index if len(k) > 1)

    def tokens(self, folded: str) -> list[str]:
        return [t for t in jieba.lcut(folded, HMM=False) if t.strip()]

    def matches(self, tokens: list[str]) -> list[Match]:
        found: dict[Rule, str] = {}
        index, longest = self.index, self.longest
        for i, token in enumerate(tokens):
            for rule in index.get(token, ()):
                found.setdefault(rule, "token")
            if len(token) > 2:
                # Keywords inside a longer token jieba kept whole (电梯 in 电梯间).
                for size in range(min(len(token) - 1, longest), 1, -1):
                    for start in range(len(token) - size + 1):
                        for rule in index.get(token[start : start + size], ()):
                            found.setdefault(rule, "part")
            joined = token
            for nxt in tokens[i + 1 : i + MAX_SPAN]:
                joined += nxt
                if len(joined) > longest:
                    break
                for rule in index.get(joined, ()):
                    found.setdefault(rule, "phrase")
        return [Match(rule, via) for rule, via in found.items()]

    def decide(self, matches: list[Match]) -> tuple[Classification, dict[str, float], list[str]]:
        scores: dict[str, float] = defaultdict(float)
        vetoed = sorted({m.rule.topic for m in matches if m.rule.kind == EXCLUDE})
        for m in matches:
            if m.rule.kind != EXCLUDE and m.rule.topic not in vetoed:
                scores[m.rule.topic] += m.rule.weight
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order(kv[0])))
        if not ranked:
            return Classification(None, 0.0, True, ()), dict(scores), vetoed
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        unsure = best_score < self.threshold or best_score - runner_up < self.margin
        result = Classification(best, best_score, unsure, tuple(ranked[:5]))
        return result, dict(scores), vetoed

    def _order(self, topic: str) -> int:
        return self.topic_names.index(topic) if topic in self.topic_names else len(self.topic_names)

    def classify(self, text: str) -> Classification:
        result, _, _ = self.decide(self.matches(self.tokens(fold(text))))
        return result

    def explain(self, text: str) -> Explanation:
        folded = fold(text)
        tokens = self.tokens(folded)
        matches = self.matches(tokens)
        result, scores, vetoed = self.decide(matches)
        return Explanation(
            text, folded, tokens, matches, scores, vetoed, result, self.threshold, self.margin
        )

"""The classifier: jieba tokens looked up in an index of rule keywords, and when the rules are
unsure, the learned model (model.py).

Cost does not grow with the number of rules: each token (and each run of up to four adjacent
tokens, and each part of a long token) is one dictionary lookup. The model runs on the same
tokens, and only on the texts the rules are not beyond doubt about (below).

Who decides, in this order:
1. the rules, when their best topic reaches the threshold and leads by the margin ("rules") —
   unless the model is strongly against them: its likeliest topic (among the topics this
   rule set has enabled) reaches [classifier] model_override and the rules' topic is less
   than half as likely; then the model decides ("model"). When the rules' topic leads the
   runner-up by the threshold or more, the model is not asked at all: that keeps its cost
   to about one message in five (issue #19's speed target: classifying stays within 0.8 of
   jieba's own segmentation), for half a point of accuracy on texts held out from both;
2. when the rules are unsure, the model, when its likeliest topic reaches model_threshold
   and leads by model_margin ("model") — and the text has words: a number, a phone number
   or emoji alone carry no topic, whatever the model's prior for digits says (the starter
   model put 13800138000 under 电梯设施 at 49 %);
3. nobody: unsure. The candidates offered to the resident are then the model's likeliest,
   with the rules' best among the first three.
The numbers were chosen on texts the model was not trained on and the rules were not tuned
on (bench/README.md, "Understanding residents").
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jieba

from models import EXCLUDE, Classification, TopicSpec
from words import fold

if TYPE_CHECKING:
    from .model import Model

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
    # The rules' own verdict, and what the model said when it was asked (the rules were
    # unsure): its ranking and the features that weighed most for its likeliest topic.
    rules_result: Classification | None = None
    model_ranked: list[tuple[str, float]] = field(default_factory=list)
    model_terms: list[tuple[str, float]] = field(default_factory=list)
    model_threshold: float = 0.0
    model_margin: float = 0.0

    @property
    def by(self) -> str | None:
        return self.result.by


def has_words(folded: str) -> bool:
    """Some letter of any script (汉字, Latin…): not only digits, punctuation or emoji."""
    return any(ch.isalpha() for ch in folded)


def teach_jieba(keywords: Iterable[str]) -> None:
    """Add keywords to jieba's dictionary so they come out as whole tokens (once each)."""
    with _dictionary_lock:
        for word in keywords:
            if word not in _added:
                _added.add(word)
                jieba.add_word(word, freq=jieba.suggest_freq(word, tune=False))


class Classifier:
    def __init__(
        self,
        topics: Iterable[TopicSpec],
        threshold: float,
        margin: float,
        model: Model | None = None,
        model_threshold: float = 0.3,
        model_margin: float = 0.05,
        model_override: float = 0.5,
    ) -> None:
        self.threshold = threshold
        self.margin = margin
        self.model = model
        self.model_threshold = model_threshold
        self.model_margin = model_margin
        self.model_override = model_override
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
        self.topic_set = frozenset(self.topic_names)
        # The topics the model may name: only those enabled here (None: it knows no other).
        covered = model is None or self.topic_set.issuperset(model.labels)
        self._among = None if covered else self.topic_set
        # The lengths keywords come in, longest first: the only sizes worth looking up
        # inside a long token.
        self.part_sizes = sorted({len(k) for k in self.index if len(k) > 1}, reverse=True)
        # Each keyword's rules, and whether a run of tokens reading so far can still grow
        # into a longer keyword: one lookup per token answers both.
        prefixes = {k[:n] for k in self.index for n in range(1, len(k))}
        self.lookup: dict[str, tuple[tuple[Rule, ...], bool]] = {
            k: (tuple(self.index.get(k, ())), k in prefixes) for k in {*self.index, *prefixes}
        }
        # Keywords found inside each long token, remembered per token (a vocabulary is
        # finite, and this is the costliest lookup): the same work is never done twice.
        self._parts: dict[str, tuple[Rule, ...]] = {}
        teach_jieba(k for k in self.index if len(k) > 1)

    def like(self, topics: Iterable[TopicSpec]) -> Classifier:
        """A classifier for other rules, tuned like this one and with its model."""
        return Classifier(
            topics,
            self.threshold,
            self.margin,
            self.model,
            self.model_threshold,
            self.model_margin,
            self.model_override,
        )

    def tokens(self, folded: str) -> list[str]:
        """jieba's tokens (HMM off: every keyword is in the dictionary, and it is faster)."""
        return list(jieba.lcut(folded, HMM=False))

    def matches(self, tokens: list[str]) -> list[Match]:
        found: dict[Rule, str] = {}
        lookup = self.lookup
        nothing: tuple[tuple[Rule, ...], bool] = ((), False)
        for i, token in enumerate(tokens):
            rules, grows = lookup.get(token, nothing)
            for rule in rules:
                found.setdefault(rule, "token")
            if len(token) > 2:
                for rule in self._inside(token):
                    found.setdefault(rule, "part")
            joined = token
            for nxt in tokens[i + 1 : i + MAX_SPAN]:
                if not grows:
                    break
                joined += nxt
                rules, grows = lookup.get(joined, nothing)
                for rule in rules:
                    found.setdefault(rule, "phrase")
        return [Match(rule, via) for rule, via in found.items()]

    def _inside(self, token: str) -> tuple[Rule, ...]:
        """Rules whose keyword is a part of `token` (电梯 in 电梯间)."""
        hits = self._parts.get(token)
        if hits is None:
            found: list[Rule] = []
            length = len(token)
            for size in self.part_sizes:
                if size < length:
                    for start in range(length - size + 1):
                        found.extend(self.index.get(token[start : start + size], ()))
            hits = tuple(found)
            if len(self._parts) < 200_000:
                self._parts[token] = hits
        return hits

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
        by = None if unsure else "rules"
        result = Classification(best, best_score, unsure, tuple(ranked[:5]), by)
        return result, dict(scores), vetoed

    def _order(self, topic: str) -> int:
        return self.topic_names.index(topic) if topic in self.topic_names else len(self.topic_names)

    def classify(self, text: str) -> Classification:
        folded = fold(text)
        tokens = self.tokens(folded)
        result, _, _ = self.decide(self.matches(tokens))
        if self.model is not None and not self.beyond_doubt(result):
            return self.ask_model(folded, tokens, result)[0]
        return result

    def beyond_doubt(self, rules: Classification) -> bool:
        """The rules are sure and their topic leads the runner-up by the threshold or more."""
        if rules.unsure or not rules.candidates:
            return False
        runner_up = rules.candidates[1][1] if len(rules.candidates) > 1 else 0.0
        return rules.candidates[0][1] - runner_up >= self.threshold

    def ask_model(
        self, folded: str, tokens: list[str], rules: Classification
    ) -> tuple[Classification, list[tuple[str, float]]]:
        """The verdict given the rules' (`rules`) and the model's on the folded text and its
        tokens, and the model's ranking among this rule set's topics (see above)."""
        assert self.model is not None
        ranked = self.model.rank(folded, tokens, among=self._among, folded=True)
        if not ranked:
            return rules, ranked
        best, p = ranked[0]
        if not rules.unsure:
            against = best != rules.topic and p >= self.model_override
            if not against or dict(ranked).get(rules.topic or "", 0.0) * 2 > p:
                return rules, ranked
            return Classification(best, p, False, tuple(ranked[:5]), "model"), ranked
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        sure = p >= self.model_threshold and p - runner_up >= self.model_margin
        if sure and has_words(folded):
            return Classification(best, p, False, tuple(ranked[:5]), "model"), ranked
        offered = [name for name, _ in ranked[:3]]
        if rules.topic is not None and rules.topic not in offered:
            offered[-1] = rules.topic  # the rules' best is among the first three
        probability = dict(ranked)
        # (The rules' topic may be one the model never learned: a topic added since.)
        candidates = tuple((name, probability.get(name, 0.0)) for name in offered)
        return Classification(offered[0], candidates[0][1], True, candidates), ranked

    def explain(self, text: str) -> Explanation:
        folded = fold(text)
        tokens = self.tokens(folded)
        matches = self.matches(tokens)
        result, scores, vetoed = self.decide(matches)
        shown = [t for t in tokens if t.strip()]
        exp = Explanation(
            text, folded, shown, matches, scores, vetoed, result, self.threshold, self.margin
        )
        exp.rules_result = result
        if self.model is not None and not self.beyond_doubt(result):
            exp.result, exp.model_ranked = self.ask_model(folded, tokens, result)
            if exp.model_ranked:
                exp.model_terms = self.model.weigh(text, exp.model_ranked[0][0], tokens)
            exp.model_threshold, exp.model_margin = self.model_threshold, self.model_margin
        return exp

"""Labeled texts: backtest a rule set against them, and mine keywords from them."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jieba

from models import RuleSpec, TopicSpec
from words import fold

from .engine import Classification, Classifier

_WORDLIKE = re.compile(r"^[\w]+$")
_DIGITS = re.compile(r"^[\d.]+$")
# Words that say nothing about a topic, however often they appear in one.
_STOPWORDS = frozenset(
    "我们 你们 他们 这个 那个 一个 什么 怎么 可以 能不能 请问 您好 你好 谢谢 麻烦 一下 现在 "
    "已经 还是 就是 没有 不是 这里 那里 时候 问题 小区 社区 我家 家里 今天 昨天 每天 天天 老是 "
    "一直 真的 非常 特别 实在 太 了 的 是 在 有 和 也 都 就 还 又 很 吗 呢 吧 啊".split()
)


@dataclass(frozen=True)
class Labeled:
    text: str
    label: str


def read_labeled(path: Path) -> list[Labeled]:
    """`{"text", "label"}` JSON lines (other fields ignored); a bad line stops with its number."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"line {number}: not JSON ({exc})") from None
            if not isinstance(data, dict):
                raise ValueError(f"line {number}: expected a JSON object")
            text, label = data.get("text"), data.get("label")
            if not isinstance(text, str) or not isinstance(label, str) or not label:
                raise ValueError(f'line {number}: needs "text" and "label" strings')
            items.append(Labeled(text, label))
    if not items:
        raise ValueError("no labeled lines")
    return items


@dataclass
class TopicScore:
    topic: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass
class Report:
    total: int
    accuracy: float
    unsure_share: float
    confident_accuracy: float
    macro_f1: float
    topics: list[TopicScore]
    confusions: list[tuple[str, str, int]]  # (label, predicted, count), most first
    unmatched: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "unsure_share": round(self.unsure_share, 4),
            "confident_accuracy": round(self.confident_accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "unmatched": self.unmatched,
            "topics": [
                {
                    "topic": t.topic,
                    "support": t.support,
                    "precision": round(t.precision, 4),
                    "recall": round(t.recall, 4),
                    "f1": round(t.f1, 4),
                }
                for t in self.topics
            ],
            "confusions": [{"label": a, "predicted": b, "count": n} for a, b, n in self.confusions],
        }


# Who decides, in a backtest: the rules alone, the model alone, both as the classifier runs.
RULES, MODEL, COMBINED = "rules", "model", "combined"
_NOBODY = Classification(None, 0.0, True, ())


def backtest(classifier: Classifier, items: Iterable[Labeled], side: str = COMBINED) -> Report:
    """Classify every text; compare the `topic` (unsure ones included) with the label.
    `side`: who decides — the classifier as it runs (COMBINED: the rules, and the model when
    they are unsure), its rules alone (RULES) or its model alone (MODEL)."""
    return backtest_sides(classifier, items, (side,))[side]


def backtest_sides(
    classifier: Classifier,
    items: Iterable[Labeled],
    sides: tuple[str, ...] = (RULES, MODEL, COMBINED),
) -> dict[str, Report]:
    """One report per side (see `backtest`), each text segmented once. The model alone is its
    likeliest topic among the rule set's, unsure below model_threshold / model_margin."""
    pairs: dict[str, list[tuple[str, str | None, bool]]] = {side: [] for side in sides}
    for item in items:
        for side, verdict in _verdicts(classifier, item.text, sides).items():
            pairs[side].append((item.label, verdict.topic, verdict.unsure))
    return {side: _score(found) for side, found in pairs.items()}


def _verdicts(
    classifier: Classifier, text: str, sides: tuple[str, ...]
) -> dict[str, Classification]:
    found: dict[str, Classification] = {}
    if COMBINED in sides:
        found[COMBINED] = classifier.classify(text)  # exactly what the deployment does
    if RULES in sides or MODEL in sides:
        tokens = classifier.tokens(fold(text))
        if RULES in sides:
            found[RULES] = classifier.decide(classifier.matches(tokens))[0]
        if MODEL in sides:
            found[MODEL] = (
                classifier.ask_model(text, tokens, _NOBODY)[0]
                if classifier.model is not None
                else _NOBODY
            )
    return found


def _score(pairs: list[tuple[str, str | None, bool]]) -> Report:
    total = len(pairs)
    correct = sum(1 for label, got, _ in pairs if got == label)
    unsure = sum(1 for _, _, u in pairs if u)
    sure = [(label, got) for label, got, u in pairs if not u]
    labels = sorted({label for label, _, _ in pairs})
    topics = []
    for topic in labels:
        tp = sum(1 for label, got, _ in pairs if label == topic and got == topic)
        predicted = sum(1 for _, got, _ in pairs if got == topic)
        support = sum(1 for label, _, _ in pairs if label == topic)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        topics.append(TopicScore(topic, support, precision, recall, f1))
    confusions = Counter(
        (label, got or "（无匹配）") for label, got, _ in pairs if got != label
    ).most_common(10)
    return Report(
        total=total,
        accuracy=correct / total if total else 0.0,
        unsure_share=unsure / total if total else 0.0,
        confident_accuracy=(
            sum(1 for label, got in sure if got == label) / len(sure) if sure else 0.0
        ),
        macro_f1=sum(t.f1 for t in topics) / len(topics) if topics else 0.0,
        topics=topics,
        confusions=[(a, b, n) for (a, b), n in confusions],
        unmatched=sum(1 for _, got, _ in pairs if got is None),
    )


_SIDE_NAMES = {RULES: "rules only", MODEL: "model only", COMBINED: "combined"}


def render_sides(reports: dict[str, Report]) -> str:
    """The sides next to each other (accuracy counts unsure as wrong)."""
    total = next(iter(reports.values())).total if reports else 0
    lines = [
        f"texts: {total}",
        f"{'':<14}{'accuracy':>9}{'unsure':>8}{'when sure':>11}{'macro-F1':>10}",
    ]
    for side, r in reports.items():
        lines.append(
            f"{_SIDE_NAMES.get(side, side):<14}{r.accuracy:>9.1%}{r.unsure_share:>8.1%}"
            f"{r.confident_accuracy:>11.1%}{r.macro_f1:>10.3f}"
        )
    return "\n".join(lines)


def render_report(report: Report) -> str:
    lines = [
        f"texts: {report.total}   accuracy: {report.accuracy:.1%}   "
        f"unsure: {report.unsure_share:.1%}   accuracy when sure: {report.confident_accuracy:.1%}"
        f"   macro-F1: {report.macro_f1:.3f}   no rule matched: {report.unmatched}",
        "",
        f"{'topic':<10}{'support':>8}{'precision':>11}{'recall':>8}{'F1':>7}",
    ]
    for t in report.topics:
        lines.append(f"{t.topic:<10}{t.support:>8}{t.precision:>11.1%}{t.recall:>8.1%}{t.f1:>7.3f}")
    if report.confusions:
        lines += ["", "most confused (label → classified as):"]
        lines += [f"  {a} → {b}: {n}" for a, b, n in report.confusions]
    return "\n".join(lines)


def _words(text: str) -> set[str]:
    return {
        w
        for w in jieba.lcut(fold(text), HMM=True)
        if len(w) >= 2 and _WORDLIKE.match(w) and not _DIGITS.match(w) and w not in _STOPWORDS
    }


def suggest(items: list[Labeled], top: int) -> list[TopicSpec]:
    """The `top` words per label that best separate it from the others (chi-square).

    Only words seen in at least two texts and more often in the label than elsewhere count.
    Weight follows how reliably the word points to the label: 3 when ≥ 90% of the texts
    containing it carry the label, 2 from 70%, else 1.
    """
    docs = [(_words(item.text), item.label) for item in items]
    n = len(docs)
    per_label = Counter(label for _, label in docs)
    with_word: Counter[str] = Counter()
    with_word_in: dict[str, Counter[str]] = defaultdict(Counter)
    for words, label in docs:
        for w in words:
            with_word[w] += 1
            with_word_in[label][w] += 1
    specs = []
    for order, label in enumerate(sorted(per_label), start=1):
        scored = []
        for w, a in with_word_in[label].items():
            b = with_word[w] - a  # word, other labels
            c = per_label[label] - a  # label, no word
            d = n - a - b - c
            if a < 2 or a * (b + d) <= b * (a + c):  # rare, or not more common in the label
                continue
            chi2 = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d) or 1)
            scored.append((chi2, w, a / (a + b)))
        scored.sort(key=lambda s: (-s[0], s[1]))
        rules = tuple(
            RuleSpec(w, 3.0 if p >= 0.9 else 2.0 if p >= 0.7 else 1.0) for _, w, p in scored[:top]
        )
        specs.append(TopicSpec(name=label, sort_order=order, rules=rules))
    return specs


__all__ = ["Labeled", "Report", "backtest", "read_labeled", "render_report", "suggest"]

"""Labeled texts: backtest a rule set against them, and mine keywords from them."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import jieba

from models import INCLUDE, RuleSpec, TopicSpec
from words import fold

from .engine import Classification, Classifier


@dataclass(frozen=True)
class Labeled:
    text: str
    label: str


def read_labeled(path: Path) -> list[Labeled]:
    """`{"text", "label"}` JSON lines (other fields ignored); a bad line stops with its number."""
    items = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:  # utf-8-sig: a file saved by Excel or Notepad starts with a BOM
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"line {number}: not UTF-8 text") from None
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
    accuracy: float  # the classifier's best topic is the label, whether or not it was sure
    unsure_share: float
    confident_accuracy: float
    macro_f1: float
    topics: list[TopicScore]
    confusions: list[tuple[str, str, int]]  # (label, predicted, count), most first
    unmatched: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def filed_right(self) -> float:
        """The share filed under the label without asking: unsure counts as wrong."""
        return self.confident_accuracy * (1 - self.unsure_share)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "filed_right": round(self.filed_right, 4),
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
        folded = fold(text)
        tokens = classifier.tokens(folded)
        if RULES in sides:
            found[RULES] = classifier.decide(classifier.matches(tokens))[0]
        if MODEL in sides:
            found[MODEL] = (
                classifier.ask_model(folded, tokens, _NOBODY)[0]
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
    """The sides next to each other: "filed right" counts unsure as wrong (the share filed
    under the label without asking); "best topic" is right whether or not it was sure."""
    total = next(iter(reports.values())).total if reports else 0
    lines = [
        f"texts: {total}",
        f"{'':<14}{'filed right':>12}{'unsure':>8}{'when sure':>11}{'best topic':>12}"
        f"{'macro-F1':>10}",
    ]
    for side, r in reports.items():
        lines.append(
            f"{_SIDE_NAMES.get(side, side):<14}{r.filed_right:>12.1%}{r.unsure_share:>8.1%}"
            f"{r.confident_accuracy:>11.1%}{r.accuracy:>12.1%}{r.macro_f1:>10.3f}"
        )
    return "\n".join(lines)


def render_report(report: Report) -> str:
    lines = [
        f"texts: {report.total}   accuracy: {report.accuracy:.1%}   "
        f"filed right without asking: {report.filed_right:.1%}   "
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


# --- Mining keywords -----------------------------------------------------------------------
#
# Which words may become keywords. Everything that decides it is here, in three layers: what
# jieba's dictionary says a word is (its part of speech), the shapes of numbers, codes and
# placeholders (regular expressions), and a short list of fillers neither catches. A fourth
# test, in `suggest`, is measured on the labeled texts themselves: a word spread evenly over
# the labels says nothing about any of them, however often it appears.

# Parts of speech (jieba's dictionary tags) that never name a topic: numerals and quantities
# (很多, 一下, 半天, 两个, 十二), measure words, pronouns (我们, 这样, 那边, 某某), adverbs (已经,
# 一直, 非常), time words (早上, 晚上, 今天, 天天, 凌晨), position words (里面, 旁边, 最近,
# 以后), conjunctions, prepositions, particles, modal particles and interjections. Verbs,
# nouns, adjectives, onomatopoeia (嗡嗡, 咚咚: noise) and idioms stay: topics live there.
_NO_TOPIC_TAGS = frozenset("m q mq r rr rz rg d df dg t tg f c p u uj ul uz ug uv ud y e".split())
# Words jieba tags as time or number words that are topics here (老年 = the elderly, 过期 =
# expired papers or food, 日间 = day care).
_TOPIC_DESPITE_TAG = frozenset("老年 过期 日间".split())
# Numbers in any form, and what is left of an address once its number is cut off: a token
# with a digit (3, 501, 3号, i6, a3b after folding), Chinese numerals alone or with a measure
# or a place in a building (三, 十二, 第三, 三楼, 七楼, 两个, 几天), bare address parts (号楼, 栋).
_NUMBER = re.compile(
    r"\d"
    r"|^第?[零〇一二两三四五六七八九十百千万几半]+"
    r"[号楼栋幢座层单元室户个次回遍趟天日夜周月年点分秒岁元块把辆家条棵只位间]*$"
    r"|^[号栋幢座层室户]+楼?$"
)
# Anonymised codes and placeholders: letters alone or doubled (a, xx, xxx), anything 某 (某某,
# 某楼), the textbook names (张三, 李四), and a surname with 老/小 or a form of address (老王, 小李,
# 王师傅, 李阿姨): they stand for a person or a place, never for what the problem is.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_ADDRESS_FORMS = (
    "师傅|阿姨|大爷|大妈|大姐|大哥|先生|女士|小姐|老师|同志|主任|书记|奶奶|爷爷|叔叔|叔|姐|哥"
)
_PLACEHOLDER = re.compile(
    r"^(?:[a-z]|([a-z])\1+)$"
    r"|^某"
    r"|^(?:张三|李四|王五|赵六|小明|小红)$"
    rf"|^[老小][{_SURNAMES}]$"
    rf"|^[{_SURNAMES}]?(?:{_ADDRESS_FORMS})$"
)
_WORDLIKE = re.compile(r"^\w+$")
# Fillers the tags and shapes miss (jieba calls 谢谢 a name, 麻烦 an adjective, 怎么办 an idiom):
# greetings, thanks, asking and complaining words every kind of message carries, and the
# words for where everyone lives. Small sets of labeled texts cannot show that these are
# spread evenly; large ones would (see `_EVEN`), but they should never be suggested at all.
_STOPWORDS = frozenset(
    "您好 你好 谢谢 谢谢您 感谢 麻烦 请问 拜托 帮忙 帮帮忙 希望 反映 反应 投诉 举报 处理 解决 "
    "怎么办 怎么回事 是不是 有没有 能不能 可不可以 什么 怎么 为什么 为啥 咋办 "
    "可以 需要 知道 觉得 感觉 好像 还有 就是 还是 没有 不是 不能 不行 出来 看看 "
    "问题 事情 情况 小区 社区 居委 居委会 街道 我家 家里 大家 居民 业主 人家 "
    "真的 实在 根本 总是 老是 特别 非常 严重".split()
)
# A word whose texts spread over the labels about as the labeled texts do says nothing about
# any one of them: dropped when the entropy of its per-label rates (each label's share of its
# texts containing the word) is at least _EVEN of the most it could be, or when it appears in
# more than _WIDE of the labels. Measured only with at least _MIN_LABELS labels.
_EVEN = 0.7
_WIDE = 0.75
_MIN_LABELS = 4


@cache
def _tags() -> dict[str, str]:
    import jieba.posseg  # its dictionary of tags loads once, and only when mining

    return jieba.posseg.dt.word_tag_tab


def carries_no_topic(word: str) -> bool:
    """Whether `word` (folded) is a filler, a number, a code or a placeholder (see above)."""
    if (
        len(word) < 2 or not _WORDLIKE.match(word) or word in _STOPWORDS
    ):  # one character: too ambiguous
        return True
    if _NUMBER.search(word) or _PLACEHOLDER.search(word):
        return True
    return _tags().get(word) in _NO_TOPIC_TAGS and word not in _TOPIC_DESPITE_TAG


def _words(text: str) -> set[str]:
    return {w for w in jieba.lcut(fold(text), HMM=True) if not carries_no_topic(w)}


_LONGEST = 8  # longer words are counted where jieba cuts them only


def _written_in(folded: str, vocabulary: set[str]) -> set[str]:
    """The words of `vocabulary` (2 to _LONGEST characters) written anywhere in `folded`."""
    size = len(folded)
    return {
        folded[i:j]
        for i in range(size)
        for j in range(i + 2, min(i + _LONGEST, size) + 1)
        if folded[i:j] in vocabulary
    }


def _evenly_spread(per_label: Counter[str], counts: Counter[str]) -> bool:
    """Whether a word found in `counts` texts per label is spread evenly over `per_label`."""
    labels = len(per_label)
    if labels < _MIN_LABELS:
        return False
    if len(counts) > _WIDE * labels:
        return True
    rates = [counts[label] / size for label, size in per_label.items() if counts[label]]
    total = sum(rates)
    entropy = -sum(r / total * math.log(r / total) for r in rates)
    return entropy >= _EVEN * math.log(labels)


def suggest(items: list[Labeled], top: int) -> list[TopicSpec]:
    """The `top` words per label that best separate it from the others (chi-square).

    Candidates are the words jieba cuts that may name a topic (`carries_no_topic`); a text
    contains a word wherever it is written in it, as the classifier finds a keyword inside a
    longer token (电梯 in 电梯间), so the counts are those the rule will meet. Only words in at
    least two texts, more often in the label than elsewhere and not spread evenly over the
    labels count. Weight follows how reliably the word points to the label: 3 when ≥ 90% of
    the texts containing it carry the label, 2 from 70%, else 1.
    """
    cut = [_words(item.text) for item in items]
    vocabulary = set().union(*cut)
    docs = [
        (words | _written_in(fold(item.text), vocabulary), item.label)
        for words, item in zip(cut, items, strict=True)
    ]
    n = len(docs)
    per_label = Counter(label for _, label in docs)
    with_word: Counter[str] = Counter()
    with_word_in: dict[str, Counter[str]] = defaultdict(Counter)
    labels_of: dict[str, Counter[str]] = defaultdict(Counter)
    for words, label in docs:
        for w in words:
            with_word[w] += 1
            with_word_in[label][w] += 1
            labels_of[w][label] += 1
    spread = {w for w, counts in labels_of.items() if _evenly_spread(per_label, counts)}
    specs = []
    for order, label in enumerate(sorted(per_label), start=1):
        scored = []
        for w, a in with_word_in[label].items():
            b = with_word[w] - a  # word, other labels
            c = per_label[label] - a  # label, no word
            d = n - a - b - c
            if a < 2 or a * (b + d) <= b * (a + c) or w in spread:
                continue  # rare, not more common in the label, or everywhere alike
            chi2 = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d) or 1)
            scored.append((chi2, w, a / (a + b)))
        scored.sort(key=lambda s: (-s[0], s[1]))
        rules = tuple(
            RuleSpec(w, 3.0 if p >= 0.9 else 2.0 if p >= 0.7 else 1.0) for _, w, p in scored[:top]
        )
        specs.append(TopicSpec(name=label, sort_order=order, rules=rules))
    return specs


# --- What a suggested keyword would change -------------------------------------------------


@dataclass
class KeywordEffect:
    """One suggested keyword measured on the labeled texts, added alone to the current rules.

    A text is *right* when the rules are sure and their topic is its label (it would be filed
    without asking the resident); `fixed` texts become right, `broken` ones stop being right.
    """

    topic: str
    keyword: str
    weight: float
    matches: int  # labeled texts the keyword matches
    with_label: int  # of which carry its topic
    fixed: int = 0
    broken: int = 0
    in_rules: bool = False  # the topic already has this keyword: adding it changes nothing

    @property
    def precision(self) -> float:
        return self.with_label / self.matches if self.matches else 0.0

    @property
    def net(self) -> int:
        return self.fixed - self.broken


@dataclass
class Effect:
    total: int
    right_before: int  # texts right with the current rules alone
    keywords: list[KeywordEffect]
    right_together: int  # texts right with every new keyword added at once
    fixed_together: int
    broken_together: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "texts": self.total,
            "right_before": self.right_before,
            "keywords": [
                {
                    "topic": k.topic,
                    "keyword": k.keyword,
                    "weight": k.weight,
                    "matches": k.matches,
                    "with_label": k.with_label,
                    "precision": round(k.precision, 4),
                    "fixed": k.fixed,
                    "broken": k.broken,
                    "net": k.net,
                    "in_rules": k.in_rules,
                }
                for k in self.keywords
            ],
            "together": {
                "right_after": self.right_together,
                "fixed": self.fixed_together,
                "broken": self.broken_together,
                "net": self.fixed_together - self.broken_together,
            },
        }


def _with_rules(current: list[TopicSpec], added: dict[str, list[RuleSpec]]) -> list[TopicSpec]:
    """`current` with `added` rules (per topic name) appended; unknown topics come last."""
    specs = [replace(t, rules=t.rules + tuple(added.get(t.name, ()))) for t in current]
    last = max((t.sort_order for t in current), default=0)
    known = {t.name for t in current}
    for name, rules in added.items():
        if name not in known and rules:
            last += 1
            specs.append(TopicSpec(name=name, sort_order=last, rules=tuple(rules)))
    return specs


def effect(
    items: list[Labeled],
    suggested: list[TopicSpec],
    current: list[TopicSpec],
    threshold: float,
    margin: float,
) -> Effect:
    """What adding each suggested keyword to `current` would change on the labeled texts.

    Only the texts a keyword matches can change, so each keyword classifies just those. Every
    suggested keyword is taught to the segmenter first, so before and after cut the texts alike.
    """
    probe = Classifier(suggested, threshold, margin)  # also teaches jieba every keyword
    base = Classifier(current, threshold, margin)

    def right(classifier: Classifier, item: Labeled) -> bool:
        verdict = classifier.classify(item.text)
        return not verdict.unsure and verdict.topic == item.label

    before = [right(base, item) for item in items]
    matched: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        for match in probe.explain(item.text).matches:
            matched[(match.rule.topic, match.rule.keyword)].append(i)
    existing = {
        (t.name, fold(r.keyword).strip())
        for t in current
        for r in t.rules
        if r.enabled and r.kind == INCLUDE
    }
    results = []
    new: dict[str, list[RuleSpec]] = defaultdict(list)
    for topic in suggested:
        for rule in topic.rules:
            hits = matched.get((topic.name, rule.keyword), [])
            result = KeywordEffect(
                topic.name,
                rule.keyword,
                rule.weight,
                matches=len(hits),
                with_label=sum(1 for i in hits if items[i].label == topic.name),
                in_rules=(topic.name, fold(rule.keyword).strip()) in existing,
            )
            results.append(result)
            if result.in_rules:
                continue
            new[topic.name].append(rule)
            if hits:
                alone = Classifier(_with_rules(current, {topic.name: [rule]}), threshold, margin)
                after = [right(alone, items[i]) for i in hits]
                result.fixed = sum(
                    1 for i, ok in zip(hits, after, strict=True) if ok and not before[i]
                )
                result.broken = sum(
                    1 for i, ok in zip(hits, after, strict=True) if before[i] and not ok
                )
    together = Classifier(_with_rules(current, new), threshold, margin)
    after_all = [right(together, item) for item in items]
    return Effect(
        total=len(items),
        right_before=sum(before),
        keywords=results,
        right_together=sum(after_all),
        fixed_together=sum(1 for b, a in zip(before, after_all, strict=True) if a and not b),
        broken_together=sum(1 for b, a in zip(before, after_all, strict=True) if b and not a),
    )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    space = " " * max(0, width - _width(text))
    return space + text if right else text + space


def render_effect(report: Effect, against: str) -> str:
    """The human table `rules suggest --effect` prints."""
    total = report.total
    share = report.right_before / total if total else 0.0
    lines = [
        f"against: {against}   labeled texts: {total}   "
        f"filed right without asking: {report.right_before} ({share:.1%})",
        "",
    ]
    header = ["topic", "keyword", "weight", "matches", "precision", "fixed", "broken", "net"]
    rows = [
        [
            k.topic,
            k.keyword,
            f"{k.weight:g}",
            str(k.matches),
            f"{k.precision:.0%}" if k.matches else "-",
            "" if k.in_rules else f"+{k.fixed}",
            "" if k.in_rules else f"-{k.broken}",
            "in rules" if k.in_rules else f"{k.net:+d}",
        ]
        for k in report.keywords
    ]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [_pad(c, widths[i], right=i >= 2) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    added = sum(1 for k in report.keywords if not k.in_rules)
    lines += [
        "",
        f"all {added} new keywords together: filed right {report.right_before} → "
        f"{report.right_together} (+{report.fixed_together} -{report.broken_together}, "
        f"net {report.fixed_together - report.broken_together:+d})",
    ]
    return "\n".join(lines)


__all__ = [
    "Effect",
    "KeywordEffect",
    "Labeled",
    "Report",
    "backtest",
    "carries_no_topic",
    "effect",
    "read_labeled",
    "render_effect",
    "render_report",
    "suggest",
]

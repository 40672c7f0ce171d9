"""The database's rules, cached per process and rebuilt when any process changes them.

One classifier for the street's rules, and one for each community that has rules or settings
of its own (models/community_topics.py), built when first needed.

Every rule change bumps the `rules_version` counter in the same transaction, and every newly
trained model the `model_version` counter (models/learned.py); each process reads those two
numbers at most every `reload_seconds` and rebuilds its classifiers when one moved, so an
admin's change and a new model apply everywhere within seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from models import Classification, TopicSpec, counters, load_specs, sync_topics, topic_by_name
from models.community_topics import community_specs, customised_communities
from models.learned import newest_model
from words import clean

from ..db import Database
from .engine import Classifier, Explanation, has_words
from .model import Model
from .rulesfile import DEFAULT_RULES, load_rules_file

log = logging.getLogger(__name__)


class RuleBook:
    """The street's classifier, and one per community that has rules or settings of its own
    (built when first asked for; every other community shares the street's)."""

    def __init__(
        self,
        db: Database,
        *,
        threshold: float,
        margin: float,
        reload_seconds: float,
        model_threshold: float = 0.3,
        model_margin: float = 0.05,
        model_override: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.threshold = threshold
        self.margin = margin
        self.model_threshold = model_threshold
        self.model_margin = model_margin
        self.model_override = model_override
        self.reload_seconds = reload_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._classifier: Classifier | None = None
        self._version = (-1, -1)  # the rules' and the model's
        self.model: Model | None = None
        self.model_id: int | None = None
        self._next_check = 0.0
        self._customised: frozenset[int] = frozenset()
        self._communities: dict[int, Classifier] = {}

    def current(self) -> Classifier:
        """The classifier for the newest street-wide rules (checking the version at most so
        often)."""
        now = self.clock()
        if self._classifier is not None and now < self._next_check:
            return self._classifier
        with self._lock:
            if self._classifier is None or now >= self._next_check:
                with self.db.session(read_only=True) as db:
                    version = (
                        counters.current(db, counters.RULES_VERSION),
                        counters.current(db, counters.MODEL_VERSION),
                    )
                    if self._classifier is None or version != self._version:
                        if version[1] != self._version[1]:
                            self._load_model(db)
                        self._classifier = self.build(load_specs(db))
                        self._customised = frozenset(customised_communities(db))
                        self._communities = {}
                        self._version = version
                self._next_check = now + self.reload_seconds
            return self._classifier

    def for_community(self, community_id: int | None) -> Classifier:
        """The classifier for `community_id`'s rules (None: the street's)."""
        street = self.current()
        if community_id is None or community_id not in self._customised:
            return street
        found = self._communities.get(community_id)
        if found is not None:
            return found
        with self._lock:
            version = self._version
            with self.db.session(read_only=True) as db:
                specs = community_specs(db, community_id)
            built = self.build(specs)
            if version == self._version:  # not rebuilt meanwhile: still this version's
                self._communities[community_id] = built
            return built

    def __call__(self, text: str) -> Classification:
        """Classify with the street-wide rules (models.rules.ByCommunity)."""
        return self.current().classify(text)

    def within(self, community_id: int) -> Callable[[str], Classification]:
        """Classify with `community_id`'s rules (models.rules.ByCommunity)."""
        return self.for_community(community_id).classify

    def refresh(self) -> None:
        """Check the version on the next `current()` (this process just changed the rules)."""
        with self._lock:
            self._next_check = 0.0

    def build(self, specs: list[TopicSpec]) -> Classifier:
        """A classifier for `specs` tuned like the live one, with the model in use (to try
        rules before saving them)."""
        return Classifier(
            specs,
            self.threshold,
            self.margin,
            self.model,
            self.model_threshold,
            self.model_margin,
            self.model_override,
        )

    def _load_model(self, db: Session) -> None:
        """The newest saved model; a row that cannot be read is skipped (the rules go on)."""
        row = newest_model(db)
        if row is None:
            self.model, self.model_id = None, None
            return
        if row.id == self.model_id:
            return
        try:
            self.model, self.model_id = Model.from_bytes(row.data), row.id
        except ValueError:
            log.exception("classifier model %s cannot be read: the rules decide alone", row.id)
            self.model, self.model_id = None, None


class MessageBooks:
    """One message's classifier (models.rules.ByCommunity): each (community, text) is
    classified once, whether the hint, the handler or intake asks."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self._done: dict[tuple[int | None, str], Classification] = {}

    def _classify(self, community_id: int | None, text: str) -> Classification:
        key = (community_id, clean(text))  # what the report handler files (and classifies)
        found = self._done.get(key)
        if found is None:
            found = self._done[key] = self.book.for_community(community_id).classify(key[1])
        return found

    def __call__(self, text: str) -> Classification:
        return self._classify(None, text)

    def within(self, community_id: int) -> Callable[[str], Classification]:
        return lambda text: self._classify(community_id, text)


class SessionBooks:
    """Each community's rules read once from one session (models.rules.ByCommunity): for a
    command that files a ticket or two and exits, with no cache to keep."""

    def __init__(self, db: Session, street: Classifier) -> None:
        self.db = db
        self.street = street
        self._customised: set[int] | None = None
        self._communities: dict[int, Classifier] = {}

    def __call__(self, text: str) -> Classification:
        return self.street.classify(text)

    def within(self, community_id: int) -> Callable[[str], Classification]:
        if self._customised is None:
            self._customised = customised_communities(self.db)
        if community_id not in self._customised:
            return self.street.classify
        found = self._communities.get(community_id)
        if found is None:
            specs = community_specs(self.db, community_id)
            found = self.street.like(specs)
            self._communities[community_id] = found
        return found.classify


def seed_default_topics(db: Session, now: datetime) -> list[str]:
    """Create the default topics that do not exist yet, with their starter rules.

    Topics that exist are left exactly as the admins made them.
    """
    missing = [
        spec for spec in load_rules_file(DEFAULT_RULES) if topic_by_name(db, spec.name) is None
    ]
    if missing:
        sync_topics(db, missing, actor="init", now=now)
    return [spec.name for spec in missing]


# The words shown of a long text: a chat reply is cut at 600 characters (bot/wechat), and
# the hits and the verdict come after them.
SHOWN_TOKENS = 40


def render_explanation(exp: Explanation) -> str:
    """The classifier's reasoning, for an admin reading it in the chat or a terminal: the
    rules' tokens, hits, scores and vetoes; the model's ranking and the n-grams that weighed
    most when it was asked; and who decided."""
    shown = exp.tokens[:SHOWN_TOKENS]
    more = f" …（共 {len(exp.tokens)} 个词）" if len(exp.tokens) > SHOWN_TOKENS else ""
    lines = [f"分词：{' / '.join(shown) or '（无）'}{more}"]
    if exp.matches:
        hits = []
        for m in exp.matches:
            sign = "否决" if m.rule.kind == "exclude" else f"+{m.rule.weight:g}"
            hits.append(f"{m.rule.keyword}→{m.rule.topic}({sign})")
        lines.append("命中：" + "，".join(hits))
    else:
        lines.append("命中：（无）")
    if exp.scores:
        line = "得分：" + "，".join(f"{t} {s:g}" for t, s in ranked_scores(exp))
        if rules_unsure(exp):
            line += f"（规则需 ≥{exp.threshold:g} 且领先 {exp.margin:g}）"
        lines.append(line)
    if exp.vetoed:
        lines.append("被否决：" + "，".join(exp.vetoed))
    if exp.model_ranked:
        line = "模型：" + "，".join(f"{t} {percent(p)}" for t, p in exp.model_ranked[:3])
        if exp.result.by != "model" and not has_words(exp.folded):
            line += "（只有数字或符号，模型不作判断）"
        elif exp.result.by != "model":
            line += f"（需 ≥{percent(exp.model_threshold)} 且领先 {percent(exp.model_margin)}）"
        lines.append(line)
        terms = "，".join(f"{term} {weight:+.2f}" for term, weight in exp.model_terms)
        lines.append(f"模型依据（{exp.model_ranked[0][0]}）：{terms or '（无）'}")
    lines.append(f"结果：{verdict_of(exp)}")
    return "\n".join(lines)


def verdict_of(exp: Explanation) -> str:
    """Who put the text under which topic, in a few words (the chat's 结果 line and the
    console's verdict): 电梯设施（规则确定）, 电梯设施（规则不确定，模型判断 82%）,
    不确定：请居民在 A/B/C 中选择, 无匹配，进入待分类."""
    result = exp.result
    if result.topic is not None and not result.unsure:
        if result.by == "model":
            rules = "规则无匹配" if not exp.scores else "规则不确定"
            return f"{result.topic}（{rules}，模型判断 {percent(result.score)}）"
        return f"{result.topic}（规则确定）"
    offered = [name for name, _ in result.candidates[:3]]
    if not offered and result.topic is not None:
        offered = [result.topic]
    if offered:
        return f"不确定：请居民在 {'/'.join(offered)} 中选择"
    return "无匹配，进入待分类"


def ranked_scores(exp: Explanation) -> list[tuple[str, float]]:
    """The rules' scores, best first, ties in the order the rules broke them (their verdict's
    candidates), so the first is the rules' best."""
    rules = exp.rules_result or exp.result
    order = {name: i for i, (name, _) in enumerate(rules.candidates)}
    return sorted(exp.scores.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order))))


def rules_unsure(exp: Explanation) -> bool:
    """The rules matched something but were not sure of it."""
    rules = exp.rules_result or exp.result
    return bool(exp.scores) and rules.unsure


def percent(p: float) -> str:
    """A probability as an admin reads it: 82%, <1%."""
    return "<1%" if 0 < p < 0.005 else f"{p:.0%}"

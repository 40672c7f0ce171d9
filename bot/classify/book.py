"""The database's rules, cached per process and rebuilt when any process changes them.

Every rule change bumps the `rules_version` counter in the same transaction; each process
reads that one number at most every `reload_seconds` and rebuilds its classifier when it
moved, so an admin's change applies everywhere within seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from models import TopicSpec, counters, load_specs, sync_topics, topic_by_name

from ..db import Database
from .engine import Classifier, Explanation
from .rulesfile import DEFAULT_RULES, load_rules_file


class RuleBook:
    def __init__(
        self,
        db: Database,
        *,
        threshold: float,
        margin: float,
        reload_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.threshold = threshold
        self.margin = margin
        self.reload_seconds = reload_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._classifier: Classifier | None = None
        self._version = -1
        self._next_check = 0.0

    def current(self) -> Classifier:
        """The classifier for the newest rules (checking the version at most so often)."""
        now = self.clock()
        if self._classifier is not None and now < self._next_check:
            return self._classifier
        with self._lock:
            if self._classifier is None or now >= self._next_check:
                with self.db.session(read_only=True) as db:
                    version = counters.current(db, counters.RULES_VERSION)
                    if self._classifier is None or version != self._version:
                        specs = load_specs(db)
                        self._classifier = Classifier(specs, self.threshold, self.margin)
                        self._version = version
                self._next_check = now + self.reload_seconds
            return self._classifier

    def refresh(self) -> None:
        """Check the version on the next `current()` (this process just changed the rules)."""
        with self._lock:
            self._next_check = 0.0

    def build(self, specs: list[TopicSpec]) -> Classifier:
        """A classifier for `specs` tuned like the live one (to try rules before saving them)."""
        return Classifier(specs, self.threshold, self.margin)


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


def render_explanation(exp: Explanation) -> str:
    """The classifier's reasoning, for an admin reading it in the chat or a terminal."""
    lines = [f"分词：{' / '.join(exp.tokens) or '（无）'}"]
    if exp.matches:
        hits = []
        for m in exp.matches:
            sign = "否决" if m.rule.kind == "exclude" else f"+{m.rule.weight:g}"
            hits.append(f"{m.rule.keyword}→{m.rule.topic}({sign})")
        lines.append("命中：" + "，".join(hits))
    else:
        lines.append("命中：（无）")
    if exp.scores:
        ranked = sorted(exp.scores.items(), key=lambda kv: -kv[1])
        lines.append("得分：" + "，".join(f"{t} {s:g}" for t, s in ranked))
    if exp.vetoed:
        lines.append("被否决：" + "，".join(exp.vetoed))
    result = exp.result
    if result.topic is None:
        verdict = "无匹配，进入待分类"
    elif result.unsure:
        verdict = f"{result.topic}（不确定：阈值 {exp.threshold:g}，领先差 {exp.margin:g}）"
    else:
        verdict = f"{result.topic}（确定）"
    lines.append(f"结果：{verdict}")
    return "\n".join(lines)

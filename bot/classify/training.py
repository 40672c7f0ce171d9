"""Training the learned classifier from what a deployment has: the starter set the project
ships and the tickets whose topic a person confirmed.

One path for every trainer — `yishiting model train`, `init`'s starter model, the nightly
retrain (bot/schedule/jobs.py): read the examples in a short read-only transaction, train
outside any transaction (seconds to a minute), save in another (models/learned.py
`save_model` bumps `model_version`, and every process's RuleBook loads the new model within
[classifier] reload_seconds).

What a model learns from: the starter set, and each confirmed ticket's text as the resident
wrote it under its topic's *current* name (a topic is never deleted, only switched off or, by
hand in the database, renamed: its tickets teach what the topic is called now; a switched-off
topic still trains — the Classifier only ranks the topics a rule set has enabled). Never a
ticket the classifier filed that nobody confirmed, never a text retention or an erasure
replaced, never the held-out set.

Texts are cut into words with the rules' keywords taught to jieba first (all the database's;
the starter rules' for the starter model), as every Classifier teaches them before it asks the
model, so a text yields the same features when the model learns and when it is asked.

The starter model is the same for every new database on a machine, so `init` keeps it: per
process, and on disk in the system temp directory under a hash of the starter set, the
starter rules, the model format, the code that makes features and trains, and the
scikit-learn, numpy and jieba versions; only the first `init` on a machine trains it (the test
suite calls `init` many times).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import KeywordRule, Ticket
from models.learned import ClassifierModel, newest_model, save_model
from models.privacy import ERASED_TEXT, EXPIRED_TEXT
from models.tickets import confirmed_tickets
from words import fold

from ..db import Database
from . import model as learned
from .engine import teach_jieba
from .evaluate import Labeled, read_labeled
from .rulesfile import DEFAULT_RULES, load_rules_file

log = logging.getLogger(__name__)

# Texts that are no longer what a resident wrote (retention, erasure): nothing to learn.
_REPLACED = (ERASED_TEXT, EXPIRED_TEXT)


class TrainingError(ValueError):
    """Nothing to train on, or a single topic: the reason, for an admin."""


@dataclass
class Trained:
    """A model and what it learned from, ready to save or write to a file."""

    model: learned.Model
    starter: int  # examples from the starter set
    confirmed: int  # examples from confirmed tickets
    last_ticket_id: int | None
    seconds: float  # reading and training
    by: str = "cli"
    trained_at: str = ""  # ISO time, UTC
    source: str | None = None  # the labeled file it learned from alone (no database)
    notes: list[str] = field(default_factory=list)

    @property
    def examples(self) -> int:
        return self.starter + self.confirmed

    def summary(self) -> dict[str, Any]:
        """What `model show` prints (kept as the row's summary and in the model's info)."""
        info = self.model.info
        found: dict[str, Any] = {
            "labels": info.get("labels", {}),
            "features": info.get("features", len(self.model.terms)),
            "examples": self.examples,
            "seconds": round(self.seconds, 2),
            "by": self.by,
            "trained_at": self.trained_at,
        }
        if self.source is not None:
            found["file"] = self.source
        else:
            found["starter"] = self.starter
            found["confirmed"] = self.confirmed
            found["last_ticket_id"] = self.last_ticket_id
        return found


def starter_items() -> list[Labeled]:
    """The shipped starter set (empty while the project ships none)."""
    if not learned.STARTER.exists():
        return []
    return read_labeled(learned.STARTER)


@dataclass
class ConfirmedExamples:
    items: list[Labeled]
    last_ticket_id: int | None


def confirmed_examples(db: Session) -> ConfirmedExamples:
    """Each confirmed ticket's text as written, labeled with its topic's current name."""
    items: list[Labeled] = []
    last: int | None = None
    for ticket in confirmed_tickets(db):
        if ticket.topic is None or ticket.text in _REPLACED or not ticket.text.strip():
            continue
        items.append(Labeled(ticket.text, ticket.topic.name))
        last = ticket.id if last is None else max(last, ticket.id)
    return ConfirmedExamples(items, last)


def teach_keywords(keywords: Sequence[str]) -> None:
    """Teach jieba the rules' keywords before training, as every Classifier does before it
    asks the model: a text is cut into the same words when the model learns and when it
    is asked (电梯坏了 one word, not 电梯 + 坏了, when it is a keyword)."""
    teach_jieba(key for key in (fold(k).strip() for k in keywords) if len(key) > 1)


def database_keywords(db: Session) -> list[str]:
    """Every keyword of the database's rules, the street's and each community's."""
    return list(db.scalars(select(KeywordRule.keyword).distinct()))


def default_keywords() -> list[str]:
    """The starter rules' keywords (what `init` seeds)."""
    return [rule.keyword for topic in load_rules_file(DEFAULT_RULES) for rule in topic.rules]


def count_confirmed(db: Session) -> int:
    """Confirmed tickets a training would learn from now (as `confirmed_examples` counts)."""
    query = select(func.count(Ticket.id)).where(
        Ticket.topic_confirmed, Ticket.topic_id.is_not(None), Ticket.text.not_in(_REPLACED)
    )
    return int(db.scalar(query) or 0)


def confirmed_since(db: Session, row: ClassifierModel | None) -> int:
    """How many more confirmed tickets there are than the model in use learned from."""
    return max(0, count_confirmed(db) - (row.confirmed if row is not None else 0))


def train_items(
    starter: Sequence[Labeled],
    confirmed: Sequence[Labeled],
    *,
    last_ticket_id: int | None = None,
    by: str = "cli",
    now: datetime | None = None,
    source: str | None = None,
) -> Trained:
    """Train on `starter` + `confirmed` (or the items of the labeled file `source`, given as
    `starter`); TrainingError when they name fewer than two topics."""
    items = [*starter, *confirmed]
    if not items:
        raise TrainingError("no labeled texts to learn from")
    labels = sorted({item.label for item in items})
    if len(labels) < 2:
        raise TrainingError(
            f"every labeled text is under one topic ({labels[0]}): "
            "a model needs texts of at least two topics"
        )
    started = time.perf_counter()
    model = learned.train(items)
    trained = Trained(
        model,
        len(starter),
        len(confirmed),
        last_ticket_id,
        time.perf_counter() - started,
        by=by,
        trained_at=now.isoformat(timespec="seconds") if now else "",
        source=source,
    )
    model.info.update(trained.summary())
    return trained


def train_from_database(db: Database, *, by: str, now: datetime) -> Trained:
    """The starter set and every confirmed ticket, read in one short transaction."""
    started = time.perf_counter()
    with db.session(read_only=True) as session:
        found = confirmed_examples(session)
        teach_keywords(database_keywords(session))
    starter = starter_items()
    trained = train_items(starter, found.items, last_ticket_id=found.last_ticket_id, by=by, now=now)
    trained.seconds = time.perf_counter() - started
    trained.model.info.update(trained.summary())
    if not starter:
        trained.notes.append("no starter set shipped: learned from confirmed tickets only")
    return trained


def save_trained(session: Session, trained: Trained, *, now: datetime) -> ClassifierModel:
    """Store `trained` as the model in use (every process loads it within reload_seconds)."""
    return save_model(
        session,
        trained.model.to_bytes(),
        now=now,
        by=trained.by[:64],
        examples=trained.examples,
        confirmed=trained.confirmed,
        last_ticket_id=trained.last_ticket_id,
        summary=json.dumps(trained.summary(), ensure_ascii=False),
    )


def row_summary(row: ClassifierModel) -> dict[str, Any]:
    try:
        found = json.loads(row.summary or "{}")
    except ValueError:
        found = {}
    return found if isinstance(found, dict) else {}


def retrain_if_due(db: Database, *, now: datetime, minimum: int, by: str = "scheduler") -> str:
    """The nightly retrain: train and save when at least `minimum` tickets were confirmed
    since the model in use learned (0: never); a one-line summary for the job record."""
    if minimum <= 0:
        return "off ([classifier] retrain_min_new = 0)"
    with db.session(read_only=True) as session:
        row = newest_model(session)
        since = confirmed_since(session, row)
    which = f"model #{row.id}" if row is not None else "no model"
    if since < minimum:
        return f"{since} ticket(s) confirmed since {which}; retrains from {minimum}"
    try:
        trained = train_from_database(db, by=by, now=now)
    except TrainingError as exc:
        return f"{since} ticket(s) confirmed since {which}; not trained: {exc}"
    with db.session() as session:
        saved = save_trained(session, trained, now=now)
        saved_id = saved.id
    return (
        f"{since} ticket(s) confirmed since {which}: trained model #{saved_id} on "
        f"{trained.examples} examples ({trained.confirmed} confirmed tickets) "
        f"in {trained.seconds:.1f} s"
    )


# -- the starter model, cached ---------------------------------------------------------------


@dataclass(frozen=True)
class StarterModel:
    data: bytes  # as saved
    info: dict[str, Any]  # what it learned from (Model.info)


_memo: dict[str, StarterModel] = {}


def starter_key() -> str | None:
    """What the starter model depends on, hashed; None while no starter set is shipped."""
    if not learned.STARTER.exists():
        return None
    digest = hashlib.sha256()
    digest.update(learned.STARTER.read_bytes())
    digest.update(Path(learned.__file__).read_bytes())  # features, training's settings
    digest.update(Path(DEFAULT_RULES).read_bytes())  # the words jieba is taught
    digest.update(f"format {learned.FORMAT}".encode())
    for package in ("scikit-learn", "numpy", "jieba"):
        digest.update(f"{package} {metadata.version(package)}".encode())
    return digest.hexdigest()[:24]


def starter_model(folder: Path | None = None) -> StarterModel | None:
    """The starter model (trained once per machine), or None while no starter set exists."""
    key = starter_key()
    if key is None:
        return None
    found = _memo.get(key)
    if found is not None:
        return found
    path = (folder or Path(tempfile.gettempdir())) / f"yishiting-starter-{key}.model"
    found = _read_cached(path)
    if found is None:
        teach_keywords(default_keywords())
        trained = train_items(starter_items(), [], by="init")
        found = StarterModel(trained.model.to_bytes(), trained.model.info)
        _write_atomically(path, found.data)
    _memo[key] = found
    return found


def starter_model_bytes(folder: Path | None = None) -> bytes | None:
    found = starter_model(folder)
    return found.data if found is not None else None


def _read_cached(path: Path) -> StarterModel | None:
    """The cached model if this user wrote it (another user's file in a shared temp
    directory is not trusted) and it reads as a model."""
    try:
        if path.stat().st_uid != os.getuid():
            return None
        data = path.read_bytes()
        return StarterModel(data, learned.Model.from_bytes(data).info)
    except (OSError, ValueError):
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except OSError:  # a cache only: the next init trains again
        log.warning("could not keep the starter model in %s", path.parent, exc_info=True)


def seed_starter_model(session: Session, now: datetime) -> ClassifierModel | None:
    """When no model exists yet, save the starter model as the one in use (init)."""
    if newest_model(session) is not None:
        return None
    starter = starter_model()
    if starter is None:
        return None
    info = {**starter.info, "by": "init", "trained_at": now.isoformat(timespec="seconds")}
    return save_model(
        session,
        starter.data,
        now=now,
        by="init",
        examples=int(info.get("examples", 0)),
        confirmed=0,
        last_ticket_id=None,
        summary=json.dumps(info, ensure_ascii=False),
    )


__all__ = [
    "Trained",
    "TrainingError",
    "confirmed_examples",
    "confirmed_since",
    "count_confirmed",
    "save_trained",
    "seed_starter_model",
    "starter_items",
    "starter_model_bytes",
    "train_from_database",
    "train_items",
]

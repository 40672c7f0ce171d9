"""The learned classifier's models, kept in the database so that every process runs the same.

Each training (`yishiting model train`, `init`'s starter model, the nightly retrain) saves one
row and bumps the `model_version` counter in the same transaction; each process checks that
number at most every [classifier] reload_seconds and loads the newest row when it moved
(bot/classify/book.py), as it does for the rules. The model itself is bytes that
bot/classify/model.py writes and reads (numpy arrays, no pickle).

A model is only ever trained on the shipped starter set and on tickets whose topic a person
confirmed (Ticket.topic_confirmed), never on the classifier's own guesses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import counters
from .base import Base, UTCDateTime

KEEP = 5  # older models are deleted when a new one is saved


class ClassifierModel(Base):
    __tablename__ = "classifier_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))  # "init", "cli", "scheduler", a name
    # What it learned from: labeled texts in all, of which confirmed tickets; the newest
    # confirmed ticket's id then (the nightly retrain counts what came after).
    examples: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    last_ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A JSON summary to show an admin (labels and their counts, held-out scores, timing).
    summary: Mapped[str] = mapped_column(Text, default="{}")
    data: Mapped[bytes] = mapped_column(LargeBinary)


def save_model(
    db: Session,
    data: bytes,
    *,
    now: datetime,
    by: str,
    examples: int,
    confirmed: int,
    last_ticket_id: int | None,
    summary: str = "{}",
) -> ClassifierModel:
    """Store a newly trained model as the one in use, keep the last few, tell every process."""
    row = ClassifierModel(
        created_at=now,
        created_by=by,
        examples=examples,
        confirmed=confirmed,
        last_ticket_id=last_ticket_id,
        summary=summary,
        data=data,
    )
    db.add(row)
    db.flush()
    old = db.scalars(
        select(ClassifierModel.id).order_by(ClassifierModel.id.desc()).offset(KEEP)
    ).all()
    if old:
        # One statement, without loading the old models' bytes; a row another training
        # saving at the same moment deleted first is simply gone (no stale-row warning).
        db.execute(delete(ClassifierModel).where(ClassifierModel.id.in_(old)))
    counters.bump(db, counters.MODEL_VERSION)
    return row


def newest_model(db: Session) -> ClassifierModel | None:
    """The model in use: the newest saved (None before any training)."""
    return db.scalars(select(ClassifierModel).order_by(ClassifierModel.id.desc()).limit(1)).first()

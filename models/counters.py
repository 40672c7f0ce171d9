"""Named counters: ticket numbers, the rules version. One row each, bumped atomically."""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base

TICKET_NUMBER = "ticket_number"
RULES_VERSION = "rules_version"


class Counter(Base):
    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# Built once: bumping runs for every ticket filed.
_BUMP = (
    update(Counter)
    .where(Counter.name == bindparam("counter_name"))
    .values(value=Counter.value + 1)
    .returning(Counter.value)
)


def bump(db: Session, name: str) -> int:
    """Add one and return the new value (the row lock serialises concurrent bumps)."""
    value = db.scalar(_BUMP, {"counter_name": name})
    if value is None:
        db.add(Counter(name=name, value=1))
        db.flush()
        return 1
    return int(value)


def current(db: Session, name: str) -> int:
    return int(db.scalar(select(Counter.value).where(Counter.name == name)) or 0)

"""Named counters: ticket numbers, the rules version. One row each, bumped atomically."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base
from .prepared import Prepared, connection_of

TICKET_NUMBER = "ticket_number"
RULES_VERSION = "rules_version"
MODEL_VERSION = "model_version"  # bumped when a new classifier model is saved (learned.py)
POLL_NUMBER = "poll_number"
AGENDA_NUMBER = "agenda_number"  # 议题 #N
MEETING_NUMBER = "meeting_number"  # 议事会 #M


class Counter(Base):
    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


_TABLE = cast(Table, Counter.__table__)
# Run on the driver's cursor (see prepared.py): bumping runs for every ticket filed.
_BUMP = Prepared(
    update(_TABLE)
    .where(_TABLE.c.name == bindparam("counter_name"))
    .values(value=_TABLE.c.value + 1)
    .returning(_TABLE.c.value)
)


def bump(db: Session, name: str) -> int:
    """Add one and return the new value (the row lock serialises concurrent bumps).

    The rows exist from the first migration on, so this is always one UPDATE.
    """
    [(value,)] = _BUMP.run(connection_of(db), {"counter_name": name})
    return int(value)


def current(db: Session, name: str) -> int:
    return int(db.scalar(select(Counter.value).where(Counter.name == name)) or 0)

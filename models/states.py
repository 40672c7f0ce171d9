"""Conversation states: a question the bot asked and the answer it waits for, with an expiry.

A person's pending states are kept in the database (any process may get the answer). The
person row carries the latest expiry, so a message from someone with nothing pending costs
no extra query.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .people import Person


class ConversationState(Base):
    __tablename__ = "conversation_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def values(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded


def push_state(
    db: Session,
    person_id: int,
    kind: str,
    data: dict[str, Any],
    *,
    now: datetime,
    ttl: timedelta,
) -> ConversationState:
    """Wait for the person's answer to a question, until `now + ttl`."""
    state = ConversationState(
        person_id=person_id,
        kind=kind,
        data=json.dumps(data, ensure_ascii=False),
        created_at=now,
        expires_at=now + ttl,
    )
    db.add(state)
    db.execute(
        update(Person).where(Person.id == person_id).values(state_expires_at=state.expires_at)
    )
    return state


def pending_states(db: Session, person_id: int, now: datetime) -> list[ConversationState]:
    """The person's unexpired states, the most recent first; expired ones are removed."""
    db.execute(
        delete(ConversationState).where(
            ConversationState.person_id == person_id, ConversationState.expires_at <= now
        )
    )
    return list(
        db.scalars(
            select(ConversationState)
            .where(ConversationState.person_id == person_id)
            .order_by(ConversationState.created_at.desc(), ConversationState.id.desc())
        )
    )


def drop_state(db: Session, state: ConversationState) -> None:
    db.delete(state)

"""Conversation states: a question the bot asked and the answer it waits for, with an expiry.

A person's pending states are kept in the database (any process may get the answer). The
person row carries the latest expiry, so a message from someone with nothing pending costs
no extra query.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, Text, case, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .people import Person

# The questions a conversation state waits on, named once: the handler that asks (or a
# sweep in models/sweeps/ that asks for it) and the handler that takes the answer share them.
CHOOSE_TOPIC = "choose_topic"  # an unsure ticket: which topic (handlers/report.py)
RATE = "rate"  # 1 满意 2 基本满意 3 不满意 (after 办结, and the rating reminder)
REOPEN_DETAIL = "reopen_detail"  # 不满意: what is still wrong
FOLLOWUP = "followup"  # 回头看: 1 已解决 2 问题还在
CHOOSE_OPTION = "vote"  # a poll's options were shown: which one (handlers/vote.py)
# A street-wide account's resident reported before saying which community they live in: the
# report waits in the state for their answer (handlers/report.py).
CHOOSE_COMMUNITY = "choose_community"
CHOOSE_BIND_COMMUNITY = "bind_community"  # 绑定: the building is in several communities
# 议: a finished 议题's 评议 (1 满意 2 基本满意 3 不满意) and its 回头看 (1 held 2 did not).
AGENDA_RATE = "agenda_rate"
AGENDA_REVIEW = "agenda_review"
# Not a question: a photo, location, voice or video sent before any text, kept for [tickets]
# attach_minutes to join the ticket the person's next text files (handlers/report.py).
HELD = "held"
STATES = (
    CHOOSE_TOPIC,
    RATE,
    REOPEN_DETAIL,
    FOLLOWUP,
    CHOOSE_OPTION,
    CHOOSE_COMMUNITY,
    CHOOSE_BIND_COMMUNITY,
    AGENDA_RATE,
    AGENDA_REVIEW,
    HELD,
)


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
    # The latest expiry of all the person's states (a short one pushed after a long one
    # must not hide it).
    later = case(
        (Person.state_expires_at > state.expires_at, Person.state_expires_at),
        else_=state.expires_at,
    )
    db.execute(update(Person).where(Person.id == person_id).values(state_expires_at=later))
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


def drop_expired_states(db: Session, now: datetime) -> int:
    """Questions nobody answered in time ("which topic?") are forgotten; how many."""
    result = db.execute(delete(ConversationState).where(ConversationState.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]

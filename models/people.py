"""People: everyone who has written to the account, and their role."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime


class Role(enum.IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    RESIDENT = 1
    STAFF = 2
    ADMIN = 3


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda roles: [r.name.lower() for r in roles],
        ),
        default=Role.RESIDENT,
    )
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Any inbound message or event.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last message the person wrote (not an event): it opens WeChat's 48-hour
    # customer-service window, so the delivery channel reads it.
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def touch_person(db: Session, openid: str, now: datetime, *, wrote: bool) -> Person:
    """The person behind `openid`, created on first contact, with their last-seen times."""
    person = db.scalars(select(Person).where(Person.openid == openid)).one_or_none()
    if person is None:
        person = Person(openid=openid, role=Role.RESIDENT, first_seen_at=now, last_seen_at=now)
        db.add(person)
    person.last_seen_at = now
    if wrote:
        person.last_message_at = now
    return person


def set_following(person: Person, following: bool) -> None:
    """Record a follow (subscribe) or an unfollow (unsubscribe)."""
    person.following = following

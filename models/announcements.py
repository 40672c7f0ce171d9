"""Announcements (通知): a committee's notice to residents, queued as one push per person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import pushes
from .base import Base, UTCDateTime
from .outbox import Push, enqueue
from .people import Person

NOTICE = pushes.NOTICE.name
MASS_NOTICE = pushes.NOTICE_MASS.name
# WeChat's mass send takes at most this many openids per call.
MASS_CHUNK = 10_000


class Announcement(Base):
    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given by the sender to make a repeated command a no-op (unique when set).
    key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(200))  # "all", "openid:…", "grid:…"
    # The community it was sent to; None: street-wide.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    broadcast: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recipients: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Announced:
    announcement_id: int
    queued: int  # pushes newly queued by this call
    recipients: int  # people the announcement is for
    repeated: bool  # the key was used before: nothing new was created


def announce(
    db: Session,
    *,
    text: str,
    people: Sequence[Person],
    audience: str,
    now: datetime,
    actor: str,
    key: str | None = None,
    broadcast: bool = False,
    community_id: int | None = None,
) -> Announced:
    """Queue `text` for `people`: one push each, or mass-send chunks when `broadcast`.

    Idempotent per announcement and recipient: the pushes' dedupe keys are
    `notice:<announcement>:<person>`; with the same `key`, a second call queues only the
    people not yet queued (e.g. someone who followed since).
    """
    existing = (
        db.scalars(select(Announcement).where(Announcement.key == key)).one_or_none()
        if key
        else None
    )
    if existing is None:
        existing = Announcement(
            key=key,
            text=text,
            audience=audience,
            community_id=community_id,
            broadcast=broadcast,
            created_by=actor,
            created_at=now,
            recipients=0,
        )
        db.add(existing)
        db.flush()
        repeated = False
    else:
        repeated = True
    announcement = existing
    queued = 0
    payload = {"announcement": announcement.id, "text": announcement.text}
    if broadcast:
        recipients = 0
        for account, followers in _by_account(people).items():
            if len(followers) == 1:  # WeChat's mass send takes two openids or more
                only = followers[0]
                queued += enqueue(db, pushes.NOTICE.push(only.id, **payload), now) is not None
                recipients += 1
                continue
            openids = sorted(p.openid for p in followers)
            for start in range(0, len(openids), MASS_CHUNK):
                chunk = openids[start : start + MASS_CHUNK]
                push = _mass(payload, account, chunk, start // MASS_CHUNK)
                queued += len(chunk) if enqueue(db, push, now) is not None else 0
            recipients += len(openids)
    else:
        recipients = 0
        for person in people:
            if not person.following:
                continue
            recipients += 1
            push = pushes.NOTICE.push(person.id, **payload)
            if enqueue(db, push, now) is not None:
                queued += 1
    announcement.recipients = max(announcement.recipients, recipients)
    return Announced(announcement.id, queued, recipients, repeated)


def _by_account(people: Sequence[Person]) -> dict[str | None, list[Person]]:
    """The followers per account they follow (an openid is one account's: a mass send
    through another account would not reach them)."""
    found: dict[str | None, list[Person]] = {}
    for person in people:
        if person.following:
            found.setdefault(person.account, []).append(person)
    return found


def _mass(payload: dict[str, Any], account: str | None, openids: list[str], n: int) -> Push:
    """One mass-send chunk; the first account's chunks keep the keys they always had."""
    if account is None:
        return pushes.NOTICE_MASS.push(None, **payload, openids=openids, chunk=n)
    chunk = f"{account}.{n}"
    return pushes.NOTICE_MASS.push(None, **payload, openids=openids, account=account, chunk=chunk)

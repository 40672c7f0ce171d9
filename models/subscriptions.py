"""Subscription notices (订阅通知): which notices each person has agreed to receive.

WeChat tells the account in events (subscribe_msg_popup_event / _change_event /
_sent_event) which notice templates a person accepted or refused. A one-time subscription
allows one notice per "accept" (they add up); a long-term one (政务民生 accounts) allows any
number until the person refuses. The delivery takes one with `use_subscription` before it
sends, so two workers never spend the same one, and gives it back if the send failed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Connection,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime

ACCEPT = "accept"
REJECT = "reject"


class Subscription(Base):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    template_id: Mapped[str] = mapped_column(String(128))
    # The person's last word: accepted (True) or refused (False).
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    # One-time notices still allowed (each "accept" adds one; each notice sent takes one).
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("person_id", "template_id", name="uq_subscription_person_template"),
    )


def record_subscriptions(
    db: Session, person_id: int, choices: Iterable[tuple[str, str]], now: datetime
) -> None:
    """The person accepted or refused these notice templates ((template id, "accept" or
    "reject") pairs, as the event lists them); other statuses change nothing."""
    for template_id, status in choices:
        if status not in (ACCEPT, REJECT):
            continue
        row = db.scalars(
            select(Subscription).where(
                Subscription.person_id == person_id, Subscription.template_id == template_id
            )
        ).one_or_none()
        if row is None:
            row = Subscription(person_id=person_id, template_id=template_id, remaining=0)
            db.add(row)
        row.accepted = status == ACCEPT
        row.remaining = (row.remaining or 0) + 1 if status == ACCEPT else 0
        row.updated_at = now
        db.flush()


def subscribed(conn: Connection, person_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Per person, the notice templates they accepted and have not refused since, with the
    one-time notices left of each."""
    ids = list(person_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(Subscription.person_id, Subscription.template_id, Subscription.remaining).where(
            Subscription.person_id.in_(ids), Subscription.accepted.is_(True)
        )
    ).all()
    found: dict[int, dict[str, int]] = {}
    for person_id, template_id, remaining in rows:
        found.setdefault(person_id, {})[template_id] = remaining
    return found


def use_subscription(
    conn: Connection, person_id: int, template_id: str, *, long_term: bool, now: datetime
) -> bool:
    """Take one notice from the person's subscription; False when none is left."""
    mine = (Subscription.person_id == person_id, Subscription.template_id == template_id)
    if long_term:
        found = conn.execute(
            select(Subscription.id).where(*mine, Subscription.accepted.is_(True))
        ).first()
        return found is not None
    # One statement: two workers cannot both take the last one.
    taken = conn.execute(
        update(Subscription)
        .where(*mine, Subscription.accepted.is_(True), Subscription.remaining > 0)
        .values(remaining=Subscription.remaining - 1, updated_at=now)
    )
    return bool(taken.rowcount)


def give_back(conn: Connection, person_id: int, template_id: str, now: datetime) -> None:
    """A send that failed for a reason of WeChat's own: the notice is still allowed."""
    conn.execute(
        update(Subscription)
        .where(
            Subscription.person_id == person_id,
            Subscription.template_id == template_id,
            Subscription.accepted.is_(True),
        )
        .values(remaining=Subscription.remaining + 1, updated_at=now)
    )


def refused(conn: Connection, person_id: int, template_id: str, now: datetime) -> None:
    """WeChat said the person refuses this notice (43101): the subscription is gone."""
    conn.execute(
        update(Subscription)
        .where(Subscription.person_id == person_id, Subscription.template_id == template_id)
        .values(accepted=False, remaining=0, updated_at=now)
    )

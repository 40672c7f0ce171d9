"""Every message WeChat delivers, kept once: the dedupe key is unique in the database.

WeChat delivers a message up to three times when our answer is slow. The first delivery
inserts the row (in the same transaction as everything the message causes); a retry hits the
unique constraint, waits for the first transaction to finish (the database makes it wait),
and answers with the reply stored here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .outbox import enqueue
from .people import Person
from .prepared import Prepared
from .pushes import INBOUND_REPLY

# The key's column length; an event's name and key are hashed when they would not fit.
DEDUPE_KEY_LENGTH = 200
FAILED = "failed"


class InboundMessage(Base):
    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(DEDUPE_KEY_LENGTH), unique=True)
    # Not indexed: nothing looks messages up by sender on the hot path, and every index is
    # one more page each message's commit writes.
    openid: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))  # text, image, event:subscribe, ...
    msg_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # 64-bit, as text
    content: Mapped[str | None] = mapped_column(Text, nullable=True)  # what the person sent
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # "done" once handled; "failed" when handling raised and the apology was stored instead.
    status: Mapped[str] = mapped_column(String(16), default="done")
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)  # None = "success"
    # The exception's class name when handling failed; never its message (SQL parameters
    # in it hold what residents wrote).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    # Failed messages are few and listed for staff; a partial index finds them without
    # scanning every message (and costs nothing when a message is handled).
    __table_args__ = (
        Index(
            "ix_inbound_message_failed",
            "received_at",
            sqlite_where=text("status = 'failed'"),
            postgresql_where=text("status = 'failed'"),
        ),
    )


def dedupe_key(
    *,
    msg_id: str | None,
    openid: str,
    create_time: int,
    event: str | None,
    event_key: str | None = None,
) -> str:
    """Who sent it and which of theirs it is: FromUserName + MsgId for messages;
    FromUserName + CreateTime + Event + EventKey for events (they have no MsgId).

    The sender is part of every key: a MsgId is unique per sender only as far as we can
    verify, and two menu taps in one second differ only by their EventKey. The openid stays
    readable (erasure finds and rewrites keys that hold it, models/privacy.py)."""
    if msg_id:
        return f"msg:{openid}:{msg_id}"
    key = f"evt:{openid}:{create_time}:{event or ''}:{event_key or ''}"
    if len(key) <= DEDUPE_KEY_LENGTH:
        return key
    tail = hashlib.sha256(f"{event or ''}\0{event_key or ''}".encode()).hexdigest()
    return f"evt:{openid}:{create_time}:#{tail}"


def find_inbound(db: Session, key: str) -> InboundMessage | None:
    return db.scalars(select(InboundMessage).where(InboundMessage.dedupe_key == key)).one_or_none()


# Plain Core statements, compiled once: they run for every message WeChat sends.
_TABLE = cast(Table, InboundMessage.__table__)
_CLAIM_KEYS = [
    "dedupe_key",
    "openid",
    "kind",
    "msg_id",
    "content",
    "received_at",
    "status",
]
_CLAIM = Prepared(insert(_TABLE).returning(_TABLE.c.id), keys=_CLAIM_KEYS)
_REPLY = Prepared(
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("inbound_id"))
    .values(person_id=bindparam("person_id"), reply=bindparam("reply"))
)


def claim_inbound(
    conn: Connection,
    *,
    key: str,
    openid: str,
    kind: str,
    msg_id: str | None,
    content: str | None,
    now: datetime,
) -> int:
    """Insert the message under its unique dedupe key; return its id. IntegrityError if taken.

    On the database's side, a second insert of the same key waits until the first insert's
    transaction ends: that is what makes a concurrent retry wait for the first delivery.
    """
    values = {
        "dedupe_key": key,
        "openid": openid,
        "kind": kind,
        "msg_id": msg_id,
        "content": content,
        "received_at": now,
        "status": "done",
    }
    [(inbound_id,)] = _CLAIM.run(conn, values)
    return int(inbound_id)


def record_reply(conn: Connection, inbound_id: int, *, person_id: int, reply: str | None) -> None:
    """Store the reply, so a retry of the same message gets the same answer."""
    _REPLY.run(conn, {"inbound_id": inbound_id, "person_id": person_id, "reply": reply})


def push_late_reply(
    conn: Connection, key: str, *, person_id: int, reply: str, now: datetime
) -> None:
    """The reply to a message staff retried from the console cannot be passive: it is pushed,
    once per message (`key`, the message's dedupe key)."""
    enqueue(conn, INBOUND_REPLY.push(person_id, text=reply, receipt=key), now)


# Written as the partial index's own condition, literally: SQLite uses a partial index only
# when the query's WHERE names the same constant (a bound parameter would not do).
_IS_FAILED = text("inbound_message.status = 'failed'")


def failed_messages(
    db: Session, limit: int = 200, community_id: int | None = None
) -> list[InboundMessage]:
    """Messages whose handling failed, newest first (the console and `inbound list`); from
    the people of `community_id` only, when given."""
    query = (
        select(InboundMessage)
        .where(_IS_FAILED)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit)
    )
    if community_id is not None:
        people = select(Person.id).where(Person.community_id == community_id)
        query = query.where(InboundMessage.person_id.in_(people))
    return list(db.scalars(query))


def count_failed(db: Session) -> int:
    query = select(func.count()).select_from(InboundMessage)
    return int(db.scalar(query.where(_IS_FAILED)) or 0)


def drop_failed(conn: Connection, inbound_id: int) -> bool:
    """Remove a failed message's row (its retry claims the key again, in the same
    transaction); False when it is not there or not failed any more."""
    result = conn.execute(
        delete(_TABLE).where(_TABLE.c.id == inbound_id, _TABLE.c.status == FAILED)
    )
    return bool(result.rowcount)


def note_failure(db: Session, inbound_id: int, error: str) -> None:
    """A retry failed again: keep the newest error class."""
    db.execute(update(InboundMessage).where(InboundMessage.id == inbound_id).values(error=error))

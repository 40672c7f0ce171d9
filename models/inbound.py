"""Every message WeChat delivers, kept once: the dedupe key is unique in the database.

WeChat delivers a message up to three times when our answer is slow. The first delivery
inserts the row (in the same transaction as everything the message causes); a retry hits the
unique constraint, waits for the first transaction to finish (the database makes it wait),
and answers with the reply stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    Connection,
    ForeignKey,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime
from .prepared import Prepared


class InboundMessage(Base):
    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
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
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


def dedupe_key(*, msg_id: str | None, openid: str, create_time: int, event: str | None) -> str:
    """MsgId for messages; FromUserName + CreateTime + Event for events (they have no MsgId)."""
    if msg_id:
        return f"msg:{msg_id}"
    return f"evt:{openid}:{create_time}:{event or ''}"


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

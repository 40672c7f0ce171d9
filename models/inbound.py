"""Every message WeChat delivers, kept once: the dedupe key is unique in the database.

WeChat delivers a message up to three times when our answer is slow. The first delivery
inserts the row (in the same transaction as everything the message causes); a retry hits the
unique constraint, waits for the first transaction to finish (the database makes it wait),
and answers with the reply stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime


class InboundMessage(Base):
    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
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

"""Every API request, kept: which key, which route, what answer. The same rows are the rate
limit's count (requests by a key in the last minute), so the limit holds across processes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..base import Base, UTCDateTime


class ApiRequest(Base):
    __tablename__ = "api_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: no key, or one that does not exist (the request was refused).
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(200))  # the rule, e.g. /api/v1/tickets/<number>
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_api_request_key_at", "key_id", "at"),)


def record_request(
    db: Session, *, key_id: int | None, method: str, route: str, status: int, now: datetime
) -> None:
    db.add(ApiRequest(key_id=key_id, method=method[:8], route=route[:200], status=status, at=now))


def recent_requests(db: Session, key_id: int, now: datetime, seconds: float = 60) -> int:
    """How many requests `key_id` made in the last `seconds`."""
    since = now - timedelta(seconds=seconds)
    query = select(func.count()).where(ApiRequest.key_id == key_id, ApiRequest.at > since)
    return int(db.scalar(query) or 0)

"""Every API request, kept: which key, which route, what answer. The same rows are the rate
limit's count (requests by a key in the last minute), so the limit holds across processes.

Every API request passes here twice (the door's question before, the audit row after), so
those two run as prepared statements on the driver (models/prepared.py), like intake's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..base import Base, UTCDateTime
from ..prepared import Prepared
from .keys import ApiKey, digest


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


_R = cast(Table, ApiRequest.__table__)
_K = cast(Table, ApiKey.__table__)
_COUNTED = (_R.c.key_id == _K.c.id, _R.c.at > bindparam("since"), _R.c.status != 429)
# The door's one question: the key with this hash, and its requests of the last minute (the
# refused ones, 429, do not count: a client that waits as told gets through).
_DOOR = Prepared(
    select(
        _K.c.id,
        _K.c.name,
        _K.c.scopes,
        _K.c.community_id,
        _K.c.revoked_at,
        select(func.count()).where(*_COUNTED).scalar_subquery(),
        select(func.min(_R.c.at)).where(*_COUNTED).scalar_subquery(),
    ).where(_K.c.key_hash == bindparam("key_hash"))
)
_RECORD = Prepared(insert(_R), keys=["key_id", "method", "route", "status", "at"])
_TOUCH = Prepared(
    update(_K).where(_K.c.id == bindparam("key_id")).values(last_used_at=bindparam("at"))
)


@dataclass(frozen=True)
class Door:
    """What the door knows of a request's key."""

    key_id: int
    name: str
    scopes: frozenset[str]
    community_id: int | None
    revoked_at: datetime | None
    recent: int  # requests it made in the last minute (not counting those refused 429)
    oldest: datetime | None  # the oldest of them


def door(conn: Connection, secret: str, now: datetime) -> Door | None:
    """The key with `secret` and its last minute's requests (None: no such key)."""
    since = now - timedelta(seconds=60)
    rows = _DOOR.run(conn, {"key_hash": digest(secret), "since": since})
    if not rows:
        return None
    key_id, name, scopes, community_id, revoked_at, recent, oldest = rows[0]
    scope_set = frozenset(s for s in str(scopes).split(",") if s)
    return Door(key_id, name, scope_set, community_id, revoked_at, int(recent), oldest)


def audit_request(
    conn: Connection, *, key_id: int | None, method: str, route: str, status: int, now: datetime
) -> None:
    """One audit row; and the key's last use, when there was a key."""
    values = {"key_id": key_id, "method": method[:8], "route": route[:200], "status": status}
    _RECORD.run(conn, {**values, "at": now})
    if key_id is not None:
        _TOUCH.run(conn, {"key_id": key_id, "at": now})

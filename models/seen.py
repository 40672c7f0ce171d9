"""The (timestamp, nonce) pairs of signed webhook requests already used, shared by every
process through the database.

Plain mode's signature covers the token, the timestamp and the nonce but not the body, so a
signed URL seen once (a proxy log, a browser history) could carry any body. Each pair is
recorded with a hash of the message it carried, in the message's own transaction: the same
pair with the same message is WeChat delivering again (its retries repeat the query string),
the same pair with another message is a forgery. Rows older than the clock-skew window are
useless — a request that old is refused by its timestamp — and the scheduler's sweep deletes
them (bot/schedule/jobs.py).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Connection, String, Table, delete, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base
from .prepared import Prepared

NONCE_LENGTH = 64


class SeenRequest(Base):
    __tablename__ = "seen_request"
    # On SQLite the rows live in the primary key's b-tree itself: one page written per
    # message's commit instead of two (a table and its key's index).
    __table_args__ = {"sqlite_with_rowid": False}

    # The primary key's order serves the sweep's range delete on the timestamp.
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(NONCE_LENGTH), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the (decrypted) XML, hex


_TABLE = cast(Table, SeenRequest.__table__)
_RECORD = Prepared(insert(_TABLE), keys=["timestamp", "nonce", "body_hash"])


def record_seen(conn: Connection, *, timestamp: int, nonce: str, body_hash: str) -> None:
    """Record the pair in `conn`'s transaction; IntegrityError when it was used already (a
    concurrent request with the same pair waits for the first one's transaction to end)."""
    _RECORD.run(conn, {"timestamp": timestamp, "nonce": nonce, "body_hash": body_hash})


def seen_body(conn: Connection, timestamp: int, nonce: str) -> str | None:
    """The body hash the pair was first used with, None if it was not."""
    query = select(_TABLE.c.body_hash).where(
        _TABLE.c.timestamp == timestamp, _TABLE.c.nonce == nonce
    )
    return conn.execute(query).scalar_one_or_none()


def forget_seen(db: Session, before: int) -> int:
    """Delete the pairs whose timestamp is older than `before` (epoch seconds)."""
    result = db.execute(delete(SeenRequest).where(SeenRequest.timestamp < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

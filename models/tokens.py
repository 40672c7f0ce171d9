"""Access tokens shared by every process: one row per API app, with its expiry.

WeChat invalidates the previous token a few minutes after each fetch and allows 2,000 fetches
a day, so a token is fetched in one place for all processes and kept here; the refresh takes a
row lock (PostgreSQL) or the write lock (SQLite), so one process refreshes at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime


class AccessToken(Base):
    __tablename__ = "access_token"

    # "wechat" (the legacy account), "wechat:<AppID>" (an [[accounts]] entry), "wecom"
    app: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fetches: Mapped[int] = mapped_column(default=0)


def lock_token_row(db: Session, app: str) -> AccessToken:
    """The app's row, created if missing, locked until the transaction ends."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.execute(
        insert(AccessToken)
        .values(app=app, fetches=0)
        .on_conflict_do_nothing(index_elements=[AccessToken.app])
    )
    query = select(AccessToken).where(AccessToken.app == app)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.scalars(query).one()


def read_token(db: Session, app: str) -> tuple[str | None, datetime | None]:
    row = db.get(AccessToken, app)
    if row is None:
        return None, None
    return row.token, row.expires_at

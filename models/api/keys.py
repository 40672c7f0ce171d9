"""API keys: who a city platform's request is from, what it may do, and in which community.

A key is shown once, when it is made (`create_key` returns the secret); only its SHA-256 is
kept (a key is 256 random bits, so a fast hash is as good as a slow one), with its first
characters to tell keys apart in the console. A revoked key stays, so the audit can name it.
Scopes: tickets:read, tickets:write, agenda:read, polls:read, and personal (phones and
openids unmasked). A key with a community sees only that community; without one, the street.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..base import Base, UTCDateTime

SCOPES = ("tickets:read", "tickets:write", "agenda:read", "polls:read", "personal")
PREFIX = "yst_"
SHOWN = 10  # characters of a key kept in clear to tell keys apart: "yst_" + 6


class ApiKey(Base):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))  # as the admin wrote it, e.g. 12345平台
    shown: Mapped[str] = mapped_column(String(16))  # the key's first SHOWN characters
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    scopes: Mapped[str] = mapped_column(String(200))  # comma-separated, in SCOPES order
    # The community it may see and act in; None: the whole street.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))  # console account or 命令行
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)


class ApiKeyError(Exception):
    """A key cannot be made or changed as asked; `reason` names why (bot words it)."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(f"{reason}: {value}" if value else reason)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Caller:
    """The key a request came with, as the API edge needs it (no ORM object leaves the unit
    of work that found it)."""

    key_id: int
    name: str
    scopes: frozenset[str]
    community_id: int | None

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """The scopes in `text` ("tickets:read, agenda:read"), in SCOPES order; ApiKeyError
    names the first unknown one, or says none was given."""
    given = [s.strip() for s in text.replace("，", ",").split(",") if s.strip()]
    for scope in given:
        if scope not in SCOPES:
            raise ApiKeyError("unknown_scope", scope)
    if not given:
        raise ApiKeyError("no_scope")
    return tuple(s for s in SCOPES if s in given)


def create_key(
    db: Session,
    *,
    name: str,
    scopes: tuple[str, ...],
    community_id: int | None,
    created_by: str,
    now: datetime,
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown once; only its hash is kept)."""
    name = name.strip()
    if not name:
        raise ApiKeyError("no_name")
    if len(name) > 64:
        raise ApiKeyError("name_too_long", name)
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        shown=secret[:SHOWN],
        key_hash=digest(secret),
        scopes=",".join(scopes),
        community_id=community_id,
        created_by=created_by[:64],
        created_at=now,
    )
    db.add(key)
    db.flush()
    return key, secret


def key_for(db: Session, secret: str) -> ApiKey | None:
    """The key with this secret, revoked or not (None: no such key)."""
    return db.scalars(select(ApiKey).where(ApiKey.key_hash == digest(secret))).one_or_none()


def revoke(db: Session, key: ApiKey, *, by: str, now: datetime) -> bool:
    """Revoke `key`; False when it already was."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = now
    key.revoked_by = by[:64]
    return True

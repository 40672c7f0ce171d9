"""API keys as admins manage them (the CLI's `api-key`, the console's 接口 page): the list a
scope sees, a key named by its id or its shown prefix, and a key's recent requests.

A community's admin sees and revokes only its community's keys; the street sees all of them
(a street key, with no community, is the street's alone to see and revoke).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..communities import Community, Scope
from .audit import ApiRequest
from .keys import SHOWN, ApiKey, ApiKeyError, key_for

RECENT = 50  # requests shown per key


@dataclass(frozen=True)
class KeyRow:
    """One key as a list shows it (never its secret: only its first characters are kept)."""

    id: int
    name: str
    shown: str
    scopes: tuple[str, ...]
    community_id: int | None
    community: str | None  # its name; None: the whole street
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def key_rows(db: Session, scope: Scope) -> list[KeyRow]:
    """The keys `scope` may see, newest first: a community's own, or (the street) all."""
    query = (
        select(ApiKey, Community.name)
        .outerjoin(Community, Community.id == ApiKey.community_id)
        .order_by(ApiKey.id.desc())
    )
    if not scope.street:
        query = query.where(ApiKey.community_id == scope.community_id)
    return [_row(key, name) for key, name in db.execute(query)]


def key_row(db: Session, key: ApiKey) -> KeyRow:
    community = db.get(Community, key.community_id) if key.community_id is not None else None
    return _row(key, community.name if community else None)


def _row(key: ApiKey, community: str | None) -> KeyRow:
    return KeyRow(
        id=key.id,
        name=key.name,
        shown=key.shown,
        scopes=tuple(s for s in key.scopes.split(",") if s),
        community_id=key.community_id,
        community=community,
        created_by=key.created_by,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        revoked_by=key.revoked_by,
    )


def key_in_scope(db: Session, key_id: int, scope: Scope) -> ApiKey | None:
    """The key with this id when `scope` may see it (another community's is None, as if it
    did not exist)."""
    key = db.get(ApiKey, key_id)
    if key is None or not scope.owns(key.community_id):
        return None
    return key


def find_key(db: Session, ref: str, scope: Scope) -> ApiKey:
    """The key `ref` names: its id, the first characters it is shown by (yst_ab12cd), or the
    whole key. ApiKeyError "no_key" when none within `scope` fits, "several" when more do."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit() and len(ref) < 10:
        found = key_in_scope(db, int(ref), scope)
        if found is None:
            raise ApiKeyError("no_key", ref)
        return found
    if len(ref) > SHOWN:
        whole = key_for(db, ref)  # the whole key, pasted: exact, by its hash
        if whole is None or not scope.owns(whole.community_id):
            raise ApiKeyError("no_key", ref[:SHOWN] + "…")  # a key is not repeated in full
        return whole
    query = select(ApiKey).where(ApiKey.shown.startswith(ref, autoescape=True))
    if not scope.street:
        query = query.where(ApiKey.community_id == scope.community_id)
    # LIKE folds ASCII case on SQLite, and prefixes are mixed-case: compare exactly here.
    matches = [k for k in db.scalars(query.order_by(ApiKey.id)) if k.shown.startswith(ref)]
    if not ref or not matches:
        raise ApiKeyError("no_key", ref)
    if len(matches) > 1:
        raise ApiKeyError("several", ", ".join(f"#{k.id}" for k in matches))
    return matches[0]


def requests_of(db: Session, key_id: int, limit: int = RECENT) -> list[ApiRequest]:
    """The key's latest requests, newest first."""
    query = (
        select(ApiRequest)
        .where(ApiRequest.key_id == key_id)
        .order_by(ApiRequest.at.desc(), ApiRequest.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))

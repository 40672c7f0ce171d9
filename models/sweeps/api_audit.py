"""The API's audit kept as long as `[api] audit_days` says: older request rows are deleted, a
batch a sweep, so a large backlog (a first run, a long pause) never holds one long transaction.

The rate limit counts the last minute's rows only (bot/api/auth.py), so it is never touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..api.audit import ApiRequest

BATCH = 5000


def forget_api_requests(db: Session, now: datetime, audit_days: int, batch: int = BATCH) -> int:
    """Delete up to `batch` audit rows older than `audit_days` (0: keep for ever); how many."""
    if audit_days <= 0:
        return 0
    cutoff = now - timedelta(days=audit_days)
    old = select(ApiRequest.id).where(ApiRequest.at < cutoff).order_by(ApiRequest.id).limit(batch)
    ids = list(db.scalars(old))
    if not ids:
        return 0
    db.execute(delete(ApiRequest).where(ApiRequest.id.in_(ids)))
    return len(ids)

"""The API's audit in time: rows past `[api] audit_days` go (models/sweeps/api_audit.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.sweeps.api_audit import forget_api_requests

from ..config import Settings
from .jobs import register_sweep


@register_sweep("api_audit")
def forget_old_api_requests(session: Session, now: datetime, settings: Settings) -> str | None:
    removed = forget_api_requests(session, now, settings.api.audit_days)
    return f"{removed} API requests older than {settings.api.audit_days} days" if removed else None

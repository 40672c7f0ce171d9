"""One access token per API app, shared by every process through the database.

A process keeps the token it last read until shortly before it expires. To refresh, it takes
the app's row lock (PostgreSQL `SELECT … FOR UPDATE`; on SQLite the write lock), then looks
again: if another process has already stored a newer token, it uses that one instead of
fetching. So one process fetches at a time, and a rejected token is replaced once, not once
per worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from models.tokens import lock_token_row, read_token

from ..db import Database
from .api import ApiFailure, Transient

log = logging.getLogger(__name__)

# Refresh this long before the stated expiry (WeChat's old token still works for 5 minutes
# after a new one is fetched; this keeps every process off the edge).
EARLY = timedelta(minutes=5)


class SharedToken:
    def __init__(
        self,
        db: Database,
        app: str,
        fetch: Callable[[bool], tuple[str, int]],
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.app = app
        self.fetch = fetch  # fetch(force) -> (token, expires_in seconds)
        self.clock = clock
        self._token: str | None = None
        self._good_until: datetime | None = None
        self._lock = threading.Lock()

    def __call__(self, stale: str | None) -> str:
        """The current token; with `stale`, one that is not `stale` (it was rejected)."""
        with self._lock:
            now = self.clock()
            if (
                stale is None
                and self._token is not None
                and self._good_until is not None
                and now < self._good_until
            ):
                return self._token
            if stale is None:
                with self.db.session(read_only=True) as session:
                    token, expires_at = read_token(session, self.app)
                if token and expires_at and now < expires_at - EARLY:
                    self._token, self._good_until = token, expires_at - EARLY
                    return token
            return self._refresh(stale)

    def _refresh(self, stale: str | None) -> str:
        now = self.clock()
        with self.db.session() as session:
            row = lock_token_row(session, self.app)
            usable = row.token and row.expires_at and now < row.expires_at - EARLY
            if usable and row.token != stale:
                assert row.token is not None and row.expires_at is not None
                self._token, self._good_until = row.token, row.expires_at - EARLY
                return row.token
            try:
                token, expires_in = self.fetch(stale is not None)
            except ApiFailure as exc:
                raise Transient(
                    f"fetching the {self.app} access token failed: {exc.reason}", exc.errcode
                ) from None
            expires_at = now + timedelta(seconds=expires_in)
            row.token, row.expires_at, row.refreshed_at = token, expires_at, now
            row.fetches += 1
        log.info("fetched a new %s access token (valid %d s)", self.app, expires_in)
        self._token, self._good_until = token, expires_at - EARLY
        return token

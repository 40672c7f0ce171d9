"""The worker's half that keeps attachments: claim due downloads, fetch, record.

The outbox worker runs `MediaFetcher.run_once` after each batch of pushes (worker.py), with
the outbox's token store, backoff and tries; the download itself is download.py. Without an
app secret (development: pushes go to the console) there is nothing to ask WeChat: the
attachment is marked `id_only`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from models import media
from models.media import Job, Outcome

from ..config import Settings
from ..db import Database
from ..wechat.api import ApiFailure, Permanent
from .download import Downloader, Refused
from .store import MediaStore, media_folder

log = logging.getLogger(__name__)

# Downloads per round, and the most a round may take: pushes wait behind it in the same
# thread, so a round ends after a few HTTP timeouts (what is left is released for later).
BATCH = 4
ROUND_TIMEOUTS = 3


def media_id_of(job: Job) -> str | None:
    try:
        data = json.loads(job.data)
    except ValueError:
        return None
    value = data.get("mediaid") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


class MediaFetcher:
    """Claims due downloads, fetches each, records the outcome (see models/media.py)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        tokens: Mapping[str, Callable[[str | None], str]],
        backoff: Callable[[int], float],
        name: str,
    ) -> None:
        """`tokens`: the access token of each account with an app secret, by account name;
        an attachment is downloaded through the account it was sent on."""
        self.settings, self.db, self.clock, self.name = settings, db, clock, name
        self.backoff = backoff
        self.store = MediaStore(media_folder(settings))
        self.downloaders = {
            account.name: Downloader(
                settings, self.store, tokens[account.name], account.api_base_url
            )
            for account in settings.accounts
            if account.name in tokens
        }
        self._idle_until = 0.0  # time.monotonic() before which an empty queue is not asked

    def run_once(self) -> int:
        """One round: up to BATCH due downloads. Returns how many were claimed.

        Between pushes the worker calls this after every batch; when nothing was due it looks
        again only after `[delivery] poll_seconds`, so a busy outbox pays one read a second.
        """
        started = time.monotonic()
        if started < self._idle_until:
            return 0
        now = self.clock()
        with self.db.session(read_only=True) as session:
            if not media.any_due(session.connection(), now):
                self._idle_until = started + self.settings.delivery.poll_seconds
                return 0
        lease = self.settings.delivery.lease_seconds
        with self.db.transaction() as conn:
            jobs = media.claim_due(
                conn,
                now=now,
                lease_until=now + timedelta(seconds=lease),
                worker=self.name,
                limit=BATCH,
            )
            accounts = media.accounts_of(conn, [job.id for job in jobs])
        timeout = self.settings.delivery.timeout_seconds
        deadline = started + min(lease - 2 * timeout, ROUND_TIMEOUTS * timeout)
        untried: list[int] = []
        for job in jobs:
            if time.monotonic() > deadline:
                untried.append(job.id)
                continue
            self._record(self._fetch(job, accounts.get(job.id), deadline))
        if untried:
            with self.db.transaction() as conn:
                media.release(conn, untried, worker=self.name, now=self.clock())
        return len(jobs)

    def _fetch(self, job: Job, stored_account: str | None, deadline: float) -> Outcome:
        account = self.settings.account_of(stored_account)
        downloader = self.downloaders.get(account.name) if account else None
        if downloader is None:
            return Outcome(job.id, media.ID_ONLY, error="no WeChat app secret configured")
        media_id = media_id_of(job)
        if media_id is None:
            return Outcome(job.id, media.FAILED, error="the attachment has no media id")
        try:
            name, kind, size = downloader.fetch(media_id, deadline)
        except Refused as no:
            log.info("media %d refused: %s", job.id, no.reason)
            return Outcome(job.id, no.status, no.reason, None, no.content_type, no.size)
        except Permanent as exc:
            return Outcome(job.id, media.FAILED, error=exc.reason)
        except ApiFailure as exc:  # Transient (incl. the daily quota), a window error
            return self._retry(job, exc.reason)
        except OSError as exc:  # the folder: missing rights, a full disk — an admin's fix
            log.error("media %d: cannot write into %s: %s", job.id, self.store.folder, exc)
            return self._retry(job, f"cannot write into {self.store.folder}: {exc.strerror}")
        return Outcome(job.id, media.STORED, file=name, content_type=kind, size=size)

    def _retry(self, job: Job, reason: str) -> Outcome:
        if job.attempts >= self.settings.delivery.max_attempts:
            return Outcome(
                job.id, media.FAILED, error=f"gave up after {job.attempts} tries: {reason}"
            )
        delay = timedelta(seconds=self.backoff(job.attempts))
        return Outcome(job.id, media.PENDING, error=reason, retry_at=self.clock() + delay)

    def _record(self, outcome: Outcome) -> None:
        with self.db.transaction() as conn:
            held = media.record(conn, outcome, worker=self.name)
        if not held and outcome.file:
            # Erased (or taken over) while we downloaded: the copy must not outlive the row.
            self.store.delete([outcome.file])

    def close(self) -> None:
        for downloader in self.downloaders.values():
            downloader.close()


def stored_path(settings: Settings, name: str) -> Path | None:
    """Where the stored file `name` is (None for a name that is not one of ours)."""
    return MediaStore(media_folder(settings)).path(name)

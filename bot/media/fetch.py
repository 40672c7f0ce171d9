"""Download attachments from WeChat's temporary-media API into the media folder.

`GET cgi-bin/media/get?access_token=…&media_id=…` answers the file itself (its type in
Content-Type), or JSON: an error (`{"errcode":40007,…}`: the id is unknown or expired — an
error, never a file), or for a video message `{"video_url": …}`, a second address to fetch
without the token (WeChat's CDN may answer 404 for a few seconds: retried). Every file is
size-capped (`[media] max_bytes`, by Content-Length first, then by counting) and
type-checked (ALLOWED) before it is kept.

The outbox worker runs `MediaFetcher.run_once` after each batch of pushes (worker.py), with
the outbox's token store, backoff and tries. Without an app secret (development: pushes go to
the console) there is nothing to ask WeChat: the attachment is marked `id_only`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import requests

from models import media
from models.media import Job, Outcome

from ..config import Settings
from ..db import Database
from ..delivery.api import ApiFailure, Permanent, TokenRejected, Transient, classify_errcode
from .store import MediaStore, media_folder

log = logging.getLogger(__name__)

# The types kept, and the extension each is stored under.
ALLOWED = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/speex": ".spx",
    "audio/x-speex": ".spx",
    "voice/speex": ".spx",
    "video/mp4": ".mp4",
}
# Other names seen for the same types; and the generic type, kept only when the first bytes
# say what it is (SNIFFED), as a CDN may label a video message.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "audio/mp3": "audio/mpeg"}
GENERIC = "application/octet-stream"
SNIFFED = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF8", "image/gif"),
    (0, b"#!AMR", "audio/amr"),
    (0, b"ID3", "audio/mpeg"),
    (4, b"ftyp", "video/mp4"),
)
JSON_PEEK = 64 * 1024  # a JSON answer (an error, a video_url) is far smaller than this
BATCH = 4  # downloads per round: pushes wait behind them in the same thread
CHUNK = 64 * 1024


class Refused(Exception):
    """A file we will not keep (too large, or not a photo, voice or video)."""

    def __init__(self, status: str, reason: str, content_type: str | None, size: int | None):
        super().__init__(reason)
        self.status, self.reason, self.content_type, self.size = status, reason, content_type, size


class Downloader:
    """One HTTP session to WeChat's media API, writing into a `MediaStore`."""

    def __init__(
        self, settings: Settings, store: MediaStore, token: Callable[[str | None], str]
    ) -> None:
        base = settings.wechat.api_base_url
        self.url = (base if base.endswith("/") else base + "/") + "cgi-bin/media/get"
        self.timeout = settings.delivery.timeout_seconds
        self.max_bytes = settings.media.max_bytes
        self.store = store
        self.token = token
        self.session = requests.Session()

    def fetch(self, media_id: str, deadline: float) -> tuple[str, str, int]:
        """Download one media id: (stored name, content type, bytes). Raises `Refused` or an
        `ApiFailure`; a rejected token is refreshed once and tried once more."""
        token = self.token(None)
        try:
            return self._get(self.url, {"access_token": token, "media_id": media_id}, deadline)
        except TokenRejected:
            fresh = self.token(token)
            try:
                return self._get(self.url, {"access_token": fresh, "media_id": media_id}, deadline)
            except TokenRejected as again:
                raise Transient(f"token rejected after a refresh ({again.reason})") from None

    def _get(
        self, url: str, params: dict[str, str] | None, deadline: float, *, video: bool = False
    ) -> tuple[str, str, int]:
        what = "video_url" if video else "media/get"
        try:
            response = self.session.get(url, params=params, timeout=self.timeout, stream=True)
        except requests.Timeout:
            raise Transient(f"{what}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise Transient(f"{what}: {type(exc).__name__}") from None
        with response:
            if response.status_code >= 500 or (video and response.status_code == 404):
                raise Transient(f"{what}: HTTP {response.status_code}")
            if response.status_code != 200:
                raise Permanent(f"{what}: HTTP {response.status_code}")
            kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            kind = ALIASES.get(kind, kind)
            if kind in ALLOWED or kind == GENERIC:
                return self._save(response, kind, deadline)
            body = _peek(response)
        answer = _json(body)
        if answer is None:
            raise Refused(media.BAD_TYPE, f"content type {kind or '(none)'}", kind, None)
        errcode = answer.get("errcode", 0)
        if errcode not in (0, None):
            if not isinstance(errcode, int):
                raise Transient(f"{what}: odd errcode {errcode!r}")
            raise classify_errcode(errcode, str(answer.get("errmsg", "")))
        link = answer.get("video_url")
        if not video and isinstance(link, str) and link.startswith(("http://", "https://")):
            return self._get(link, None, deadline, video=True)
        raise Transient(f"{what}: a JSON answer without a file or video_url")

    def _save(
        self, response: requests.Response, kind: str, deadline: float
    ) -> tuple[str, str, int]:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise Refused(media.TOO_LARGE, f"{declared} bytes", kind, int(declared))
        fd, temporary = self.store.open_new()
        size, head = 0, b""
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise Refused(media.TOO_LARGE, f"over {self.max_bytes} bytes", kind, size)
                    if time.monotonic() > deadline:
                        raise Transient("the download took too long; trying again later")
                    head = head or chunk[:16]
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if kind == GENERIC:
                kind = _sniff(head) or ""
                if not kind:
                    raise Refused(media.BAD_TYPE, f"content type {GENERIC}", GENERIC, size)
            return self.store.keep(temporary, ALLOWED[kind]), kind, size
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def close(self) -> None:
        self.session.close()


def _sniff(head: bytes) -> str | None:
    """The allowed type these first bytes begin, if any."""
    for offset, magic, kind in SNIFFED:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def _peek(response: requests.Response) -> bytes:
    data = b""
    for chunk in response.iter_content(CHUNK):
        data += chunk
        if len(data) > JSON_PEEK:
            break
    return data


def _json(body: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


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
        token: Callable[[str | None], str] | None,
        backoff: Callable[[int], float],
        name: str,
    ) -> None:
        self.settings, self.db, self.clock, self.name = settings, db, clock, name
        self.backoff = backoff
        self.store = MediaStore(media_folder(settings))
        self.downloader = Downloader(settings, self.store, token) if token else None
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
        deadline = started + lease - 2 * self.settings.delivery.timeout_seconds
        untried: list[int] = []
        for job in jobs:
            if time.monotonic() > deadline:
                untried.append(job.id)
                continue
            self._record(self._fetch(job, deadline))
        if untried:
            with self.db.transaction() as conn:
                media.release(conn, untried, worker=self.name, now=self.clock())
        return len(jobs)

    def _fetch(self, job: Job, deadline: float) -> Outcome:
        if self.downloader is None:
            return Outcome(job.id, media.ID_ONLY, error="no WeChat app secret configured")
        media_id = media_id_of(job)
        if media_id is None:
            return Outcome(job.id, media.FAILED, error="the attachment has no media id")
        try:
            name, kind, size = self.downloader.fetch(media_id, deadline)
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
        if self.downloader is not None:
            self.downloader.close()


def stored_path(settings: Settings, name: str) -> Path | None:
    """Where the stored file `name` is (None for a name that is not one of ours)."""
    return MediaStore(media_folder(settings)).path(name)

"""One download from WeChat's temporary-media API into the media folder, checked.

`GET cgi-bin/media/get?access_token=…&media_id=…` answers the file itself (its type in
Content-Type), or JSON: an error (`{"errcode":40007,…}`: the id is unknown or expired — an
error, never a file), or for a video message `{"video_url": …}`, a second address to fetch
without the token (WeChat's CDN may answer 404 for a few seconds: retried). Every file is
size-capped (`[media] max_bytes`, by Content-Length first, then by counting) and
type-checked (ALLOWED) before it is kept.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import requests

from models import media

from ..config import Settings
from ..wechat.api import Permanent, TokenRejected, Transient, classify_errcode
from .store import MediaStore

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
CHUNK = 64 * 1024


class Refused(Exception):
    """A file we will not keep (too large, or not a photo, voice or video)."""

    def __init__(self, status: str, reason: str, content_type: str | None, size: int | None):
        super().__init__(reason)
        self.status, self.reason, self.content_type, self.size = status, reason, content_type, size


class Downloader:
    """One HTTP session to WeChat's media API, writing into a `MediaStore`."""

    def __init__(
        self,
        settings: Settings,
        store: MediaStore,
        token: Callable[[str | None], str],
        base: str,
    ) -> None:
        # `base`: the API host of the account whose `token` this is.
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

"""The fake WeChat API's temporary media (`GET cgi-bin/media/get`), for tests and the demo.

Tests register bytes under a media id (`fake.media.put(...)`, or `POST
_fake/media?media_id=…&content_type=…` with the bytes as the body, from another process); the
API answers them with their Content-Type, as WeChat does. A video is answered WeChat's way
for video messages: JSON `{"video_url": …}` pointing at `_fake/media/video/<id>` on the fake
itself. An unknown id is errcode 40007; the access token is checked like the send APIs'.
`script(...)` makes the next calls fail ("500", "drop", or an errcode) or answer late
("slow", after `fake.slow_seconds`), to test retries and what happens meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .fake_errors import ERRMSG

if TYPE_CHECKING:
    from .fake_wechat import FakeWeChat

GET_PATH = "cgi-bin/media/get"
VIDEO_PATH = "_fake/media/video/"
PUT_PATH = "_fake/media"
# (status, body, content type), or None: close the connection without an answer.
Answer = tuple[int, bytes, str] | None


@dataclass(frozen=True)
class Stored:
    data: bytes
    content_type: str
    video: bool  # answered as {"video_url": …}
    app_id: str = ""  # the account it was sent to: other accounts' tokens get 40007 ("": any)


def _error(errcode: int, errmsg: str) -> Answer:
    body = json.dumps({"errcode": errcode, "errmsg": errmsg}).encode()
    return 200, body, "text/plain"  # WeChat's error bodies are JSON, typed as plain text


class FakeMedia:
    """The media the fake serves, and the faults scripted for its next calls."""

    def __init__(self, fake: FakeWeChat) -> None:
        self._fake = fake
        self._lock = threading.Lock()
        self._media: dict[str, Stored] = {}
        self._script: deque[int | str] = deque()
        self.calls = 0  # media/get requests answered (faults included)

    def put(
        self, media_id: str, data: bytes, content_type: str = "image/jpeg", *, app_id: str = ""
    ) -> None:
        """Serve `data` under `media_id` (a video/mp4 is answered by video_url); with `app_id`,
        only to that account's tokens, as WeChat's media ids are one account's."""
        with self._lock:
            video = content_type == "video/mp4"
            self._media[media_id] = Stored(data, content_type, video, app_id)

    def forget(self, media_id: str) -> None:
        """As WeChat after 3 days: the id becomes unknown (40007)."""
        with self._lock:
            self._media.pop(media_id, None)

    def script(self, outcomes: list[int | str]) -> None:
        """The next calls get these outcomes in order: an errcode, "500", "drop", "slow"."""
        with self._lock:
            self._script = deque(outcomes)

    def serves(self, method: str, path: str) -> bool:
        return (method, path) in (("GET", GET_PATH), ("POST", PUT_PATH)) or (
            method == "GET" and path.startswith(VIDEO_PATH)
        )

    def answer(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Answer:
        if method == "POST":
            self.put(query.get("media_id", ""), raw, query.get("content_type", "image/jpeg"))
            return 200, b'{"errcode":0,"errmsg":"ok"}', "application/json"
        if path.startswith(VIDEO_PATH):
            return self._video(path[len(VIDEO_PATH) :])
        with self._lock:
            self.calls += 1
            outcome = self._script.popleft() if self._script else "ok"
            stored = self._media.get(query.get("media_id", ""))
        if outcome == "drop":
            return None
        if outcome == "slow":  # answered, but late (a large file on a slow line)
            time.sleep(self._fake.slow_seconds)
        if outcome == "500":
            return 500, b"500 Internal Server Error", "text/plain"
        if isinstance(outcome, int):
            return _error(outcome, ERRMSG.get(outcome, "fake error"))
        refused = self._token_error(query.get("access_token", ""))
        if refused is not None:
            return refused
        if stored is not None and stored.app_id:
            with self._fake._lock:
                owner = self._fake._tokens[query.get("access_token", "")].app_id
            stored = stored if owner == stored.app_id else None
        if stored is None:
            return _error(40007, "invalid media_id")
        if stored.video:
            link = f"{self._fake.url}{VIDEO_PATH}{query['media_id']}"
            return 200, json.dumps({"video_url": link}).encode(), "application/json"
        return 200, stored.data, stored.content_type

    def _video(self, media_id: str) -> Answer:
        with self._lock:
            stored = self._media.get(media_id)
        if stored is None:
            return 404, b"Not Found", "text/plain"
        return 200, stored.data, stored.content_type

    def _token_error(self, token: str) -> Answer:
        fake = self._fake
        with fake._lock:
            record = fake._tokens.get(token)
            if record is None or record.kind != "wechat":
                return _error(40014, "invalid access_token")
            if record.revoked or time.monotonic() >= record.expires_at:
                return _error(42001, "access_token expired")
        return None

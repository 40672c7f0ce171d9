"""A fake city platform (a 12345 or grid platform) for the tests: it sends work orders to the
app through the API with its key, and receives the app's webhooks on a real local HTTP server
(threaded), checking every signature as a platform should (`verify`).

It is an unreliable receiver on purpose: a share of deliveries (`fail_share`, 30 %) fail —
half answered 500 before anything is done with them, half processed but answered too late
(after the sender's timeout: the answer is lost, so the sender tries again and the platform
sees the event twice, which it recognises by its event id). What it processed, in order, is
in `processed`; the event ids whose answer was (or, answered slowly, may have been) lost in
`lost`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask.testing import FlaskClient

TOLERANCE_SECONDS = 300  # replay protection: a signature older (or newer) than this is refused


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """Whether `header` (Yishiting-Signature: t=UNIX,v1=HEX) signs `body` with `secret`, and
    was made within `tolerance` seconds of `now` (a replayed old delivery is refused)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))


class CityPlatform:
    """The platform's webhook receiver (a real HTTP server) and its order client."""

    def __init__(
        self,
        secret: str,
        *,
        fail_share: float = 0.3,
        late_seconds: float = 0.0,
        seed: int = 18,
        status: int | None = None,
    ) -> None:
        self.secret = secret
        self.fail_share = fail_share
        self.late_seconds = late_seconds  # > the sender's timeout: the answer is lost
        # An answer that took longer than this (a loaded machine) may have been lost too.
        self.slow_seconds = late_seconds / 2 if late_seconds else float("inf")
        self.status = status  # answer every delivery with this status instead
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.processed: list[dict[str, Any]] = []  # bodies, in the order processed
        self.lost: set[str] = set()  # event ids processed whose answer came too late
        self.refused: Counter[str] = Counter()  # event id → deliveries answered 500
        self.bad: list[str] = []  # deliveries whose signature or headers were wrong
        self.headers: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/yishiting"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CityPlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    # -- sending orders -------------------------------------------------------------------

    def send_order(self, client: FlaskClient, key: str, **order: Any) -> dict[str, Any]:
        """POST /api/v1/tickets with the platform's key; the ticket the app answers with."""
        answer = client.post(
            "/api/v1/tickets", json=order, headers={"Authorization": f"Bearer {key}"}
        )
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)
        return dict(answer.json or {})

    # -- receiving webhooks ---------------------------------------------------------------

    def events(self) -> list[str]:
        """The event ids processed, in order (an id twice: its answer was lost)."""
        with self.lock:
            return [body["id"] for body in self.processed]

    def _fate(self) -> str:
        with self.lock:
            if self.status is not None:
                return "status"
            roll = self.random.random()
        if roll >= self.fail_share:
            return "ok"
        return "500" if roll < self.fail_share / 2 or not self.late_seconds else "late"

    def _receive(self, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        """Check and (maybe) process one delivery: the status to answer, and how late."""
        signed = verify(self.secret, headers.get("yishiting-signature", ""), body, time.time())
        parsed = json.loads(body.decode("utf-8"))
        with self.lock:
            self.headers.append(headers)
            if not signed or headers.get("yishiting-event-id") != parsed.get("id"):
                self.bad.append(body.decode("utf-8"))
                return 400, 0.0
        fate = self._fate()
        if fate == "status":
            return int(self.status or 500), 0.0
        if fate == "500":
            with self.lock:
                self.refused[parsed["id"]] += 1
            return 500, 0.0
        with self.lock:
            self.processed.append(parsed)
            if fate == "late":
                self.lost.add(parsed["id"])
        return 204, self.late_seconds if fate == "late" else 0.0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real platform's server

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                started = time.monotonic()
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, late = platform._receive(headers, body)
                if late:
                    time.sleep(late)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting: this answer is lost
                if status < 300 and time.monotonic() - started > platform.slow_seconds:
                    with platform.lock:
                        platform.lost.add(json.loads(body.decode("utf-8"))["id"])

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

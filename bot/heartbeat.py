"""The one-line INFO heartbeat of a long-running loop (the outbox worker, the scheduler).

Every `[health] heartbeat_seconds` the loop says it is alive and what it did since the last
line, e.g. `heartbeat: outbox worker web1:812:t0 alive; last 60 s: batches 12, sent 30, ...`,
so a silent log means a stuck or dead process, and the counts show what it is doing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("yishiting.heartbeat")


class Heartbeat:
    """Counts what happened; `maybe_log()` logs and resets them once `every` seconds passed."""

    def __init__(
        self,
        what: str,
        every: float,
        counters: tuple[str, ...],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.every, self.clock = what, every, clock
        self.names = counters
        self._lock = threading.Lock()  # the scheduler's jobs count from pool threads
        self._reset()

    def _reset(self) -> None:
        self.since = self.clock()
        self.counts = dict.fromkeys(self.names, 0)

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + amount

    def maybe_log(self) -> bool:
        """Log the line if it is due (True), else nothing (False)."""
        with self._lock:
            elapsed = self.clock() - self.since
            if elapsed < self.every:
                return False
            done = ", ".join(f"{name} {value}" for name, value in self.counts.items())
            self._reset()
        log.info("heartbeat: %s alive; last %.0f s: %s", self.what, elapsed, done)
        return True

"""SQLite's write-ahead log starts over under steady load, so it stays small (bot/db.py).

Under a steady stream of commits a PASSIVE checkpoint never finds the log copied to its end,
and SQLite rewinds the log only then: it grew by every commit's pages (1.3 GB in 24,000
reports, bench/README.md). The checkpointer copies the last frames inside the write turn.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bot.db import Checkpointer
from bot.writelock import WriterQueue

PAGE = 4096


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # as the web app's connections
    return conn


def test_under_steady_commits_the_log_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "steady.db"
    writers = WriterQueue(f"{path}.writer-lock", timeout=5)
    conn = _writer(path)
    conn.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, body BLOB)")
    checkpointer = Checkpointer(str(path), writers, interval=0.25)
    checkpointer.ensure_running()
    written = 0
    try:
        # Far more than a short log, between many checkpoints (about 2 s on a quiet machine).
        until = time.monotonic() + 30
        while written < 60 * 10**6 and time.monotonic() < until:
            with writers.turn():
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO note (body) VALUES (?)", [(b"x" * 3000,) for _ in range(16)]
                )
                conn.execute("COMMIT")
            written += 16 * 3000
            time.sleep(0.001)  # a request's work outside the turn (parsing, replying)
        # Read before closing: the last connection to close deletes the log.
        log = Path(f"{path}-wal").stat().st_size
    finally:
        checkpointer.stop()
        conn.close()
    assert written > 10 * Checkpointer.SHORT_LOG * PAGE
    assert log < written / 3, f"the log kept growing: {log} bytes for {written} written"

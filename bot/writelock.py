"""Queue SQLite writers so the database passes from one to the next without sleeping.

SQLite's busy handler sleeps 1, 2, 5, 10 ... ms between tries, so two busy processes spend
much of their time asleep while the database is free (measured: bench/README.md). Writers
here wait their turn first: threads of one process on a lock that can time out, processes on
a file lock (flock) that the kernel hands over the moment its holder lets go. SQLite's own
locks still guard correctness; this only shortens the waits.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class DatabaseBusy(Exception):
    """Another writer held the database longer than the busy timeout."""


class WriterQueue:
    def __init__(self, lock_path: str, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        self._threads = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the write turn for the duration of the block."""
        if not self._threads.acquire(timeout=self.timeout):
            raise DatabaseBusy(f"no write turn within {self.timeout:g} s")
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, self.timeout)
                yield
            finally:
                os.close(fd)  # releases the file lock
        finally:
            self._threads.release()


def _flock(fd: int, timeout: float) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    if threading.current_thread() is not threading.main_thread():
        # Only one thread per process gets here (see WriterQueue.turn), so this waits for
        # another process's transaction, which is short by design.
        fcntl.flock(fd, fcntl.LOCK_EX)
        return

    # The main thread (gunicorn's sync workers serve requests there): a timer signal
    # interrupts the wait when it runs too long.
    def give_up(signum: int, frame: FrameType | None) -> None:
        raise DatabaseBusy(f"no write turn within {timeout:g} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

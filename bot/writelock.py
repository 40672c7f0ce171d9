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
import time
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
    def turn(self, deadline: float | None = None) -> Iterator[None]:
        """Hold the write turn for the duration of the block; wait at most the timeout, or
        until `deadline` (time.monotonic()) when that comes first."""
        timeout = _until(deadline, self.timeout)
        if not self._threads.acquire(timeout=timeout):
            raise DatabaseBusy(f"no write turn within {timeout:g} s")
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, _until(deadline, self.timeout), bounded=deadline is not None)
                yield
            finally:
                os.close(fd)  # releases the file lock
        finally:
            self._threads.release()


def _until(deadline: float | None, timeout: float) -> float:
    """Seconds to wait: the timeout, or what is left before the deadline if less."""
    if deadline is None:
        return timeout
    left = min(timeout, deadline - time.monotonic())
    if left <= 0:
        raise DatabaseBusy("the request's deadline passed before its write turn")
    return left


def _flock(fd: int, timeout: float, *, bounded: bool = False) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    if threading.current_thread() is not threading.main_thread():
        if bounded:
            _poll_flock(fd, timeout)
            return
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


def _poll_flock(fd: int, timeout: float) -> None:
    """A thread other than the main one cannot be interrupted in flock: it tries again every
    few milliseconds until the timeout (a request with a deadline, e.g. under waitress)."""
    give_up = time.monotonic() + timeout
    pause = 0.001
    while True:
        time.sleep(pause)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= give_up:
                raise DatabaseBusy(f"no write turn within {timeout:g} s") from None
            pause = min(pause * 2, 0.02)

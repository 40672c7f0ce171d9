"""The webhook's spool: messages received while the database was down, kept on disk.

WeChat retries a message only three times in about 15 seconds; a database outage longer than
that would lose it. So when storing a message fails because of the database, the webhook
writes the (decrypted) XML here — a file per message, fsynced with its folder before WeChat
is told `success` — and a background thread replays the spool once the database answers
again. The thread runs only while files wait: started by a write, or by the first request of
a process that finds files an earlier process left; it ends when the spool is empty.

Replaying is idempotent: a message goes through `Conversation.handle` exactly as if WeChat
had delivered it, so its dedupe key (models/inbound.py) stops a second run of a message that
was stored after all, or spooled twice by WeChat's retries. A file is removed only after its
message was handled; a crash in between replays it again, harmlessly. With several web
processes, one replays at a time (a file lock); the others skip that round.

Files are `<time_ns>-<pid>-<random>[~a<account>][~t<timestamp>~n<nonce>].xml` (so sorted
names are arrival order), mode 0600: they hold what residents wrote. The account is the
`[[accounts]]` name the message came in on (none for the legacy account): the replay handles
it as that account's. The signed request's (timestamp, nonce)
pair travels in the name: the replay records it as the live request would have (a forgery
that reused the pair while the message waited is refused then), and the webhook refuses the
pair with another body while the file waits (`holding`).

Only "the database is unreachable" (the `transient` exceptions: locked, connection refused …)
keeps a file waiting; a file that fails for any other reason
(a body that no longer parses, a value the database refuses) is renamed `*.bad` at once and
kept for an admin, so it never blocks the messages behind it. `yishiting status`, /readyz and
/metrics count both kinds (`spool_counts`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from .config import Settings

log = logging.getLogger(__name__)

LOCK_NAME = ".replay.lock"
SUFFIX = ".xml"
BAD_SUFFIX = ".bad"


@dataclass(frozen=True)
class SpoolCounts:
    waiting: int
    bad: int
    oldest_seconds: float  # how long the oldest waiting file has waited; 0 when none


def spool_counts(folder: Path, now_ns: int | None = None) -> SpoolCounts:
    """How many messages wait for the database and how many were set aside as bad."""
    try:
        names = [e.name for e in os.scandir(folder) if not e.name.startswith(".")]
    except FileNotFoundError:
        return SpoolCounts(0, 0, 0.0)
    waiting = sorted(n for n in names if n.endswith(SUFFIX))
    bad = sum(1 for n in names if n.endswith(SUFFIX + BAD_SUFFIX))
    oldest = 0.0
    if waiting:
        try:
            arrived = int(waiting[0].split("-", 1)[0])
            oldest = max(0.0, ((now_ns or time.time_ns()) - arrived) / 1e9)
        except ValueError:
            oldest = 0.0
    return SpoolCounts(len(waiting), bad, oldest)


def spool_folder(settings: Settings) -> Path:
    """`[webhook] spool_dir`; relative to the config file's folder. Empty: `spool/` next to
    the SQLite database, else `spool/` next to the config file (or `var/spool` in the cwd)."""
    configured = settings.webhook.spool_dir
    base = Path(settings.source).parent if settings.source else Path("var")
    if configured:
        return base / configured if not Path(configured).is_absolute() else Path(configured)
    url = make_url(settings.app.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "spool"
    return base / "spool"


class Spool:
    """A folder of messages waiting for the database, and the thread that replays them.

    `handle(body, pair, account)` processes one spooled message (`pair`: its request's
    timestamp and nonce, None for a file spooled without them; `account`: the [[accounts]]
    name it came in on, None for the legacy account); an exception of a `transient` type means
    "the database is still away" (try again later), any other sets the file aside.
    """

    def __init__(
        self,
        folder: Path,
        handle: Callable[[bytes, tuple[int, str] | None, str | None], object],
        transient: tuple[type[BaseException], ...],
        *,
        interval: float = 1.0,
    ) -> None:
        self.folder = folder
        self.handle = handle
        self.transient = transient
        self.interval = interval
        self._checked_pid: int | None = None
        self._runner_pid: int | None = None  # the process whose replay thread runs
        self._lock = threading.Lock()
        # holding(): the folder's mtime when last listed, and the pairs its files carry.
        self._pairs: tuple[int, dict[tuple[int, str], list[str]]] | None = None

    # -- writing (the webhook, when the database failed) ----------------------------------

    def write(
        self, body: bytes, pair: tuple[int, str] | None = None, *, account: str | None = None
    ) -> Path:
        """Store `body` durably (file and folder entry fsynced); OSError if that fails.
        `pair`: the signed request's (timestamp, nonce), and `account`: the [[accounts]] name
        it came in on, both kept in the file's name."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tag = f"~a{account}" if account else ""
        tag += f"~t{pair[0]}~n{pair[1]}" if pair is not None else ""
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{tag}{SUFFIX}"
        final = self.folder / name
        temporary = self.folder / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, final)
        _fsync_folder(self.folder)
        self._start()
        return final

    def holding(self, timestamp: int, nonce: str) -> list[Path]:
        """The waiting files spooled from a request with this (timestamp, nonce) pair.

        Asked on every webhook request, so the folder is read only when it changed (its
        mtime): one stat otherwise, whatever the spool holds. A listing made while the folder's
        mtime is younger than the clock's granularity is not trusted for the next call."""
        try:
            changed = os.stat(self.folder).st_mtime_ns
        except FileNotFoundError:
            return []
        cached = self._pairs
        if cached is None or cached[0] != changed:
            pairs: dict[tuple[int, str], list[str]] = {}
            for entry in os.scandir(self.folder):
                pair = pair_of(entry.name)
                if pair is not None:
                    pairs.setdefault(pair, []).append(entry.name)
            settled = time.time_ns() - changed > _MTIME_GRANULARITY_NS
            cached = (changed if settled else -1, pairs)
            self._pairs = cached
        return [self.folder / name for name in cached[1].get((timestamp, nonce), ())]

    def pending(self) -> list[Path]:
        """The spooled messages, oldest first."""
        try:
            names = sorted(
                e.name
                for e in os.scandir(self.folder)
                if e.name.endswith(SUFFIX) and not e.name.startswith(".")
            )
        except FileNotFoundError:
            return []
        return [self.folder / n for n in names]

    # -- replaying ------------------------------------------------------------------------

    def replay(self) -> int:
        """Replay what is spooled, oldest first, if no other process is at it; returns how
        many were handled. Stops at the first sign that the database is still away."""
        if not self.pending():
            return 0
        fd = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # another process is replaying
            return self._replay_locked()
        finally:
            os.close(fd)  # releases the lock

    def _replay_locked(self) -> int:
        done = 0
        for path in self.pending():  # read again under the lock: another may have finished
            try:
                body = path.read_bytes()
            except FileNotFoundError:
                continue
            try:
                self.handle(body, pair_of(path.name), account_of(path.name))
            except self.transient as exc:
                log.warning("spool: database still unavailable (%s)", type(exc).__name__)
                break
            except Exception as exc:
                # The class only: a database error's message would quote what was written.
                log.error(
                    "spool: %s cannot be handled (%s); kept as %s%s",
                    path.name,
                    type(exc).__name__,
                    path.name,
                    BAD_SUFFIX,
                )
                path.rename(path.with_name(path.name + BAD_SUFFIX))
                continue
            path.unlink()
            done += 1
        if done:
            _fsync_folder(self.folder)
            log.info("spool: replayed %d message(s) received while the database was down", done)
        return done

    def ensure_replaying(self) -> None:
        """Once per process (a forked worker too): replay what an earlier process left.
        Costs one comparison after the first call."""
        if self._checked_pid == os.getpid():
            return
        self._checked_pid = os.getpid()
        if self.pending():
            self._start()

    def _start(self) -> None:
        """Run the replay thread in this process unless it runs already."""
        with self._lock:
            if self._runner_pid == os.getpid():
                return
            self._runner_pid = os.getpid()
            threading.Thread(target=self._run, name="webhook-spool", daemon=True).start()

    def _run(self) -> None:
        """Replay every `interval` seconds until the spool is empty, then end (a new write
        starts the thread again)."""
        while True:
            time.sleep(self.interval)
            try:
                self.replay()
            except Exception:  # never let the thread die with messages waiting
                log.exception("spool: a replay round failed")
            with self._lock:
                if not self.pending():
                    self._runner_pid = None
                    return


# File systems stamp a folder's mtime from a coarse clock (a few ms on Linux).
_MTIME_GRANULARITY_NS = 50_000_000

_PAIR = re.compile(r"~t(\d{1,20})~n([A-Za-z0-9_-]{1,64})\.xml$")


def pair_of(name: str) -> tuple[int, str] | None:
    """The (timestamp, nonce) a spooled file's name carries, or None."""
    found = _PAIR.search(name)
    return (int(found.group(1)), found.group(2)) if found else None


_ACCOUNT = re.compile(r"~a([a-z0-9_-]{1,32})(?:~t|\.xml$)")


def account_of(name: str) -> str | None:
    """The account name a spooled file's name carries, or None (the legacy account)."""
    found = _ACCOUNT.search(name)
    return found.group(1) if found else None


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

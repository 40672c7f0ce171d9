"""The database: a lazily created engine per app, sessions per request or job, migrations.

SQLite follows DESIGN.md "Database habits": WAL, a busy timeout, synchronous=NORMAL, and
write transactions begun with BEGIN IMMEDIATE so concurrent writers wait instead of failing.
The engine is created on first use and its pool is discarded in a forked child, so gunicorn
`--preload` workers never share a connection with the master.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import migrations

from .config import Settings


class DatabaseBusy(Exception):
    """Another writer held the database longer than the busy timeout."""


class Database:
    """Owns one engine and its session factory; created once per app or CLI command."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.app.database_url
        self.busy_timeout = settings.app.db_busy_timeout_seconds
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._read_sessions: sessionmaker[Session] | None = None
        self._lock = threading.Lock()
        self._writer_lock_path = _sqlite_lock_path(self.url)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    engine = self._create_engine()
                    self._sessions = sessionmaker(engine, expire_on_commit=False)
                    self._read_sessions = sessionmaker(
                        engine.execution_options(yishiting_read_only=True),
                        expire_on_commit=False,
                    )
                    self._engine = engine
        return self._engine

    def _create_engine(self) -> Engine:
        url = make_url(self.url)
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": self.busy_timeout, "check_same_thread": False}
        engine = create_engine(url, pool_pre_ping=not self.is_sqlite, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(engine, self.busy_timeout)
        # A forked child must open its own connections, never reuse the parent's.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
        return engine

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception.

        A read-only session on SQLite begins a deferred transaction, so it does not wait
        for (or hold up) writers.
        """
        self.engine  # noqa: B018 - creates the session factories
        factory = self._read_sessions if read_only else self._sessions
        assert factory is not None
        with self._writer_turn(read_only), factory() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on a plain Connection, for the per-message hot path.

        Commits when the block ends, rolls back on an exception. Pair it with
        `session_on(conn)` where ORM work has to join the same transaction.
        """
        with self._writer_turn(False), self.engine.begin() as conn:
            yield conn

    @staticmethod
    def session_on(conn: Connection) -> Session:
        """An ORM session inside `conn`'s transaction: it flushes there; the owner commits."""
        return Session(bind=conn, expire_on_commit=False)

    @contextmanager
    def _writer_turn(self, read_only: bool) -> Iterator[None]:
        """On SQLite, queue writers on a file lock before BEGIN IMMEDIATE.

        SQLite's own busy handler sleeps 1, 2, 5, 10 ... ms between tries, so two busy
        processes spend much of their time asleep. A file lock polled at a fine grain hands
        the database to the next writer within a fraction of a millisecond. SQLite's locks
        still guard correctness; this only shortens the wait.
        """
        if read_only or self._writer_lock_path is None:
            yield
            return
        fd = os.open(self._writer_lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_file(fd, self.busy_timeout)
            yield
        finally:
            os.close(fd)  # releases the lock

    def ping(self) -> None:
        with self.session(read_only=True) as session:
            session.execute(text("SELECT 1"))

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration (idempotent)."""
        with self.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _sqlite_lock_path(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return f"{parsed.database}.writer-lock"


def _lock_file(fd: int, timeout: float) -> None:
    """Take the exclusive lock on `fd`, waiting at most `timeout` seconds.

    Uncontended, one non-blocking call. Contended, a helper thread waits in the kernel, so
    the lock passes to us the moment its holder lets go (polling wakes late and burns the
    CPU the holder needs); the helper lets us give up after `timeout`.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    waiter = _LockWaiter(fd)
    if not waiter.wait(timeout):
        raise DatabaseBusy(f"no write turn within {timeout:g} s")


class _LockWaiter:
    def __init__(self, fd: int) -> None:
        # The helper locks its own duplicate of the descriptor: it shares the open file
        # description (and so the lock) with `fd`, and stays valid if we give up first.
        self._fd = os.dup(fd)
        self._done = threading.Event()
        self._abandoned = False
        self._mutex = threading.Lock()
        threading.Thread(target=self._run, name="sqlite-writer-lock", daemon=True).start()

    def _run(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            with self._mutex:
                if self._abandoned:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                self._done.set()
        finally:
            os.close(self._fd)

    def wait(self, timeout: float) -> bool:
        if self._done.wait(timeout):
            return True
        with self._mutex:
            if self._done.is_set():
                return True
            self._abandoned = True
            return False


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: this runs for every transaction.
        read_only = conn.get_execution_options().get("yishiting_read_only")
        conn.connection.dbapi_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

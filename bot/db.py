"""The database: a lazily created engine per app, sessions per request or job, migrations.

SQLite follows DESIGN.md "Database habits": WAL, a busy timeout, synchronous=NORMAL, and
write transactions begun with BEGIN IMMEDIATE so concurrent writers wait instead of failing.
The engine is created on first use and its pool is discarded in a forked child, so gunicorn
`--preload` workers never share a connection with the master.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .writelock import DatabaseBusy, WriterQueue

log = logging.getLogger(__name__)


class Database:
    """Owns one engine and its session factory; created once per app or CLI command."""

    def __init__(self, settings: Settings, *, background_checkpoints: bool = False) -> None:
        self.url = settings.app.database_url
        self.busy_timeout = settings.app.db_busy_timeout_seconds
        self.community_name = settings.app.community_name
        lock_path = _sqlite_lock_path(self.url)
        self._writers = WriterQueue(lock_path, self.busy_timeout) if lock_path else None
        # SQLite: move WAL checkpoints out of the requests (see Checkpointer).
        self._checkpointer: Checkpointer | None = None
        if background_checkpoints and _sqlite_file(self.url):
            self._checkpointer = Checkpointer(_sqlite_file(self.url) or "", self._writers)
        self._sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self._engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._read_sessions: sessionmaker[Session] | None = None
        self._lock = threading.Lock()
        self._idle: deque[Connection] = deque()  # see transaction()

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
        # hide_parameters: a database error's message (logged) never quotes what residents wrote.
        engine = create_engine(
            url, pool_pre_ping=not self.is_sqlite, hide_parameters=True, **kwargs
        )
        if self.is_sqlite:
            _configure_sqlite(engine, self.busy_timeout, self._checkpointer is None)
        # A forked child must open its own connections, never reuse the parent's. (A weak
        # reference: fork hooks cannot be unregistered, and Databases come and go in tests.)
        this = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_connections(this()))
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
    def transaction(self, *, deadline: float | None = None) -> Iterator[Connection]:
        """A write transaction on a plain Connection, for the per-message hot path.

        Commits when the block ends, rolls back on an exception. Pair it with
        `session_on(conn)` where ORM work has to join the same transaction. With a
        `deadline` (time.monotonic()), the waits for the write turn and for SQLite's lock
        end there (DatabaseBusy) instead of after the busy timeout.
        """
        if self._checkpointer is not None:
            self._checkpointer.ensure_running()
        conn = self._take_connection()
        try:
            with self._writer_turn(False, deadline):
                self._bound_busy_wait(conn, deadline)
                with conn.begin():
                    self._bound_lock_wait(conn, deadline)
                    yield conn
        finally:
            self._put_back(conn)

    @contextmanager
    def reading(self, *, deadline: float | None = None) -> Iterator[Connection]:
        """A read transaction on a kept Connection: a deferred BEGIN on SQLite, so it neither
        waits for nor holds up the writer (a `deadline` bounds any wait all the same)."""
        conn = self._take_connection()
        conn.execution_options(yishiting_read_only=True)  # in place, until reset below
        try:
            if deadline is not None:
                self._bound_busy_wait(conn, deadline)
            with conn.begin():
                self._bound_lock_wait(conn, deadline)
                yield conn
        finally:
            conn.execution_options(yishiting_read_only=False)
            self._put_back(conn)

    def _bound_lock_wait(self, conn: Connection, deadline: float | None) -> None:
        """PostgreSQL: no lock wait inside this transaction outlasts the deadline (SET LOCAL
        lock_timeout; past it the statement fails with lock_not_available, 55P03, which the
        conversation takes for a busy database). One statement, only when there is a deadline."""
        if self._sqlite or deadline is None:
            return
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            raise DatabaseBusy("the request's deadline passed before its transaction")
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(left_ms, 100)}")

    def _bound_busy_wait(self, conn: Connection, deadline: float | None) -> None:
        """SQLite: wait for another program's lock no longer than the deadline allows (the
        connection's busy timeout, set only when it changes: in steps of 100 ms)."""
        if not self._sqlite:
            return
        wanted = int(self.busy_timeout * 1000)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseBusy("the request's deadline passed before its transaction")
            wanted = min(wanted, max(100, int(left * 10) * 100))
        if conn.info.get("busy_ms", int(self.busy_timeout * 1000)) != wanted:
            driver = conn.connection.dbapi_connection
            assert driver is not None
            driver.execute(f"PRAGMA busy_timeout={wanted}")
            conn.info["busy_ms"] = wanted

    def _take_connection(self) -> Connection:
        """A Connection kept from an earlier transaction, else a new one from the pool.

        Checking a connection out of SQLAlchemy's pool and back in costs more than the
        per-message statements themselves on SQLite, so the hot path keeps a few open.
        """
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return self.engine.connect()
            if not (conn.closed or conn.invalidated):
                return conn

    def _put_back(self, conn: Connection) -> None:
        if conn.closed or conn.invalidated or conn.in_transaction() or len(self._idle) >= 8:
            conn.close()
        else:
            self._idle.append(conn)

    @staticmethod
    def session_on(conn: Connection) -> Session:
        """An ORM session inside `conn`'s transaction: it flushes there; the owner commits."""
        return Session(bind=conn, expire_on_commit=False)

    @contextmanager
    def _writer_turn(self, read_only: bool, deadline: float | None = None) -> Iterator[None]:
        """On SQLite, wait for the write turn before BEGIN IMMEDIATE (see writelock.py)."""
        if read_only or self._writers is None:
            yield
            return
        with self._writers.turn(deadline):
            yield

    def ping(self) -> None:
        with self.session(read_only=True) as session:
            session.execute(text("SELECT 1"))

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration (idempotent).

        Raises SchemaTooNew, changing nothing, when a newer version migrated the database."""
        from alembic import command  # here: only init and serve need Alembic

        with self.engine.begin() as conn:
            _refuse_unknown_revisions(conn, self.url)
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            # The first community's name, for the migration that makes it (0017).
            cfg.attributes["community_name"] = self.community_name
            command.upgrade(cfg, "head")

    def check_schema(self) -> None:
        """Raise SchemaTooNew when a newer version of Yishiting migrated this database.

        For the processes that do not migrate (worker, scheduler, gunicorn's app). An
        unreachable database is left to their own retries and health checks."""
        try:
            with self.engine.connect() as conn:
                _refuse_unknown_revisions(conn, self.url)
        except OperationalError as exc:
            log.warning("schema check skipped: database unreachable (%s)", type(exc.orig).__name__)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        while self._idle:
            self._idle.pop().close()
        if self._engine is not None:
            self._engine.dispose()


def _forget_connections(db: Database | None) -> None:
    """In a forked child: drop (without closing) every connection the parent opened."""
    if db is not None:
        db._idle = deque()
        if db._engine is not None:
            db._engine.dispose(close=False)


def _sqlite_file(url: str) -> str | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def _sqlite_lock_path(url: str) -> str | None:
    database = _sqlite_file(url)
    return f"{database}.writer-lock" if database else None


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database from a background thread.

    By default SQLite checkpoints inside the commit that fills the log past 1,000 pages: that
    request then copies the log and syncs the file, which made it the slowest of all (the p99
    of the webhook). The web app turns automatic checkpoints off on its connections and runs
    a PASSIVE checkpoint every `interval` seconds from its own connection instead; PASSIVE
    never blocks writers or readers. One thread per process, started on first use (so a
    forked gunicorn worker starts its own).

    Under steady load a PASSIVE checkpoint alone never lets the log start over: by the time
    it has copied the log, new commits have been appended, and SQLite rewinds the log only
    for a writer that finds it copied to the end. The log then grew by every commit's pages
    (0.5 GB in 20 s of new residents' reports, bench/README.md), and with it every commit's
    cost. So after the bulk copy, a second PASSIVE checkpoint runs inside the write turn
    (`writers`), where no commit can come between: it copies the few frames added meanwhile
    (a few ms once a second, most of it the file syncs), and the next writer rewinds the log.
    """

    SHORT_LOG = 1000  # frames (pages): about 4 MB

    def __init__(
        self, path: str, writers: WriterQueue | None = None, interval: float = 1.0
    ) -> None:
        self.path = path
        self.writers = writers
        self.interval = interval
        self._pid: int | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        import sqlite3

        stop = self._stop
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not stop.wait(self.interval):
                try:
                    [(_, frames, _)] = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    # A short log has started over lately (another process's checkpointer):
                    # not worth holding up writers for.
                    if self.writers is not None and frames >= self.SHORT_LOG:
                        with self.writers.turn():
                            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except (sqlite3.Error, DatabaseBusy):
                    continue  # busy or briefly unavailable: the next round catches up
        finally:
            conn.close()


class SchemaTooNew(RuntimeError):
    """The database is at a migration this code does not know: a newer version upgraded it."""


@functools.cache
def script_revisions() -> tuple[tuple[str, ...], frozenset[str]]:
    """This code's migration head(s) and every revision it knows (read once per process)."""
    quiet = logging.getLogger("alembic")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # importing Alembic logs a line per plugin at INFO
    try:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        heads = tuple(sorted(script.get_heads()))
        return heads, frozenset(rev.revision for rev in script.walk_revisions())
    finally:
        quiet.setLevel(level)


def _refuse_unknown_revisions(conn: Connection, url: str) -> None:
    from alembic.runtime.migration import MigrationContext

    current = MigrationContext.configure(conn).get_current_heads()
    _, known = script_revisions()
    unknown = sorted(set(current) - known)
    if unknown:
        where = make_url(url).render_as_string(hide_password=True)
        raise SchemaTooNew(
            f"the database {where} is at migration {', '.join(unknown)}, which this version of "
            "Yishiting does not know: a newer version has upgraded it. Run that version (or a "
            "newer one), or restore a backup taken before the upgrade. Nothing was changed."
        )


def alembic_config() -> Any:
    """Alembic's config for the migrations package (an alembic.config.Config)."""
    from alembic.config import Config as AlembicConfig

    import migrations

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def _configure_sqlite(engine: Engine, busy_timeout: float, auto_checkpoint: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Read the file through memory maps: fewer system calls when another process's
        # commit has invalidated this connection's page cache.
        cursor.execute("PRAGMA mmap_size=268435456")
        if not auto_checkpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # a Checkpointer thread does it
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: this runs for every transaction.
        read_only = conn.get_execution_options().get("yishiting_read_only")
        try:
            conn.connection.dbapi_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            # Another program (not one of ours, which take turns) held the lock past the busy
            # timeout: the same "busy" our own write turn reports, not a handler failure.
            if "locked" in str(exc) or "busy" in str(exc):
                raise DatabaseBusy(f"SQLite: {exc}") from None
            raise

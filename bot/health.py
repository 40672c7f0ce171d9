"""`GET /healthz` (alive: the process answers and reaches its database) and `GET /readyz`
(everything the service needs is in order), and the checks behind `yishiting status`.

/readyz's checks, each with its value and an ok flag (200 when all are ok, 503 otherwise):
- database: a `SELECT 1` answers;
- migrations: the database's Alembic revision is the code's head;
- scheduler: some process holds the scheduler's lock (runner.py SchedulerLock), asked without
  taking it: pg_locks for the advisory key on PostgreSQL; on SQLite a shared, non-blocking
  flock on the lock file, which fails while a scheduler holds it exclusively (released at once);
- outbox_backlog: pushes due for longer than `[health] backlog_seconds`, at most `max_backlog`;
- outbox_dead: dead pushes, at most `max_dead`;
- spool_waiting: webhook messages waiting on disk for the database (bot/spool.py). A warning,
  not a failure (the body says "degraded", still 200): they are replayed on their own once
  the database answers. It fails only when the oldest has waited over SPOOL_STUCK_SECONDS;
- spool_bad: spooled messages set aside because they cannot be handled; any fails readiness:
  a resident's message waits for an admin (the files are named in the detail's folder).
Use /healthz for a load balancer or systemd (it fails only when this process cannot serve) and
/readyz for monitoring: a backlog is worth an alert, not a reason to stop taking messages.
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models.outbox import DEAD, PENDING, SENDING, OutboxMessage

from .config import Settings
from .db import Database, script_revisions
from .extension import yishiting
from .spool import spool_counts, spool_folder

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, the value seen, and the limit."""

    name: str
    ok: bool
    value: Any
    detail: str = ""
    warn: bool = False  # ok, but worth a look ("degraded")


# A spooled message is replayed within seconds of the database's return; one waiting longer
# than this means the database has been away that long, or the replay is stuck.
SPOOL_STUCK_SECONDS = 600


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        yishiting(current_app).db.ping()
    except SQLAlchemyError as exc:
        log.error("healthz: database unreachable: %s", type(exc).__name__)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    ys = yishiting(current_app)
    body = summary(readiness(ys.settings, ys.db, ys.conversation.clock()))
    return jsonify(body), 503 if body["status"] == "error" else 200


def summary(checks: list[Check]) -> dict[str, Any]:
    """`{"status": "ok"|"degraded"|"error", "checks": {name: {ok, value, detail[, warn]}}}`
    (/readyz, status): "degraded" when every check passed but some warn."""
    ready = all(check.ok for check in checks)
    degraded = any(check.warn for check in checks)
    return {
        "status": ("degraded" if degraded else "ok") if ready else "error",
        # "warn" only where it is true: the other checks keep the shape monitors know.
        "checks": {
            c.name: {k: v for k, v in asdict(c).items() if k != "name" and (k != "warn" or v)}
            for c in checks
        },
    }


def readiness(settings: Settings, db: Database, now: datetime) -> list[Check]:
    """Every check, in a fixed order; with the database unreachable the rest are failed."""
    try:
        db.ping()
    except SQLAlchemyError as exc:
        reason = f"unreachable ({type(exc).__name__})"
        rest = ("migrations", "scheduler", "outbox_backlog", "outbox_dead")
        return (
            [Check("database", False, "unreachable", reason)]
            + [
                Check(name, False, None, "not checked: the database is unreachable")
                for name in rest
            ]
            + spool_checks(settings)
        )
    checks = [Check("database", True, "ok", "reachable"), _migrations(db)]
    try:
        checks.append(_scheduler(db))
    except SQLAlchemyError as exc:
        checks.append(Check("scheduler", False, None, f"cannot tell ({type(exc).__name__})"))
    try:
        checks.extend(_outbox(db, settings, now))
    except SQLAlchemyError as exc:
        reason = f"cannot read the outbox ({type(exc).__name__})"
        checks += [Check(name, False, None, reason) for name in ("outbox_backlog", "outbox_dead")]
    return checks + spool_checks(settings)


def spool_checks(settings: Settings) -> list[Check]:
    """The webhook's spool: messages waiting for the database, and those set aside."""
    folder = spool_folder(settings)
    counts = spool_counts(folder)
    stuck = counts.oldest_seconds > SPOOL_STUCK_SECONDS
    waiting = Check(
        "spool_waiting",
        not stuck,
        counts.waiting,
        f"{counts.waiting} message(s) waiting for the database in {folder}"
        + (f", the oldest for {counts.oldest_seconds:.0f} s" if counts.waiting else ""),
        warn=counts.waiting > 0,
    )
    bad = Check(
        "spool_bad",
        counts.bad == 0,
        counts.bad,
        f"{counts.bad} message(s) that cannot be handled, kept as *.xml.bad in {folder}",
    )
    return [waiting, bad]


def _migrations(db: Database) -> Check:
    # The table read directly: Alembic's MigrationContext logs at INFO on every probe.
    try:
        with db.session(read_only=True) as session:
            current = tuple(
                sorted(session.scalars(text("SELECT version_num FROM alembic_version")))
            )
    except SQLAlchemyError:
        current = ()  # no alembic_version table: never migrated
    code, known = script_revisions()
    value = {"database": ",".join(current) or None, "code": ",".join(code)}
    if current == code:
        return Check("migrations", True, value, f"current ({value['code']})")
    if not current:
        detail = "the database has no schema: run yishiting init"
    elif set(current) - known:
        detail = f"the database ({value['database']}) is newer than this code: upgrade the code"
    else:
        detail = f"behind ({value['database']} < {value['code']}): run yishiting init"
    return Check("migrations", False, value, detail)


def _scheduler(db: Database) -> Check:
    held = scheduler_lock_held(db)
    if held is None:
        return Check("scheduler", True, None, "in-memory database: one process, no lock")
    if held:
        return Check("scheduler", True, True, "a scheduler holds the lock")
    return Check("scheduler", False, False, "no scheduler runs: start yishiting scheduler")


def scheduler_lock_held(db: Database) -> bool | None:
    """Whether any process holds the scheduler's lock (None: an in-memory SQLite database)."""
    from .schedule.runner import ADVISORY_KEY

    if not db.is_sqlite:
        query = text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid::bigint = 0 AND objid::bigint = :key AND objsubid = 1"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))"
        )
        with db.engine.connect() as conn:
            return bool(conn.execute(query, {"key": ADVISORY_KEY}).scalar())
    database = make_url(db.url).database or ""
    if database in ("", ":memory:"):
        return None
    try:
        fd = os.open(f"{database}.scheduler-lock", os.O_RDONLY)
    except FileNotFoundError:
        return False  # no scheduler has ever run here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock if we took it
    return False


def outbox_counts(session: Session, now: datetime, backlog_seconds: float) -> tuple[int, int]:
    """(pushes due for longer than `backlog_seconds`, dead pushes); /readyz and /metrics."""
    backlog = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.status.in_((PENDING, SENDING)),
            OutboxMessage.next_attempt_at <= now - timedelta(seconds=backlog_seconds),
        )
    )
    dead = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == DEAD)
    )
    return int(backlog or 0), int(dead or 0)


def _outbox(db: Database, settings: Settings, now: datetime) -> list[Check]:
    health = settings.health
    with db.session(read_only=True) as session:
        backlog, dead = outbox_counts(session, now, health.backlog_seconds)
    late = f"due for over {health.backlog_seconds:g} s"
    return [
        Check(
            "outbox_backlog",
            backlog <= health.max_backlog,
            backlog,
            f"{backlog} push(es) {late} (limit {health.max_backlog})",
        ),
        Check(
            "outbox_dead",
            dead <= health.max_dead,
            dead,
            f"{dead} dead push(es) (limit {health.max_dead}): yishiting outbox list --status dead",
        ),
    ]

"""Running the scheduler: one active process at a time, jobs kept in the app's database.

`SchedulerLock` is a PostgreSQL advisory lock held on its own connection (a file lock next to
the database on SQLite); a second `yishiting scheduler` waits on it and takes over when the
first stops or dies (the database drops the lock with its connection; the kernel drops the
file lock with the process).

`Timekeeper` runs APScheduler 3.11 with its SQLAlchemy job store in the app's database. The
jobs have fixed ids and are added only when missing or changed: re-adding one on every start
would reset its next run time and forget a run missed while no scheduler was up. Missed runs
within `misfire_grace_seconds` run once (coalesced) when the scheduler starts.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from words.times import parse_time_of_day

from ..config import Settings
from ..db import Database
from ..heartbeat import Heartbeat
from . import jobs

log = logging.getLogger(__name__)

# pg_advisory_lock's key: any constant the app uses for nothing else ("YST" + 1).
ADVISORY_KEY = 0x59535401
JOBS_TABLE = "apscheduler_jobs"


class SchedulerLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Connection | None = None
        self._fd: int | None = None

    def acquire(self, stop: threading.Event, *, poll: float = 1.0) -> bool:
        """Wait until this process holds the lock (True), or until `stop` is set (False)."""
        waiting_logged = False
        while not stop.is_set():
            if self._try():
                return True
            if not waiting_logged:
                log.info("another scheduler is active; waiting for its lock")
                waiting_logged = True
            stop.wait(poll)
        return False

    def _try(self) -> bool:
        if self.db.is_sqlite:
            database = make_url(self.db.url).database or ""
            path = f"{database}.scheduler-lock" if database not in ("", ":memory:") else None
            if path is None:
                return True  # an in-memory database has only this process anyway
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        conn = self.db.engine.connect()
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        )
        conn.commit()
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.commit()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Timekeeper:
    """The scheduler of one process. `run()` blocks; `start()` runs it in a thread."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = SchedulerLock(db)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        if not self.lock.acquire(self._stop):
            return
        try:
            log.info("scheduler active (this process holds the lock)")
            self._run_scheduler()
        finally:
            self.lock.release()

    def _run_scheduler(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        jobs.RUNTIME = jobs.Runtime(self.settings, self.db, self.clock)
        options = self.settings.scheduler
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.db.engine, tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(2)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": options.misfire_grace_seconds,
            },
            timezone=self.settings.tz,
        )
        self.scheduler = scheduler
        beat = self._heartbeat(scheduler)
        scheduler.start(paused=True)
        try:
            self._ensure_jobs(scheduler)
            scheduler.resume()
            while not self._stop.wait(1.0):
                beat.maybe_log()
        finally:
            scheduler.shutdown(wait=True)
            self.scheduler = None
            log.info("scheduler stopped")

    def _heartbeat(self, scheduler: Any) -> Heartbeat:
        """Count the jobs run (and failed) for the heartbeat line."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

        every = self.settings.health.heartbeat_seconds
        beat = Heartbeat("scheduler (holds the lock)", every, ("jobs run", "jobs failed"))

        def counted(event: JobExecutionEvent) -> None:
            beat.count("jobs failed" if event.exception else "jobs run")
            beat.count(event.job_id)

        scheduler.add_listener(counted, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        return beat

    def _ensure_jobs(self, scheduler: Any) -> None:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        options = self.settings.scheduler
        hour, minute, second = parse_time_of_day(options.housekeeping_at)
        d_hour, d_minute, d_second = parse_time_of_day(options.digest_at)
        wanted = {
            jobs.DIGEST_ID: (
                jobs.morning_digest,
                CronTrigger(
                    hour=d_hour, minute=d_minute, second=d_second, timezone=self.settings.tz
                ),
            ),
            jobs.SWEEP_ID: (jobs.sweep, IntervalTrigger(seconds=options.sweep_seconds)),
            jobs.HOUSEKEEPING_ID: (
                jobs.housekeeping,
                CronTrigger(hour=hour, minute=minute, second=second, timezone=self.settings.tz),
            ),
            jobs.RETRAIN_ID: (
                jobs.retrain,
                CronTrigger(hour=hour, minute=minute, second=second, timezone=self.settings.tz),
            ),
        }
        for job_id, (func, trigger) in wanted.items():
            existing = scheduler.get_job(job_id)
            if existing is not None and str(existing.trigger) == str(trigger):
                log.info("job %s kept; next run %s", job_id, existing.next_run_time)
                continue
            scheduler.add_job(func, trigger, id=job_id, name=job_id, replace_existing=True)
            log.info("job %s scheduled (%s)", job_id, trigger)
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()  # a job this version no longer has

"""The scheduler: fixed jobs kept in the database, one active process, missed runs once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from conftest import write_config
from processes import end
from sqlalchemy import select

from bot.config import Settings, load_settings
from bot.db import Database
from bot.schedule import Timekeeper
from bot.schedule.jobs import housekeeping_slot
from models import ConversationState, JobRun, touch_person
from models.states import push_state

ROOT = Path(__file__).resolve().parent.parent


def runs(db: Database, job: str) -> list[JobRun]:
    with db.session(read_only=True) as session:
        return list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)))


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_the_sweep_forgets_unanswered_questions(backend_settings: Settings) -> None:
    settings = backend_settings.replace(scheduler={"sweep_seconds": 0.5})
    db = Database(settings)
    now = datetime.now(UTC)
    with db.transaction() as conn:
        someone = touch_person(conn, "o_resident_1", now, wrote=True)
    with db.session() as session:
        push_state(
            session,
            someone.id,
            "choose_topic",
            {"ticket": 1},
            now=now - timedelta(hours=1),
            ttl=timedelta(minutes=30),
        )
    keeper = Timekeeper(settings, db)
    keeper.start()
    try:
        wait_for(lambda: len(runs(db, "sweep")) >= 2, 10, "two sweeps")
    finally:
        keeper.stop()
    with db.session(read_only=True) as session:
        assert session.scalars(select(ConversationState)).all() == []
    summaries = [run.summary for run in runs(db, "sweep")]
    assert any("1 expired questions" in (s or "") for s in summaries), summaries
    db.dispose()


def test_a_job_due_while_no_scheduler_ran_runs_once_on_start(settings: Settings) -> None:
    tz = settings.tz
    due = (datetime.now(tz) + timedelta(seconds=3)).replace(microsecond=0)
    settings = settings.replace(
        scheduler={"housekeeping_at": due.strftime("%H:%M:%S"), "sweep_seconds": 60}
    )
    db = Database(settings)
    keeper = Timekeeper(settings, db)
    keeper.start()
    wait_for(
        lambda: keeper.scheduler is not None and keeper.scheduler.get_job("housekeeping"),
        10,
        "the jobs to be stored",
    )
    keeper.stop()
    assert runs(db, "housekeeping") == []
    time.sleep(max(0.0, (due - datetime.now(tz)).total_seconds()) + 1.0)  # down when due

    again = Timekeeper(settings, db)
    again.start()
    try:
        wait_for(lambda: runs(db, "housekeeping"), 10, "the missed housekeeping")
        time.sleep(1.0)
    finally:
        again.stop()
    [run] = runs(db, "housekeeping")
    assert run.scheduled_for == due.astimezone(UTC)
    assert run.finished_at is not None and "removed" in (run.summary or "")

    third = Timekeeper(settings, db)  # a restart does not run it again
    third.start()
    time.sleep(1.5)
    third.stop()
    assert len(runs(db, "housekeeping")) == 1
    db.dispose()


def test_housekeeping_slot_is_the_latest_time_not_after_now(settings: Settings) -> None:
    tz = settings.tz
    now = datetime(2026, 11, 22, 2, 0, tzinfo=tz)
    assert housekeeping_slot(now, "03:30", tz) == datetime(2026, 11, 21, 3, 30, tzinfo=tz)
    later = datetime(2026, 11, 22, 4, 0, tzinfo=tz)
    assert housekeeping_slot(later, "03:30", tz) == datetime(2026, 11, 22, 3, 30, tzinfo=tz)


def _scheduler_process(config: Path, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """A `yishiting scheduler` process; its stderr to `log` when given, else a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "scheduler", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, "YISHITING_CONFIG": ""},
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.PIPE,
    )


def test_two_schedulers_never_run_the_same_job(tmp_path: Path, backend_settings: Settings) -> None:
    config = write_config(
        tmp_path / "scheduler.toml",
        app={"database_url": backend_settings.app.database_url, "secret_key": "x"},
        wechat={"token": "t"},  # production mode (the default) refuses to start without one
        scheduler={"sweep_seconds": 0.5},
    )
    db = Database(load_settings(config, environ={}))
    first = _scheduler_process(config)
    second: subprocess.Popen[bytes] | None = None
    second_log = tmp_path / "second.log"
    try:
        wait_for(lambda: len(runs(db, "sweep")) >= 2, 30, "the first scheduler's sweeps")
        with second_log.open("wb") as log:
            second = _scheduler_process(config, log)
        # Under load a process can take seconds to start: wait until it waits for the lock
        # (not a fixed time), then watch it keep waiting while the first one sweeps.
        waiting = "waiting for its lock"
        wait_for(lambda: waiting in second_log.read_text(), 60, "the second to wait")
        time.sleep(2)
        during = runs(db, "sweep")
        assert len({run.runner for run in during}) == 1  # the second one only waits
        assert len({run.scheduled_for for run in during}) == len(during)

        first.send_signal(signal.SIGKILL)  # dies without letting go: the lock goes with it
        first.wait()
        count = len(runs(db, "sweep"))
        wait_for(lambda: len(runs(db, "sweep")) >= count + 2, 30, "the second to take over")
        second.send_signal(signal.SIGTERM)
        status = second.wait(timeout=30)
    finally:
        for proc in (first, second):
            if proc is not None:
                end(proc)  # never left running, whatever failed above
    err = second_log.read_text()
    assert status == 0, err
    after = runs(db, "sweep")
    assert len({run.runner for run in after}) == 2
    assert len({run.scheduled_for for run in after}) == len(after)
    db.dispose()

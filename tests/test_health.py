"""/readyz, `yishiting status` and the heartbeats: what an operator sees when something is
off (no scheduler, old schema, a backlog, dead pushes, no database) and when all is well."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import write_config
from sqlalchemy import text, update

from bot import create_app
from bot.cli import main
from bot.config import Settings
from bot.db import Database
from bot.delivery.worker import Worker
from bot.schedule import Timekeeper
from bot.schedule.runner import SchedulerLock
from models import OutboxMessage, Push, enqueue, touch_person

CHECKS = [
    "database",
    "migrations",
    "scheduler",
    "outbox_backlog",
    "outbox_dead",
    "spool_waiting",
    "spool_bad",
]


def readyz(settings: Settings) -> tuple[int, dict[str, Any]]:
    app = create_app(settings)  # the databases here are migrated already
    try:
        response = app.test_client().get("/readyz")
        return response.status_code, response.get_json()
    finally:
        app.extensions["yishiting"].db.dispose()


def failing(body: dict[str, Any]) -> list[str]:
    return sorted(name for name, check in body["checks"].items() if not check["ok"])


def queue(db: Database, openid: str, count: int, *, due_ago: timedelta) -> None:
    now = datetime.now(UTC)
    with db.transaction() as conn:
        someone = touch_person(conn, openid, now, wrote=True)
        for n in range(count):
            enqueue(conn, Push("notice", someone.id, {"text": f"通知{n}"}, f"t:{openid}:{n}"), now)
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.person_id == someone.id)
            .values(next_attempt_at=now - due_ago)
        )


@pytest.fixture
def held_lock(backend_settings: Settings) -> Any:
    """The scheduler's lock, held as a running scheduler holds it."""
    db = Database(backend_settings)
    lock = SchedulerLock(db)
    assert lock.acquire(threading.Event())
    yield backend_settings
    lock.release()
    db.dispose()


def test_readyz_is_ok_with_a_scheduler_and_no_backlog(held_lock: Settings) -> None:
    status, body = readyz(held_lock)
    assert status == 200, body
    assert body["status"] == "ok"
    assert sorted(body["checks"]) == sorted(CHECKS)
    migrations = body["checks"]["migrations"]["value"]
    assert migrations["database"] == migrations["code"] and migrations["code"]
    assert body["checks"]["scheduler"]["value"] is True
    assert body["checks"]["outbox_backlog"]["value"] == 0


def test_readyz_fails_while_no_scheduler_holds_the_lock(backend_settings: Settings) -> None:
    status, body = readyz(backend_settings)
    assert status == 503
    assert failing(body) == ["scheduler"]
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "value": False,
        "detail": "no scheduler runs: start yishiting scheduler",
    }


def test_a_running_scheduler_is_seen_and_logs_its_heartbeat(
    backend_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = backend_settings.replace(
        scheduler={"sweep_seconds": 0.3}, health={"heartbeat_seconds": 0.8}
    )
    db = Database(settings)
    keeper = Timekeeper(settings, db)
    caplog.set_level(logging.INFO, logger="yishiting.heartbeat")
    keeper.start()
    try:
        deadline = time.monotonic() + 15
        while "heartbeat: scheduler" not in caplog.text:
            assert time.monotonic() < deadline, "no scheduler heartbeat"
            time.sleep(0.1)
        status, body = readyz(settings)
    finally:
        keeper.stop()
        db.dispose()
    assert status == 200, body
    [line] = [r.getMessage() for r in caplog.records if "heartbeat: scheduler" in r.getMessage()][
        :1
    ]
    assert "alive; last" in line and "jobs run" in line and "jobs failed 0" in line


def test_a_backlog_and_dead_pushes_over_their_limits_fail(held_lock: Settings) -> None:
    settings = held_lock.replace(health={"max_backlog": 2, "backlog_seconds": 60, "max_dead": 1})
    db = Database(settings)
    queue(db, "o_late", 3, due_ago=timedelta(minutes=5))
    queue(db, "o_recent", 5, due_ago=timedelta(seconds=10))  # due, but not for long: no backlog
    status, body = readyz(settings)
    assert status == 503
    assert failing(body) == ["outbox_backlog"]
    assert body["checks"]["outbox_backlog"]["value"] == 3
    assert body["checks"]["outbox_backlog"]["detail"] == ("3 push(es) due for over 60 s (limit 2)")
    with db.transaction() as conn:
        conn.execute(update(OutboxMessage).values(status="dead"))
    status, body = readyz(settings)
    db.dispose()
    assert status == 503
    assert failing(body) == ["outbox_dead"]
    assert body["checks"]["outbox_dead"]["value"] == 8


def test_a_schema_behind_or_ahead_of_the_code_is_named(held_lock: Settings) -> None:
    db = Database(held_lock)
    with db.transaction() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    status, body = readyz(held_lock)
    assert status == 503 and failing(body) == ["migrations"]
    assert body["checks"]["migrations"]["value"] == {"database": "0001", "code": current}
    assert body["checks"]["migrations"]["detail"] == (
        f"behind (0001 < {current}): run yishiting init"
    )
    with db.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    status, body = readyz(held_lock)
    db.dispose()
    assert body["checks"]["migrations"]["detail"] == (
        "the database (ffff) is newer than this code: upgrade the code"
    )


def test_status_prints_each_check_and_exits_1_when_not_ready(config_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--config", str(config_path)])
    assert result.exit_code == 1, result.output
    spool = config_path.parent / "spool"  # next to the SQLite database
    lines = result.stdout.splitlines()
    assert lines[0] == "✓ database: reachable"
    assert lines[1].startswith("✓ migrations: current (")
    assert lines[2:] == [
        "✗ scheduler: no scheduler runs: start yishiting scheduler",
        "✓ outbox_backlog: 0 push(es) due for over 300 s (limit 100)",
        "✓ outbox_dead: 0 dead push(es) (limit 50): yishiting outbox list --status dead",
        f"✓ spool_waiting: 0 message(s) waiting for the database in {spool}",
        f"✓ spool_bad: 0 message(s) that cannot be handled, kept as *.xml.bad in {spool}",
        "NOT ready",
    ]


def test_status_json_matches_readyz_and_exits_0_when_ready(
    settings: Settings, config_path: Path
) -> None:
    db = Database(settings)
    lock = SchedulerLock(db)
    assert lock.acquire(threading.Event())
    try:
        result = CliRunner().invoke(main, ["status", "--config", str(config_path), "--json"])
        _, body = readyz(settings)
    finally:
        lock.release()
        db.dispose()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    assert body["status"] == "ok"


def test_an_unreachable_database_fails_every_check_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml",
        app={"database_url": "sqlite:////nonexistent/dir/y.db", "secret_key": "x-for-tests"},
    )
    result = CliRunner().invoke(main, ["status", "--config", str(config)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout.splitlines()[0] == "✗ database: unreachable (OperationalError)"
    assert all(line.startswith("✗") for line in result.stdout.splitlines()[:5])


def test_the_worker_logs_a_heartbeat_with_what_it_sent(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings.replace(health={"heartbeat_seconds": 0.5}, delivery={"poll_seconds": 0.1})
    db = Database(settings)
    queue(db, "o_resident", 2, due_ago=timedelta(0))
    worker = Worker(settings, db, name="w-test")
    caplog.set_level(logging.INFO, logger="yishiting.heartbeat")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "heartbeat: outbox worker w-test" not in caplog.text:
            assert time.monotonic() < deadline, "no worker heartbeat"
            time.sleep(0.1)
    finally:
        worker.stop()
        thread.join(5)
        db.dispose()
    first = next(r.getMessage() for r in caplog.records if "heartbeat: outbox" in r.getMessage())
    assert "alive; last" in first
    assert "claimed 2, sent 2, retried 0, held 0, dead 0, failed batches 0" in first

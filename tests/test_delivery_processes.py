"""Delivery under load and failure, with real worker processes on PostgreSQL.

Each test queues pushes with unique texts, runs `yishiting worker` processes against a fake
WeChat (a real HTTP server in this process) and counts what the fake received.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from processes import end
from sqlalchemy import func, select

from bot.config import Settings, load_settings
from bot.db import Database
from devtools.fake_wechat import FakeWeChat
from models import OutboxMessage, Push, enqueue, touch_person

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def pg_url(postgres_cluster: Any) -> str:
    url: str = postgres_cluster.new_database()
    db = Database(Settings().replace(app={"database_url": url}))
    db.migrate()
    db.dispose()
    return url


def worker_config(tmp_path: Path, url: str, fake: FakeWeChat, **delivery: Any) -> Path:
    return write_config(
        tmp_path / "worker.toml",
        app={"database_url": url, "secret_key": "s3cret", "log_level": "WARNING"},
        wechat={
            "token": "t",
            "app_id": "wx_fake_app",
            "app_secret": "fake_secret",
            "api_base_url": fake.url,
            "templates": "notice=TPL_NOTICE",
        },
        delivery={
            "poll_seconds": 0.2,
            "timeout_seconds": 1.0,
            "lease_seconds": 3.0,
            "retry_base_seconds": 0.2,
            "retry_max_seconds": 2.0,
            **delivery,
        },
    )


def queue_pushes(config: Path, count: int, people: int = 20) -> None:
    """`count` notices with unique texts, to people who never wrote (so: the template)."""
    db = Database(load_settings(config, environ={}))
    now = datetime.now(UTC)
    with db.transaction() as conn:
        ids = [touch_person(conn, f"o_person_{n}", now, wrote=False).id for n in range(people)]
        for n in range(count):
            payload = {"announcement": 0, "text": f"推送{n}"}
            enqueue(conn, Push("notice", ids[n % people], payload, f"load:{n}"), now)
    db.dispose()


def start_worker(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, "YISHITING_CONFIG": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def delivered(fake: FakeWeChat) -> Counter[str]:
    return Counter(r.body["data"]["remark"]["value"] for r in fake.received("template"))


def statuses(config: Path) -> dict[str, int]:
    db = Database(load_settings(config, environ={}))
    with db.session(read_only=True) as session:
        rows = session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    db.dispose()
    return {status: count for status, count in rows}


def wait_until_drained(config: Path, count: int, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = statuses(config)
        if done.get("sent", 0) + done.get("dead", 0) == count:
            return done
        time.sleep(0.3)
    raise AssertionError(f"not drained in {timeout} s: {statuses(config)}")


def stop(*workers: subprocess.Popen[bytes]) -> None:
    try:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            _, err = worker.communicate(timeout=20)
            assert worker.returncode == 0, err.decode()
    finally:
        for worker in workers:
            end(worker)  # never left running, whatever happened above


def test_two_workers_deliver_a_thousand_pushes_exactly_once(
    tmp_path: Path, pg_url: str, fake: FakeWeChat
) -> None:
    # A lease long enough that a worker stalled by a busy machine (the whole suite on two
    # cores) still records its batch before the lease ends: past it, the other worker may take
    # the rows again — at least once is the design, exactly once is what this test checks.
    config = worker_config(tmp_path, pg_url, fake, lease_seconds=15.0)
    queue_pushes(config, 1000)
    workers = [start_worker(config), start_worker(config)]
    try:
        done = wait_until_drained(config, 1000, timeout=120)
    finally:
        stop(*workers)
    assert done == {"sent": 1000}
    counts = delivered(fake)
    assert set(counts) == {f"推送{n}" for n in range(1000)}
    assert max(counts.values()) == 1
    assert fake.token_fetches() == 1  # shared by both processes


def test_a_flaky_wechat_still_gets_everything_and_only_lost_answers_repeat(
    tmp_path: Path, pg_url: str, fake: FakeWeChat
) -> None:
    fake.slow_seconds = 1.5  # longer than the workers' 1 s timeout
    fake.chaos(rate=0.3, seed=20261122)
    config = worker_config(tmp_path, pg_url, fake)
    queue_pushes(config, 500)
    workers = [start_worker(config), start_worker(config)]
    try:
        done = wait_until_drained(config, 500, timeout=180)
    finally:
        stop(*workers)
    faults = fake.faults()
    assert sum(faults.values()) > 100, faults  # the fake really failed about 30% of calls
    assert done == {"sent": 500}  # every error in the mix is worth a retry: none dead
    counts = delivered(fake)
    assert set(counts) == {f"推送{n}" for n in range(500)}
    repeats = sum(n - 1 for n in counts.values())
    # A repeat happens only where the fake took a send but its answer never arrived.
    answer_lost = faults.get("lost", 0) + faults.get("slow", 0)
    print(f"faults {faults}; repeated sends {repeats} of {answer_lost} lost answers")
    assert repeats <= answer_lost


def test_a_worker_killed_mid_batch_loses_nothing(
    tmp_path: Path, pg_url: str, fake: FakeWeChat
) -> None:
    batch = 50
    config = worker_config(tmp_path, pg_url, fake, batch_size=batch)
    queue_pushes(config, 600)
    first = start_worker(config)
    try:
        deadline = time.monotonic() + 60
        while len(fake.received("template")) < 2 * batch + batch // 2:
            assert time.monotonic() < deadline, "the worker sent nothing"
            time.sleep(0.01)
    finally:
        first.kill()  # SIGKILL: no clean-up, its batch stays claimed until the lease ends
        first.wait()
    assert statuses(config).get("sending", 0) > 0
    second = start_worker(config)
    try:
        done = wait_until_drained(config, 600, timeout=120)
    finally:
        stop(second)
    assert done == {"sent": 600}
    counts = delivered(fake)
    assert set(counts) == {f"推送{n}" for n in range(600)}
    assert sum(n - 1 for n in counts.values()) <= batch

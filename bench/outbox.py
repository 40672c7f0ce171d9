"""Benchmark delivery: 10,000 pushes through 4 `yishiting worker` processes, on PostgreSQL.

Starts a throwaway PostgreSQL cluster (as tests/postgres.py does) and the fake WeChat API
(`yishiting fake-wechat`) in its own process, then measures, in one run:

1. enqueue cost: a domain transaction (a person's upsert) with and without one outbox row
   queued in it, 2,000 transactions each; the difference is what a push adds;
2. the reference: 4 processes posting the same 10,000 template sends straight to the fake
   with `requests` (no database) — the ceiling this machine's fake and HTTP stack allow;
3. delivery: 10,000 pushes queued, 4 worker processes started; the time until the last is
   recorded as sent, and pushes/s; every push must reach the fake exactly once.

Prints the figures and the ratio delivery/reference.

    .venv/bin/python bench/outbox.py [--pushes 10000] [--workers 4] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import func, select, text  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from models import OutboxMessage, Push, enqueue, touch_person  # noqa: E402

TARGET_PUSHES_PER_SECOND = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_fake() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "fake-wechat", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "_fake/faults", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the fake WeChat did not start")


def fake_call(url: str, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(
        url + path, method=method, data=b"{}" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def write_config(folder: Path, database_url: str, fake_url: str, batch: int) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f"""
[app]
database_url = "{database_url}"
secret_key = "bench"
log_level = "WARNING"
[wechat]
token = "bench"
app_id = "wx_fake_app"
app_secret = "fake_secret"
api_base_url = "{fake_url}"
templates = "notice=TPL_BENCH"
[delivery]
poll_seconds = 0.2
batch_size = {batch}
""",
        encoding="utf-8",
    )
    return path


def measure_enqueue(db: Database, count: int) -> tuple[float, float]:
    """Seconds per transaction: a person's upsert alone, then with one push queued."""
    timings = {}
    for with_push in (False, True):
        started = time.perf_counter()
        for n in range(count):
            now = datetime.now(UTC)
            with db.transaction() as conn:
                person = touch_person(conn, f"o_enqueue_{n % 50}", now, wrote=True)
                if with_push:
                    payload = {"announcement": 0, "text": "enqueue cost"}
                    enqueue(conn, Push("notice", person.id, payload, f"enq:{n}"), now)
        timings[with_push] = (time.perf_counter() - started) / count
    with db.transaction() as conn:
        conn.execute(text("DELETE FROM outbox"))
    return timings[False], timings[True]


def _post_many(url: str, start: int, stop: int) -> None:
    import requests

    session = requests.Session()
    token = session.post(
        url + "cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": "wx_fake_app", "secret": "fake_secret"},
    ).json()["access_token"]
    for n in range(start, stop):
        body = {
            "touser": f"o_person_{n % 100}",
            "template_id": "TPL_BENCH",
            "data": {"first": {"value": "社区通知"}, "remark": {"value": f"参考{n}"}},
        }
        answer = session.post(
            url + "cgi-bin/message/template/send", params={"access_token": token}, json=body
        ).json()
        assert answer["errcode"] == 0, answer


def measure_reference(url: str, pushes: int, processes: int) -> float:
    """Pushes/s when 4 processes post straight to the fake (no database, no outbox)."""
    share = pushes // processes
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(target=_post_many, args=(url, i * share, (i + 1) * share))
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return share * processes / (time.perf_counter() - started)


def drain(config: Path, db: Database, workers: int, kind: str | None = None) -> float:
    """Start `workers` `yishiting worker` processes; seconds until every push (of `kind`)
    is recorded as sent. The workers are stopped before returning."""
    unsent = select(func.count()).where(OutboxMessage.status != "sent")
    if kind is not None:
        unsent = unsent.where(OutboxMessage.kind == kind)
    env = {**os.environ, "YISHITING_CONFIG": ""}
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker", "--config", str(config)], cwd=ROOT, env=env
        )
        for _ in range(workers)
    ]
    try:
        while db_scalar(db, unsent):
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()


def db_scalar(db: Database, query: Any) -> Any:
    with db.session(read_only=True) as session:
        return session.scalar(query)


def measure_delivery(config: Path, db: Database, url: str, pushes: int, workers: int) -> float:
    now = datetime.now(UTC)
    with db.transaction() as conn:
        people = [touch_person(conn, f"o_person_{n}", now, wrote=False).id for n in range(100)]
        for n in range(pushes):
            payload = {"announcement": 0, "text": f"推送{n}"}
            enqueue(conn, Push("notice", people[n % 100], payload, f"bench:{now}:{n}"), now)
    fake_call(url, "_fake/reset", "POST")
    elapsed = drain(config, db, workers)
    received = fake_call(url, "_fake/received")
    assert isinstance(received, list)
    counts = Counter(r["body"]["data"]["remark"]["value"] for r in received)
    assert len(counts) == pushes and max(counts.values()) == 1, "not exactly once"
    with db.transaction() as conn:
        conn.execute(text("DELETE FROM outbox"))
    return pushes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    from postgres import Cluster

    cluster = Cluster()
    cluster.start()
    fake, url = start_fake()
    try:
        database_url = cluster.new_database()
        folder = Path(tempfile.mkdtemp(prefix="yishiting-bench-"))
        config = write_config(folder, database_url, url, args.batch)
        db = Database(load_settings(config, environ={}))
        db.migrate()
        bare, with_push = measure_enqueue(db, 2000)
        print(
            f"enqueue: a domain transaction {bare * 1e3:.2f} ms, with one push queued "
            f"{with_push * 1e3:.2f} ms: a push adds {(with_push - bare) * 1e6:.0f} µs"
        )
        references, deliveries = [], []
        for round_ in range(1, args.rounds + 1):
            reference = measure_reference(url, args.pushes, args.workers)
            delivery = measure_delivery(config, db, url, args.pushes, args.workers)
            references.append(reference)
            deliveries.append(delivery)
            print(
                f"round {round_}: reference (4 processes posting straight to the fake) "
                f"{reference:.0f}/s; delivered through the outbox {delivery:.0f}/s "
                f"({args.pushes} in {args.pushes / delivery:.1f} s), "
                f"ratio {delivery / reference:.2f}"
            )
        best = statistics.median(deliveries)
        verdict = "met" if best >= TARGET_PUSHES_PER_SECOND else "MISSED"
        print(
            f"median delivery {best:.0f} pushes/s with {args.workers} workers on PostgreSQL "
            f"(target >= {TARGET_PUSHES_PER_SECOND}): {verdict}"
        )
        db.dispose()
    finally:
        fake.terminate()
        fake.wait()
        cluster.stop()


if __name__ == "__main__":
    main()

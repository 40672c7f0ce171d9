"""Benchmark the open API: filing a work order through POST /api/v1/tickets as a ratio of a
bare Flask endpoint that does nothing, in the same process and the same run.

Makes a fresh SQLite database (`yishiting init`, a lift technician to route to, one API key
with tickets:write and a rate limit out of the way), then alternates rounds: N requests to
the bare endpoint (`bench/bare_app.py`'s app, through Flask's test client), then N work
orders (each its own external_id: every one filed — authenticated, validated, classified,
routed, numbered, its holder's push queued, audited) through the app's test client. Prints
each side's median requests/s over the rounds and the ratio. No sockets: what is measured is
the app's own work per request, not a server's. For scale, GET /api/v1/topics is timed in
the same rounds: the door every API request passes (the key, the rate limit's count, the
audit row) and a small read.

    .venv/bin/python bench/api.py [--requests 300] [--rounds 5] [--deliveries]

`--deliveries` adds the webhook deliveries-per-second measurement (bench/api_deliveries.py,
the webhooks part of issue #18) to the run, when that module is there.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from models.api.keys import create_key, parse_scopes  # noqa: E402
from models.staff import add_staff  # noqa: E402

TEXTS = (
    "{n}号楼电梯坏了，困住了两个老人，一直在报警",
    "{n}号楼楼道灯不亮，晚上看不清台阶",
    "小区东门垃圾桶满了，{n}号楼附近味道很大",
    "{n}号楼顶楼漏水，天花板发霉了",
)


def fresh_app() -> tuple[Flask, str]:
    """The app on a new, initialised SQLite database; an API key's secret."""
    work = Path(tempfile.mkdtemp(prefix="yishiting-bench-api-"))
    config = work / "config.toml"
    config.write_text(
        '[app]\ndatabase_url = "sqlite:///bench.db"\nsecret_key = "bench"\n'
        '[wechat]\ntoken = "bench-token"\n[api]\nrate_limit_per_minute = 100000000\n',
        encoding="utf-8",
    )
    yishiting = Path(sys.executable).parent / "yishiting"
    subprocess.run(
        [str(yishiting), "init", "--config", str(config)], check=True, capture_output=True
    )
    os.chdir(work)  # the database path is relative to the config's folder
    app = create_app(load_settings(config, environ={}))
    now = datetime.now(UTC)
    with app.extensions["yishiting"].db.session() as session:
        for openid, name, topic in (
            ("o_wang", "王师傅", "电梯设施"),
            ("o_zhao", "赵师傅", "环境卫生"),
            ("o_li", "李师傅", "物业服务"),
        ):
            add_staff(session, openid, name, (topic,), (), None, 1, now)
        _, secret = create_key(
            session,
            name="bench",
            scopes=parse_scopes("tickets:write"),
            community_id=None,
            created_by="bench",
            now=now,
        )
    return app, secret


def bare_client() -> FlaskClient:
    from bare_app import app

    return app.test_client()


def time_bare(client: FlaskClient, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        answer = client.post("/wechat")
        assert answer.status_code == 200
    return requests / (time.perf_counter() - started)


def time_door(client: FlaskClient, secret: str, requests: int) -> float:
    """GET /api/v1/topics: the API's door alone (key, rate limit, audit) and a small read."""
    headers = {"Authorization": f"Bearer {secret}"}
    started = time.perf_counter()
    for _ in range(requests):
        answer = client.get("/api/v1/topics", headers=headers)
        assert answer.status_code == 200
    return requests / (time.perf_counter() - started)


def time_orders(client: FlaskClient, secret: str, requests: int, first: int) -> float:
    headers = {"Authorization": f"Bearer {secret}"}
    started = time.perf_counter()
    for n in range(first, first + requests):
        body = {
            "text": TEXTS[n % len(TEXTS)].format(n=n % 40 + 1),
            "source": "12345",
            "external_id": f"BENCH{n:08d}",
        }
        answer = client.post("/api/v1/tickets", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
    return requests / (time.perf_counter() - started)


def measure(requests: int, rounds: int) -> dict[str, float]:
    app, secret = fresh_app()
    api, bare = app.test_client(), bare_client()
    time_bare(bare, 50)  # warm-up: imports, first requests
    time_orders(api, secret, 20, 0)
    bare_runs, door_runs, api_runs = [], [], []
    for r in range(rounds):
        bare_runs.append(time_bare(bare, requests))
        door_runs.append(time_door(api, secret, requests))
        api_runs.append(time_orders(api, secret, requests, 1000 + r * requests))
    bare_rps, api_rps = statistics.median(bare_runs), statistics.median(api_runs)
    door_rps = statistics.median(door_runs)
    return {
        "bare_rps": bare_rps,
        "door_rps": door_rps,
        "api_rps": api_rps,
        "ratio": api_rps / bare_rps,
    }


def deliveries(argv: list[str]) -> dict[str, Any] | None:
    """>>> WEBHOOK DELIVERIES GO HERE <<< — the webhooks engineer's measurement of
    deliveries per second through 4 workers to the fake platform (target >= 500/s), in
    bench/api_deliveries.py as `main(argv) -> dict`. Not written here; None until it is."""
    try:
        module = importlib.import_module("api_deliveries")
    except ModuleNotFoundError:
        return None
    result: dict[str, Any] = module.main(argv)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per side a round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--deliveries",
        action="store_true",
        help="also measure webhook deliveries per second (bench/api_deliveries.py)",
    )
    args, rest = parser.parse_known_args()
    figures = measure(args.requests, args.rounds)
    print(
        f"in-process (Flask test client), SQLite, {args.rounds} round(s) of {args.requests} "
        f"requests a side, alternating, {os.cpu_count()} cores"
    )
    print(f"{'endpoint':40} {'req/s':>8}")
    print(f"{'bare Flask (nothing)':40} {figures['bare_rps']:8.0f}")
    print(f"{'GET /api/v1/topics (the door, for scale)':40} {figures['door_rps']:8.0f}")
    print(f"{'POST /api/v1/tickets (filed)':40} {figures['api_rps']:8.0f}")
    print(f"ratio api/bare = {figures['ratio']:.3f}")
    if args.deliveries:
        found = deliveries(rest)
        print(
            "webhook deliveries:",
            found if found is not None else "bench/api_deliveries.py is not there yet",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the webhook against a bare Flask endpoint, under the same gunicorn, in one run.

Starts gunicorn (2 sync workers) twice on this machine — first `bench/bare_app.py`, which only
answers "success", then `bot.wsgi:app` on a fresh SQLite database — and drives each with wrk
(16 connections, signed text messages with unique MsgIds): the 帮助 command (the webhook path
of issue #2: verify, parse, dedupe insert, route, reply) and residents' requests (each filed
as a ticket: classify, number, store). Prints requests/s and p50/p99 latency and the ratios.
Needs Debian's `wrk` package.

    .venv/bin/python bench/webhook.py [--duration 20] [--connections 16] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wechat.protocol import signature  # noqa: E402

TOKEN = "bench-token"
TARGET_RATIO = 0.40
TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    app: str, env: dict[str, str], log: Path, preload: bool
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if preload:
        cmd.append("--preload")
    proc = subprocess.Popen(
        [*cmd, app], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn for {app} exited; see {log}")
        try:
            urllib.request.urlopen(f"{url}/wechat", timeout=1).read()
            return proc, url
        except urllib.error.HTTPError:
            return proc, url  # up (403 without a signature)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"gunicorn for {app} did not start")


def signed_queries(count: int) -> Path:
    """A file of `count` signed query strings, each with its own nonce and the current time,
    as WeChat sends them: the webhook refuses a (timestamp, nonce) pair used before with
    another body (issue #14), so wrk's requests cannot share one signed URL."""
    ts = str(int(time.time()))
    prefix = f"{os.getpid() % 1000:03d}{time.time_ns() % 10**6:06d}"
    handle, name = tempfile.mkstemp(prefix="yishiting-wrk-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="ascii") as out:
        for n in range(count):
            nonce = f"{prefix}{n:08d}"
            out.write(f"signature={signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}\n")
    return Path(name)


def run_wrk(
    url: str, duration: int, connections: int, texts: str, new_senders: bool = False
) -> dict[str, float]:
    """`new_senders`: every request from someone never seen before (a new person row each)."""
    # More signed URLs than the fastest endpoint can use in the run (bare Flask ~3,000/s).
    queries = signed_queries(max(20_000, duration * 4_000))
    try:
        return _wrk(url, duration, connections, texts, queries, new_senders)
    finally:
        queries.unlink()


def _wrk(
    url: str, duration: int, connections: int, texts: str, queries: Path, new_senders: bool
) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / "webhook.lua"),
            url,
        ],
        env={
            **os.environ,
            "WRK_QUERIES": str(queries),
            "WRK_TEXTS": texts,
            "WRK_NEW_SENDERS": "1" if new_senders else "0",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    seconds = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / seconds,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "non_2xx": result["non_2xx"],
        "socket_errors": result["socket_errors"],
        "requests": result["requests"],
    }


def measure(
    app: str,
    env: dict[str, str],
    log: Path,
    args: argparse.Namespace,
    preload: bool,
    texts: str,
) -> dict[str, float]:
    proc, url = start_gunicorn(app, env, log, preload)
    new = bool(getattr(args, "new_residents", False))  # bench/lifecycle.py --new-residents
    try:
        run_wrk(url, 2, args.connections, texts, new)  # warm up: imports, connections, caches
        return run_wrk(url, args.duration, args.connections, texts, new)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def init_sqlite() -> tuple[Path, Path, dict[str, str]]:
    """A temporary folder with a config and an initialised SQLite database; the environment
    gunicorn runs the app with."""
    work = Path(tempfile.mkdtemp(prefix="yishiting-bench-"))
    config = work / "config.toml"
    config.write_text(
        '[app]\ndatabase_url = "sqlite:///bench.db"\nsecret_key = "bench"\n'
        f'[wechat]\ntoken = "{TOKEN}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "YISHITING_CONFIG": str(config)}
    yishiting = Path(sys.executable).parent / "yishiting"
    subprocess.run(
        [str(yishiting), "init", "--config", str(config)], check=True, capture_output=True
    )
    return work, config, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")

    work, config, env = init_sqlite()

    bare_runs, full_runs, report_runs = [], [], []
    for _ in range(args.rounds):
        bare_runs.append(measure("bench.bare_app:app", env, work / "bare.log", args, False, "help"))
        full_runs.append(measure("bot.wsgi:app", env, work / "full.log", args, True, "help"))
        report_runs.append(measure("bot.wsgi:app", env, work / "full.log", args, True, "requests"))

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(
        f"gunicorn 2 sync workers, wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"{args.rounds} round(s), {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, runs in (
        ("bare Flask 'success'", bare_runs),
        ("webhook: 帮助 (nothing filed)", full_runs),
        ("webhook: requests → tickets", report_runs),
    ):
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
        print(
            f"{name:<34}{med(runs, 'rps'):>9.0f}{med(runs, 'p50_ms'):>9.1f}"
            f"{med(runs, 'p99_ms'):>9.1f}{errors:>8.0f}"
        )
    ratio = med(full_runs, "rps") / med(bare_runs, "rps")
    p99 = med(full_runs, "p99_ms")
    ok = ratio >= TARGET_RATIO and p99 < TARGET_P99_MS
    print(
        f"ratio webhook/bare = {ratio:.2f} (target >= {TARGET_RATIO}); "
        f"webhook p99 = {p99:.1f} ms (target < {TARGET_P99_MS:.0f}) -> "
        f"{'met' if ok else 'MISSED'}"
    )
    report_ratio = med(report_runs, "rps") / med(bare_runs, "rps")
    print(
        f"requests → tickets: ratio to bare = {report_ratio:.2f}, "
        f"p99 = {med(report_runs, 'p99_ms'):.1f} ms (nobody to route to, a fresh database; "
        "the issue #5 target is measured by bench/lifecycle.py)"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

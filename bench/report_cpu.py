"""CPU time of one resident's report in-process: no gunicorn, no wrk.

The same messages as bench/lifecycle.py (the same four request texts, each made unique) on a
fresh SQLite database where every topic has a staff member. By default through
`Conversation.handle` (no HTTP); with `--webhook`, as signed WeChat requests through Flask's
test client (verify, parse, replay checks, reply XML: what gunicorn's workers run). Senders:
500 returning residents, or with `--new-residents` someone new each message (each report
also creates its person row). Prints the median CPU microseconds per message over several
batches, and the wall time per message the write turn is held (from getting it to the end of
the commit: the serial section two workers queue for on SQLite). CPU time (not
wall time) so that other load on a shared machine moves it little; to compare two versions
of the code, alternate them on the same machine:

    .venv/bin/python bench/report_cpu.py [--messages 3000] [--batches 5] [--new-residents]
                                         [--webhook] [--processes 2] [--profile FILE]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python /path/to/other/checkout/bench/report_cpu.py
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.classify import seed_default_topics  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.wechat.protocol import signature  # noqa: E402
from handlers import Message  # noqa: E402
from models import enabled_topics  # noqa: E402
from models.staff import LEVEL_COMMUNITY, add_staff  # noqa: E402

TOKEN = "bench"
TEXTS = (
    "3号楼2单元的楼道灯坏了一个星期了，晚上下楼很不安全，麻烦物业尽快来修一下。",
    "小区东门口每天晚上都有车乱停，把消防通道堵住了，希望社区管一管。",
    "16号楼的电梯这两天老是停在半路，家里有老人，上下楼很担心，请尽快安排检修。",
    "楼上装修从早上七点就开始打电钻，周末也不停，噪音太大了，孩子没法休息。",
)


def sender(count: int, new: bool) -> str:
    return f"o_bench_new_{os.getpid()}_{count}" if new else f"o_bench_{count % 500}"


def text_of(count: int) -> str:
    return f"{TEXTS[count % len(TEXTS)]}（{count}室）"


def app_with_staff(work: Path) -> Any:
    config = work / "config.toml"
    config.write_text(
        f'[app]\ndatabase_url = "sqlite:///{work}/bench.db"\nsecret_key = "bench"\n'
        f'mode = "development"\n[wechat]\ntoken = "{TOKEN}"\n'
        "[abuse]\nper_minute = 1000000\nper_day = 1000000000\nmax_open_tickets = 1000000\n",
        encoding="utf-8",
    )
    app = create_app(load_settings(config, environ={}))
    ext = app.extensions["yishiting"]
    ext.db.migrate()
    now = datetime.now(UTC)
    with ext.db.session() as session:
        seed_default_topics(session, now)
        for n, topic in enumerate(enabled_topics(session)):
            add_staff(session, f"o_staff_{n}", f"员工{n}", [topic.name], [], None, 1, now)
        add_staff(session, "o_supervisor", "值班主任", [], [], None, LEVEL_COMMUNITY, now)
    return app


def time_write_turns(db: Any) -> list[float]:
    """Add up the wall time the main thread holds the write turn (from getting it to the end
    of the commit): the serial section writers queue for. On PostgreSQL, the transaction."""
    spent = [0.0, 0.0]  # wall, CPU
    owner = db._writers if db._writers is not None else db
    name = "turn" if db._writers is not None else "transaction"
    inner = getattr(owner, name)
    main = threading.main_thread()

    @contextlib.contextmanager
    def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with inner(*args, **kwargs) as held:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                yield held
            finally:
                if threading.current_thread() is main:
                    spent[0] += time.perf_counter() - started
                    spent[1] += time.thread_time() - cpu

    setattr(owner, name, timed)
    return spent


def direct(app: Any, new: bool) -> Callable[[int], None]:
    conversation = app.extensions["yishiting"].conversation

    def send(count: int) -> None:
        message = Message(
            kind="text",
            sender=sender(count, new),
            account="gh_bench",
            created_at=datetime.now(UTC),
            msg_id=str(count),
            text=text_of(count),
        )
        conversation.handle(message)

    return send


def webhook(app: Any, new: bool) -> Callable[[int], None]:
    client = app.test_client()

    def send(count: int) -> None:
        ts, nonce = str(int(time.time())), f"{count}{secrets.randbelow(10**6):06d}"
        query = f"signature={signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
        body = (
            "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{sender(count, new)}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text_of(count)}]]></Content><MsgId>{count}</MsgId></xml>"
        )
        response = client.post(f"/wechat?{query}", data=body.encode())
        assert response.status_code == 200, response.get_data()

    return send


def run_batches(app: Any, args: argparse.Namespace, worker: int) -> dict[str, list[float]]:
    """CPU and write-transaction µs per message of each batch, the first (warm-up) dropped."""
    db = app.extensions["yishiting"].db
    send = (webhook if args.webhook else direct)(app, args.new_residents)
    spent = time_write_turns(db)
    profile = cProfile.Profile() if args.profile and worker == 0 else None
    cpu, turns, turns_cpu, wal = [], [], [], []
    wal_path = Path(f"{db.url.removeprefix('sqlite:///')}-wal")
    count = worker * 10**8  # each process its own message ids (and new senders)
    for batch in range(args.batches + 1):  # the first batch warms up and is not counted
        if profile is not None and batch == 1:
            profile.enable()
        spent[:] = [0.0, 0.0]
        started = time.process_time()
        for _ in range(args.messages):
            count += 1
            send(count)
        cpu.append((time.process_time() - started) / args.messages * 1e6)
        turns.append(spent[0] / args.messages * 1e6)
        turns_cpu.append(spent[1] / args.messages * 1e6)
        wal.append(wal_path.stat().st_size / 1e6 if wal_path.exists() else 0.0)
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    return {"cpu": cpu[1:], "turns": turns[1:], "turns_cpu": turns_cpu[1:], "wal": wal}


def in_processes(app: Any, args: argparse.Namespace) -> list[dict[str, list[float]]]:
    """Run the batches in `args.processes` forked processes at once (as gunicorn's workers:
    they take turns to write, and each commit invalidates the others' page caches)."""
    app.extensions["yishiting"].db.dispose()
    children = []
    for worker in range(args.processes):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            code = 1
            try:
                with os.fdopen(write, "w") as out:
                    json.dump(run_batches(app, args, worker), out)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, read))
    results = []
    for pid, read in children:
        with os.fdopen(read) as inp:
            results.append(json.loads(inp.read() or "{}"))
        _, status = os.waitpid(pid, 0)
        if status:
            raise SystemExit(f"a bench process failed ({status})")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--new-residents", action="store_true", help="a new sender each message")
    parser.add_argument("--webhook", action="store_true", help="signed requests through Flask")
    parser.add_argument(
        "--processes", type=int, default=1, help="writers at once, as gunicorn's workers"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of the measured batches")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yishiting-cpu-"))
    app = app_with_staff(work)
    started = time.perf_counter()
    if args.processes > 1:
        results = in_processes(app, args)
    else:
        results = [run_batches(app, args, 0)]
    elapsed = time.perf_counter() - started
    cpu = [b for r in results for b in r["cpu"]]
    turns = [b for r in results for b in r["turns"]]
    turns_cpu = [b for r in results for b in r["turns_cpu"]]
    what = "signed webhook requests" if args.webhook else "Conversation.handle calls"
    who = "a new resident each" if args.new_residents else "500 returning residents"
    total = args.processes * args.messages * (args.batches + 1)
    print(
        f"{args.processes} process(es) × {args.batches} batches of {args.messages} reports "
        f"({what}, {who}); CPU µs per report: {' / '.join(f'{b:.0f}' for b in cpu)}; "
        f"median {statistics.median(cpu):.0f}; write turn held µs per report: "
        f"{' / '.join(f'{b:.0f}' for b in turns)}; median {statistics.median(turns):.0f} "
        f"(CPU in it: median {statistics.median(turns_cpu):.0f}); "
        f"{total / elapsed:.0f} reports/s (wall, moves with the machine's load); "
        f"largest WAL at a batch's end {max(w for r in results for w in r['wal']):.0f} MB"
    )
    app.extensions["yishiting"].db.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

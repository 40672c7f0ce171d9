"""Benchmark a resident's report end to end: classify, ticket, assignee, outbox row, reply.

The webhook benchmark's set-up (bench/webhook.py: gunicorn, 2 sync workers, wrk with 16
connections, signed messages with unique MsgIds) on a SQLite database where every topic has a
staff member and there is a duty supervisor, so every request filed is routed to someone, gets
its timeline entry and queues the push to its assignee. Compared, in the same run, with the
bare Flask endpoint. Prints requests/s, p50/p99, the ratio, and checks that every ticket got
an assignee and a push. Needs Debian's `wrk` package.

With `--new-residents` every message comes from someone never seen before, so each one also
creates its person row (the first report of a new follower); without it 500 returning
senders write (each has their row after the first seconds).

    .venv/bin/python bench/lifecycle.py [--duration 20] [--connections 16] [--rounds 3]
                                        [--settle 15] [--new-residents]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select  # noqa: E402
from webhook import init_sqlite, measure  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from models import InboundMessage, OutboxMessage, Ticket, enabled_topics  # noqa: E402
from models.staff import LEVEL_COMMUNITY, add_staff  # noqa: E402

TARGET_RATIO = 0.30
TARGET_P99_MS = 50.0


def staff_every_topic(config: Path) -> None:
    db = Database(load_settings(config, environ={}))
    now = datetime.now(UTC)
    with db.session() as session:
        for n, topic in enumerate(enabled_topics(session)):
            add_staff(session, f"o_staff_{n}", f"员工{n}", [topic.name], [], None, 1, now)
        add_staff(session, "o_supervisor", "值班主任", [], [], None, LEVEL_COMMUNITY, now)
    db.dispose()


def counts(config: Path) -> tuple[int, int, int, int]:
    """Messages stored, tickets filed, of them routed, and assignee pushes queued."""
    db = Database(load_settings(config, environ={}))
    with db.session(read_only=True) as session:
        stored = session.scalar(select(func.count()).select_from(InboundMessage)) or 0
        tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
        routed = session.scalar(select(func.count()).where(Ticket.assignee_id.is_not(None))) or 0
        pushes = (
            session.scalar(select(func.count()).where(OutboxMessage.kind == "ticket.assigned")) or 0
        )
    db.dispose()
    return stored, tickets, routed, pushes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--settle",
        type=int,
        default=15,
        help="Seconds of unmeasured load first, so the database and its WAL are in use.",
    )
    parser.add_argument(
        "--new-residents",
        action="store_true",
        help="Every message from a new sender: each report also creates its person row.",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")

    work, config, env = init_sqlite()
    staff_every_topic(config)
    # [abuse] on (every message counted, every report's open tickets counted), with limits
    # no bench sender reaches: 500 senders each write ~100 messages a minute.
    env = {
        **env,
        "YISHITING_ABUSE_PER_MINUTE": "1000000",
        "YISHITING_ABUSE_PER_DAY": "1000000000",
        "YISHITING_ABUSE_MAX_OPEN_TICKETS": "1000000",
    }

    # A fresh database grows its files (the WAL above all) under the first load, which costs
    # every commit more than it will on a database in use; settle it before measuring.
    if args.settle:
        settle = argparse.Namespace(**{**vars(args), "duration": args.settle})
        measure("bot.wsgi:app", env, work / "full.log", settle, True, "requests")

    bare_runs, report_runs = [], []
    for _ in range(args.rounds):
        bare_runs.append(measure("bench.bare_app:app", env, work / "bare.log", args, False, "help"))
        report_runs.append(measure("bot.wsgi:app", env, work / "full.log", args, True, "requests"))

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    senders = "a new resident each message" if args.new_residents else "500 returning residents"
    print(
        f"gunicorn 2 sync workers, wrk -t2 -c{args.connections} -d{args.duration}s, "
        f"{args.rounds} round(s), {os.cpu_count()} cores, {senders}"
    )
    print(f"{'endpoint':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, runs in (
        ("bare Flask 'success'", bare_runs),
        ("report → ticket, assignee, push", report_runs),
    ):
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
        print(
            f"{name:<40}{med(runs, 'rps'):>9.0f}{med(runs, 'p50_ms'):>9.1f}"
            f"{med(runs, 'p99_ms'):>9.1f}{errors:>8.0f}"
        )
    for n, (bare, report) in enumerate(zip(bare_runs, report_runs, strict=True), start=1):
        print(f"round {n}: ratio {report['rps'] / bare['rps']:.2f}, p99 {report['p99_ms']:.1f} ms")
    stored, tickets, routed, pushes = counts(config)
    # Every message is a new text: each must be filed (none answered "already filed").
    print(
        f"messages {stored}, tickets filed {tickets}: routed {routed}, "
        f"assignee pushes queued {pushes}"
    )
    ratio = med(report_runs, "rps") / med(bare_runs, "rps")
    p99 = med(report_runs, "p99_ms")
    ok = ratio >= TARGET_RATIO and p99 < TARGET_P99_MS and stored == tickets == routed == pushes
    print(
        f"ratio report/bare = {ratio:.2f} (target >= {TARGET_RATIO}); p99 = {p99:.1f} ms "
        f"(target < {TARGET_P99_MS:.0f}) -> {'met' if ok else 'MISSED'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

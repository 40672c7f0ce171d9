"""Benchmark webhook deliveries: signed POSTs to a fast local receiver through 4 outbox worker
threads, against a bare POST loop in the same run.

A receiver (its own process: `http.server`, HTTP/1.1 keep-alive, answers 204 and counts event
ids) stands in for a city platform that answers at once. In one run:

1. the reference: 4 threads each posting its share of the same signed bodies with one
   `requests` session — no database, no outbox: the ceiling this machine's HTTP stack allows;
2. delivery: the same number of webhook rows queued (a subscription, 4 events a ticket, the
   events of a ticket in the order they happen: all created, then all accepted …), then 4
   `Worker` threads (bot/delivery/worker.py, as `yishiting serve` runs them) started; the time
   until the last row is recorded as sent. Every event must reach the receiver exactly once.

    .venv/bin/python bench/api_deliveries.py [--deliveries 8000] [--workers 4] [--postgres]

`main(argv)` returns the figures as a dict (bench/api.py prints them with its own).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import func, select, text  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.delivery.webhooks import signature  # noqa: E402
from bot.delivery.worker import Worker  # noqa: E402
from models import OutboxMessage  # noqa: E402
from models.api.keys import create_key  # noqa: E402
from models.api.webhooks import (  # noqa: E402
    _INSERT,
    WebhookSubscription,
    _row,
    body_text,
    new_event_id,
)
from models.prepared import connection_of  # noqa: E402

TARGET_PER_SECOND = 500
SECRET = "bench-secret-0123456789"
EVENTS = ("ticket.created", "ticket.accepted", "ticket.resolved", "ticket.rated")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the receiver (its own process) ----------------------------------------------------------


def _serve(port: int) -> None:
    """A receiver that costs next to nothing: asyncio, HTTP/1.1 keep-alive, answers 204 to a
    POST and counts its Yishiting-Event-Id; GET /count (or /reset) answers the counts."""
    import asyncio
    from collections import Counter

    seen: Counter[bytes] = Counter()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line
                )
                fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
                length = int(fields.get(b"content-length", b"0"))
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"POST"):
                    seen[fields.get(b"yishiting-event-id", b"")] += 1
                    writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    continue
                body = json.dumps({"received": sum(seen.values()), "distinct": len(seen)})
                if head.startswith(b"GET /reset"):
                    seen.clear()
                data = body.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def run() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


def start_receiver() -> tuple[multiprocessing.Process, str]:
    port = free_port()
    proc = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            receiver(url, "/count")
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def receiver(url: str, path: str) -> dict[str, int]:
    with urllib.request.urlopen(url + path, timeout=10) as answer:
        return dict(json.loads(answer.read()))


# -- the database ------------------------------------------------------------------------


def write_config(folder: Path, database_url: str) -> Path:
    path = folder / "bench.toml"
    path.write_text(
        f'[app]\ndatabase_url = "{database_url}"\nsecret_key = "bench"\nlog_level = "WARNING"\n'
        "[delivery]\npoll_seconds = 0.05\nbatch_size = 50\n",
        encoding="utf-8",
    )
    return path


SAMPLE_TICKET: dict[str, Any] = {
    "status": "resolved",
    "topic": "电梯设施",
    "community": "幸福社区",
    "text": "3号楼2单元电梯又坏了，老人下不了楼，请尽快派人修理",
    "source": "12345",
    "channel": "api",
    "place": "幸福社区 3号楼",
    "phone": "138****5678",
    "resident": None,
    "assignee": {"name": "王师傅", "openid": "oAbC****"},
    "level": 1,
    "created_at": "2026-12-06T08:00:00+00:00",
    "updated_at": "2026-12-06T09:00:00+00:00",
    "due_at": "2026-12-07T08:00:00+00:00",
    "accepted_at": "2026-12-06T08:10:00+00:00",
    "resolved_at": "2026-12-06T09:00:00+00:00",
    "closed_at": None,
    "outcome": "已联系维保单位更换门机板，电梯恢复运行",
    "rating": None,
}


def queue(db: Database, url: str, count: int) -> list[str]:
    """A key, its subscription to `url`, and `count` deliveries (4 events a ticket, in the
    order they happen); the bodies, for the reference to post."""
    now = datetime.now(UTC)
    tickets = max(1, count // len(EVENTS))
    bodies = []
    with db.session() as session:
        key, _ = create_key(
            session,
            name="bench",
            scopes=("tickets:read",),
            community_id=None,
            created_by="bench",
            now=now,
        )
        sub = WebhookSubscription(
            key_id=key.id, url=url, events=",".join(EVENTS), secret=SECRET, created_at=now
        )
        session.add(sub)
        session.flush()
        conn = connection_of(session)
        for n in range(count):
            event, ticket = EVENTS[n // tickets % len(EVENTS)], n % tickets
            event_id = new_event_id()
            data = {
                "ticket": {"number": ticket + 1, "external_id": f"GD{ticket:06d}", **SAMPLE_TICKET}
            }
            body = body_text(event_id, event, now, data)
            payload = {
                "subscription": sub.id,
                "event": event_id,
                "type": event,
                "url": url,
                "community_id": 1,
                "body": body,
            }
            _INSERT.run(
                conn, _row(payload, f"webhook:{sub.id}:{event_id}", f"w{sub.id}:t{ticket}", now)
            )
            bodies.append(body)
    return bodies


# -- the two measurements ------------------------------------------------------------------


def measure_reference(url: str, bodies: Sequence[str], threads: int) -> float:
    """Posts/s when `threads` threads post the signed bodies straight to the receiver."""
    import requests

    def post(share: Sequence[str]) -> None:
        session = requests.Session()
        session.trust_env = False  # as the worker's session: no environment read per post
        for body in share:
            data = body.encode()
            headers = {
                "Content-Type": "application/json",
                "Yishiting-Signature": signature(SECRET, int(time.time()), data),
                "Yishiting-Event-Id": "ref",
            }
            assert session.post(url, data=data, headers=headers, timeout=5).status_code == 204
        session.close()

    shares = [bodies[i::threads] for i in range(threads)]
    started = time.perf_counter()
    running = [threading.Thread(target=post, args=(share,)) for share in shares]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return len(bodies) / (time.perf_counter() - started)


def measure_delivery(config: Path, db: Database, base: str, count: int, threads: int) -> float:
    """Deliveries/s through `threads` outbox worker threads; every event exactly once."""
    settings = load_settings(config, environ={})
    queue(db, base + "/hooks", count)
    receiver(base, "/reset")
    unsent = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
    workers = [Worker(settings, db, name=f"bench:t{n}") for n in range(threads)]
    running = [threading.Thread(target=w.run, daemon=True) for w in workers]
    started = time.perf_counter()
    for thread in running:
        thread.start()
    try:
        while True:
            with db.session(read_only=True) as session:
                if not session.scalar(unsent):
                    break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.stop()
        for thread in running:
            thread.join()
    got = receiver(base, "/count")
    assert got == {"received": count, "distinct": count}, f"not exactly once: {got}"
    with db.transaction() as conn:
        conn.execute(text("DELETE FROM outbox"))
    return count / elapsed


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    cluster = None
    if args.postgres:
        from postgres import Cluster

        cluster = Cluster()
        cluster.start()
    proc, base = start_receiver()
    try:
        folder = Path(tempfile.mkdtemp(prefix="yishiting-bench-"))
        url = cluster.new_database() if cluster else f"sqlite:///{folder / 'bench.db'}"
        config = write_config(folder, url)
        db = Database(load_settings(config, environ={}))
        db.migrate()
        bodies = [b for b in queue(db, base + "/ref", min(args.deliveries, 4000))]
        with db.transaction() as conn:
            conn.execute(text("DELETE FROM outbox"))
        reference = measure_reference(base + "/ref", bodies, args.workers)
        delivered = measure_delivery(config, db, base, args.deliveries, args.workers)
        db.dispose()
    finally:
        proc.terminate()
        if cluster is not None:
            cluster.stop()
    figures = {
        "database": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers,
        "deliveries": args.deliveries,
        "per_second": round(delivered, 1),
        "reference_per_second": round(reference, 1),
        "ratio": round(delivered / reference, 2),
        "target": TARGET_PER_SECOND,
        "met": delivered >= TARGET_PER_SECOND,
    }
    return figures


def report(figures: dict[str, Any]) -> str:
    verdict = "met" if figures["met"] else "MISSED"
    return (
        f"reference ({figures['workers']} threads posting straight to the receiver) "
        f"{figures['reference_per_second']:.0f}/s; webhook deliveries through "
        f"{figures['workers']} worker threads on {figures['database']} "
        f"{figures['per_second']:.0f}/s ({figures['deliveries']} signed, each exactly once), "
        f"ratio {figures['ratio']:.2f}; target >= {figures['target']}/s: {verdict}"
    )


if __name__ == "__main__":
    print(report(main()))

"""Fault injection: the database away for 10 s, the WeChat API away for 5 minutes.

Nothing of ours is mocked: PostgreSQL is cut off by closing a TCP proxy that stands between
the app and the throwaway cluster, SQLite by another program holding its write lock, and
WeChat's API is the fake server, stopped and started again on the same port.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Clock, WeChat, free_port, make_app
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from test_outbox import contents, live_settings, person, queue, rows

from bot.config import Settings
from bot.db import Database
from bot.delivery import Worker
from bot.spool import Spool
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import message_xml
from models import InboundMessage, Ticket

REPORT = "{n}号楼电梯坏了，困在里面很危险"


class Proxy:
    """A TCP port in front of PostgreSQL's Unix socket that a test can cut and restore."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and break every open one, as a database that went away."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (Linux)
            listener.close()
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target)
            with self._lock:
                self._open.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def proxied_pg(settings: Settings, postgres_cluster: Any) -> Iterator[tuple[Settings, Proxy]]:
    """Settings whose database is PostgreSQL reached through a Proxy (up at first)."""
    direct = make_url(postgres_cluster.new_database())
    proxy = Proxy(f"{postgres_cluster.socket}/.s.PGSQL.{postgres_cluster.port}")
    proxy.restore()
    url = f"postgresql+psycopg://test@127.0.0.1:{proxy.port}/{direct.database}"
    yield settings.replace(app={"database_url": url}), proxy
    proxy.cut()


def count(app: Flask, model: type) -> int:
    db: Database = app.extensions["yishiting"].db
    with db.session(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def wait_until_replayed(spool: Spool, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while spool.pending() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert spool.pending() == [], "the spool was not replayed"


def test_postgresql_away_for_ten_seconds_loses_nothing_and_handles_nothing_twice(
    proxied_pg: tuple[Settings, Proxy],
) -> None:
    settings, proxy = proxied_pg
    app = make_app(settings)
    wechat = WeChat(app.test_client(), settings)
    spool: Spool = app.extensions["yishiting.spool"]
    assert wechat.send("o_res_0", REPORT.format(n=0)) is not None  # a normal day first
    proxy.cut()
    outage_ends = time.monotonic() + 10
    sent = 0
    while time.monotonic() < outage_ends:
        sent += 1
        xml = message_xml(f"o_res_{sent}", text=REPORT.format(n=sent))
        for _ in range(2):  # WeChat delivers it again when unsure: both copies are spooled
            response = wechat.post_xml(xml)
            assert response.status_code == 200 and response.get_data() == b"success"
        time.sleep(1)
    assert len(spool.pending()) == 2 * sent
    proxy.restore()
    wait_until_replayed(spool)
    keys = app.extensions["yishiting"].db
    with keys.session(read_only=True) as session:
        received = Counter(session.scalars(select(InboundMessage.openid)))
    assert received == Counter(f"o_res_{n}" for n in range(sent + 1))  # every one, once
    assert count(app, Ticket) == sent + 1
    assert wechat.send("o_res_after", "帮助") is not None  # and the webhook answers as before
    app.extensions["yishiting"].db.dispose()


def test_sqlite_locked_by_another_program_spools_then_replays(settings: Settings) -> None:
    quick = settings.replace(app={"db_busy_timeout_seconds": 0.3})
    app = make_app(quick)
    wechat = WeChat(app.test_client(), quick)
    spool: Spool = app.extensions["yishiting.spool"]
    path = make_url(quick.app.database_url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a backup tool, a long migration ...
    try:
        for n in range(3):
            response = wechat.post_xml(message_xml(f"o_res_{n}", text=REPORT.format(n=n)))
            assert response.get_data() == b"success"
        assert [p.parent for p in spool.pending()] == [Path(path).parent / "spool"] * 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_until_replayed(spool)
    assert count(app, InboundMessage) == 3 and count(app, Ticket) == 3
    app.extensions["yishiting"].db.dispose()


def test_wechat_api_away_for_five_minutes_pushes_wait_then_drain_once(
    settings: Settings, clock: Clock
) -> None:
    """With the default [delivery] backoff: nothing is dead after 5 minutes of refusals."""
    fake = FakeWeChat(port=free_port()).start()
    settings = live_settings(settings, fake)
    db = Database(settings)
    texts = [f"停水通知{n}" for n in range(20)]
    for n, text in enumerate(texts):
        queue(db, person(db, f"o_follower_{n}", wrote_ago=timedelta(minutes=5)), text)
    worker = Worker(settings, db, clock=clock)
    fake.stop()  # connections refused
    for _ in range(5 * 60 // 5):
        worker.run_once()
        clock.advance(seconds=5)
    assert {r.status for r in rows(db)} == {"pending"}
    assert fake.received() == []
    fake.start()  # back on the same port
    for _ in range(20):
        worker.run_once()
        clock.advance(seconds=60)
    assert {r.status for r in rows(db)} == {"sent"}
    assert sorted(contents(fake)) == sorted(f"【社区通知】\n{t}" for t in texts)  # each once
    fake.stop()
    db.dispose()

"""A locked database: WeChat still gets its answer within 4.5 s (it gives up at 5 s), and
what could not be stored is spooled and handled once the lock is gone.

The locks are real: a second SQLite connection holding BEGIN EXCLUSIVE (a backup tool, a
long migration), and another process holding our writers' queue lock (a CLI command in a
long write). The default busy timeout (5 s) is left as it is: the webhook's own deadline
is what bounds the wait.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import LiveServer, WeChat, make_app
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url
from test_faults import count, wait_until_replayed

from bot.config import Settings
from bot.spool import Spool
from devtools.simulator import message_xml
from models import InboundMessage, Ticket

LIMIT = 4.5  # seconds: WeChat's 5 s, with room for the network
REPORT = "{n}号楼楼道灯坏了，晚上很黑，请尽快修理"


@pytest.fixture
def locked_app(settings: Settings) -> Iterator[tuple[Flask, WeChat, str]]:
    assert settings.app.db_busy_timeout_seconds == 5.0
    app = make_app(settings)
    path = make_url(settings.app.database_url).database
    assert path is not None
    yield app, WeChat(app.test_client(), settings), path
    app.extensions["yishiting"].db.dispose()


def post_timed(url: str, query: str, body: bytes, out: list[tuple[float, bytes]]) -> None:
    started = time.monotonic()
    request = urllib.request.Request(f"{url}/wechat?{query}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        out.append((time.monotonic() - started, response.read()))


def test_with_sqlite_locked_by_another_connection_every_answer_comes_in_time(
    locked_app: tuple[Flask, WeChat, str],
) -> None:
    """Three deliveries at once (threads of one server, as waitress runs them), each waiting
    for the same lock: none waits past the deadline, all are spooled, then handled."""
    app, wechat, path = locked_app
    spool: Spool = app.extensions["yishiting.spool"]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    answers: list[tuple[float, bytes]] = []
    try:
        with LiveServer(app) as server:
            requests = [
                wechat.signer.sign(message_xml(f"o_res_{n}", text=REPORT.format(n=n)))
                for n in range(3)
            ]
            threads = [
                threading.Thread(
                    target=post_timed, args=(server.url, r.query_string, r.body, answers)
                )
                for r in requests
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        # and one through the main thread (gunicorn's sync workers serve requests there)
        started = time.monotonic()
        main = wechat.post_xml(message_xml("o_res_3", text=REPORT.format(n=3)))
        answers.append((time.monotonic() - started, main.get_data()))
        assert len(spool.pending()) == 4
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [body for _, body in answers] == [b"success"] * 4
    assert max(seconds for seconds, _ in answers) < LIMIT, answers
    wait_until_replayed(spool)
    assert count(app, InboundMessage) == 4 and count(app, Ticket) == 4


HOLD_WRITER_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_writer_queue_lock_held_by_another_process_is_waited_for_only_until_the_deadline(
    locked_app: tuple[Flask, WeChat, str],
) -> None:
    app, wechat, path = locked_app
    spool: Spool = app.extensions["yishiting.spool"]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER_LOCK, f"{path}.writer-lock", "12"],
        stdout=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        answers: list[tuple[float, bytes]] = []
        with LiveServer(app) as server:  # a server thread: flock cannot be interrupted there
            request = wechat.signer.sign(message_xml("o_thread", text=REPORT.format(n=1)))
            post_timed(server.url, request.query_string, request.body, answers)
        started = time.monotonic()  # the main thread: a timer signal ends its wait
        main = wechat.post_xml(message_xml("o_main", text=REPORT.format(n=2)))
        answers.append((time.monotonic() - started, main.get_data()))
        assert [body for _, body in answers] == [b"success"] * 2
        assert max(seconds for seconds, _ in answers) < LIMIT, answers
        assert len(spool.pending()) == 2
    finally:
        holder.kill()
        holder.wait()
    wait_until_replayed(spool)
    assert count(app, InboundMessage) == 2


@pytest.mark.parametrize("backend_settings", ["postgresql"], indirect=True)
@pytest.mark.parametrize("table", ["inbound_message", "person"])
def test_with_postgresql_locked_by_another_session_the_answer_comes_in_time(
    backend_settings: Settings, table: str
) -> None:
    """A maintenance session holds the messages' table (a long migration, a VACUUM FULL):
    lock waits end at the webhook's deadline, the message is spooled, then handled."""
    import psycopg

    app = make_app(backend_settings)
    wechat = WeChat(app.test_client(), backend_settings)
    spool: Spool = app.extensions["yishiting.spool"]
    url = make_url(backend_settings.app.database_url)
    holder = psycopg.connect(
        host=url.query["host"], port=int(str(url.query["port"])), user="test", dbname=url.database
    )
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # read first: person
    # Without a bound on the wait the request would hang as long as the lock is held:
    # end it after 10 s so that a regression fails on the time, not by hanging the suite.
    release = threading.Timer(10, holder.rollback)
    release.start()
    try:
        started = time.monotonic()
        answer = wechat.post_xml(message_xml("o_pg", text=REPORT.format(n=5)))
        seconds = time.monotonic() - started
        assert answer.get_data() == b"success"
        assert seconds < LIMIT, seconds
        assert len(spool.pending()) == 1
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    wait_until_replayed(spool)
    assert count(app, InboundMessage) == 1 and count(app, Ticket) == 1
    app.extensions["yishiting"].db.dispose()


def test_a_signed_url_is_not_reusable_while_its_message_waits_in_the_spool(
    locked_app: tuple[Flask, WeChat, str],
) -> None:
    """The message waits for the database; someone who saw its URL sends another body with
    it: refused while the file waits, and refused again if it got in before the replay."""
    app, wechat, path = locked_app
    client = app.test_client()
    spool: Spool = app.extensions["yishiting.spool"]
    seen = wechat.signer.sign(message_xml("o_resident", text=REPORT.format(n=7)))
    forged = message_xml("o_demo_staff", text="待办").encode()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        first = client.post("/wechat", query_string=seen.query, data=seen.body)
        assert first.get_data() == b"success" and len(spool.pending()) == 1
        again = client.post("/wechat", query_string=seen.query, data=seen.body)  # WeChat
        assert again.get_data() == b"success" and len(spool.pending()) == 1
        replay = client.post("/wechat", query_string=seen.query, data=forged)
        assert replay.status_code == 403
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_until_replayed(spool)
    with app.extensions["yishiting"].db.session(read_only=True) as session:
        senders = list(session.scalars(select(InboundMessage.openid)))
    assert senders == ["o_resident"] and count(app, Ticket) == 1


def test_a_forgery_that_got_in_before_the_replay_is_set_aside_not_the_message(
    locked_app: tuple[Flask, WeChat, str],
) -> None:
    """The replay records the pair as the live request would have: of two spooled bodies
    under one pair, the first is handled and the other is set aside as *.bad."""
    app, wechat, _ = locked_app
    spool: Spool = app.extensions["yishiting.spool"]
    seen = wechat.signer.sign(message_xml("o_resident", text=REPORT.format(n=8)))
    pair = (int(seen.query["timestamp"]), seen.query["nonce"])
    spool.write(seen.body, pair)
    spool.write(message_xml("o_demo_staff", text="待办").encode(), pair)
    assert spool.replay() == 1
    assert [p.name.endswith(".bad") for p in spool.folder.iterdir() if "~t" in p.name] == [True]
    with app.extensions["yishiting"].db.session(read_only=True) as session:
        assert list(session.scalars(select(InboundMessage.openid))) == ["o_resident"]

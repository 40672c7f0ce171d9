"""`yishiting serve` as a real process: a port already taken, SIGTERM and Ctrl-C (also when a
background shell made it ignore SIGINT), a request in flight when it stops, and the client
addresses it sees behind a reverse proxy."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import free_port, wait_healthy
from processes import ROOT, running, stop, yishiting
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import OutboxMessage
from models.outbox import Push, enqueue

PASSWORD = "a-long-admin-password"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """A browser at `address`, reaching the server through a proxy that says so in
    X-Forwarded-For (the header is sent whether or not the server trusts it)."""

    def __init__(self, url: str, address: str | None = None) -> None:
        self.url = url
        self.headers = {"X-Forwarded-For": address} if address else {}
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )

    def login(self, username: str, password: str) -> int:
        """Fill in and send the login form; the HTTP status of the answer."""
        page = self.opener.open(
            urllib.request.Request(f"{self.url}/admin/login", headers=self.headers), timeout=30
        ).read()
        token = re.search(rb'name="csrf-token" content="([^"]+)"', page)
        assert token, page
        form = {"username": username, "password": password, "csrf_token": token.group(1)}
        request = urllib.request.Request(
            f"{self.url}/admin/login",
            data=urllib.parse.urlencode(form).encode(),
            headers=self.headers,
        )
        try:
            with self.opener.open(request, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as answer:
            return int(answer.code)


def add_admin(config: Path) -> None:
    made = CliRunner().invoke(
        main,
        ["admin", "create", "--config", str(config), "--username", "boss"]
        + ["--password", PASSWORD, "--role", "admin"],
    )
    assert made.exit_code == 0, made.output


def serve(config: Path, port: int, *extra: str) -> list[str]:
    return yishiting("serve", "--config", str(config), "--port", str(port), *extra)


def queue_a_push(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as session:
        enqueue(session, Push("notice", None, {"text": "通知", "openids": []}, "t:1"), now())
    db.dispose()


def push_statuses(settings: Settings) -> list[str]:
    db = Database(settings)
    with db.session(read_only=True) as session:
        found = list(session.scalars(select(OutboxMessage.status)))
    db.dispose()
    return found


def now() -> datetime:
    return datetime.now(UTC)


def test_a_port_in_use_is_one_line_and_exit_status_2_with_nothing_started(
    config_path: Path, settings: Settings
) -> None:
    queue_a_push(settings)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            serve(config_path, port), cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"端口 {port} 已被占用" in line and f"make run PORT={port + 1}" in line
    assert line.index("端口") < line.index(f"Port {port}")  # Chinese first, then English
    assert push_statuses(settings) == ["pending"]  # no worker ran


def test_sigterm_answers_the_request_in_flight_then_stops_everything(
    config_path: Path, settings: Settings
) -> None:
    add_admin(config_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(serve(config_path, port)) as server:
        wait_healthy(url, server)
        # Another process holds the database's write lock: the bad login below waits for it
        # (it records the failure), so it is still in flight when SIGTERM arrives.
        holder = sqlite3.connect(settings.app.database_url.removeprefix("sqlite:///"))
        holder.execute("BEGIN IMMEDIATE")
        answers: list[int] = []
        login = threading.Thread(target=lambda: answers.append(Browser(url).login("boss", "x")))
        login.start()
        time.sleep(1.0)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert server.poll() is None  # still answering the login
        holder.rollback()
        holder.close()
        login.join(timeout=30)
        status, log = stop(server, signal.SIGTERM)
    assert answers == [401]
    assert status == 0, log
    assert "Traceback" not in log
    assert log.count("stopped") >= 1 and log.rstrip().endswith("stopped")
    assert "scheduler stopped" in log and "outbox worker" in log


def test_ctrl_c_stops_serve_even_when_started_in_the_background(config_path: Path) -> None:
    """A shell starts background jobs with SIGINT ignored (`make run &`, `make test &`)."""
    port = free_port()

    def like_a_background_job() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with running(serve(config_path, port), preexec_fn=like_a_background_job) as server:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        status, log = stop(server, signal.SIGINT)
    assert status == 0, log
    assert log.rstrip().endswith("stopped")


def gunicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "bot.wsgi:app"]


@pytest.mark.parametrize("server_command", ["serve", "gunicorn"])
def test_behind_a_proxy_an_attackers_guesses_do_not_lock_the_admin_out(
    config_path: Path, server_command: str
) -> None:
    with config_path.open("a", encoding="utf-8") as config:
        config.write("[web]\ntrusted_proxies = 1\n")
    add_admin(config_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = serve(config_path, port, "--web-only") if server_command == "serve" else None
    env = {**os.environ, "YISHITING_CONFIG": str(config_path)}
    with running(command or gunicorn(port), env=env) as server:
        wait_healthy(url, server)
        attacker = Browser(url, "203.0.113.9")
        guesses = [attacker.login("boss", f"guess-{n}") for n in range(22)]
        office = Browser(url, "192.0.2.10")
        admin = office.login("boss", PASSWORD)
    assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}
    assert admin == 303

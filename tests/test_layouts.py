"""The two documented ways to run Yishiting, started from their commands, a message sent
through each, and an announcement delivered to a fake WeChat:

- the embedded default: `yishiting serve` (web + worker + scheduler threads, SQLite);
- the production layout: gunicorn for the web, `yishiting worker` ×2 and
  `yishiting scheduler` ×2 (one active), on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from conftest import TOKEN, free_port, wait_healthy, write_config
from processes import end
from sqlalchemy import select

from bot.config import load_settings
from bot.db import Database
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import Signer, message_xml
from models import JobRun

ROOT = Path(__file__).resolve().parent.parent


def config_for(tmp_path: Path, database_url: str, fake: FakeWeChat) -> Path:
    return write_config(
        tmp_path / "config.toml",
        app={"database_url": database_url, "secret_key": "s3cret", "mode": "production"},
        wechat={
            "token": TOKEN,
            "app_id": "wx_fake_app",
            "app_secret": "fake_secret",
            "api_base_url": fake.url,
        },
        delivery={"poll_seconds": 0.2},
        scheduler={"sweep_seconds": 1.0},
    )


def command(*args: str, config: Path) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args, "--config", str(config)]


def start(args: list[str], config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "YISHITING_CONFIG": str(config)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def say(url: str, openid: str, text: str) -> str | None:
    signer = Signer(TOKEN)
    signed = signer.sign(message_xml(openid, text=text))
    request = urllib.request.Request(
        f"{url}/wechat?{signed.query_string}", data=signed.body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return signer.read_reply(response.read())


def wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def announce_and_check_delivery(url: str, config: Path, fake: FakeWeChat) -> None:
    reply = say(url, "o_resident_1", "帮助")
    assert reply is not None and reply.startswith("议事厅可以为您办理")
    notify = subprocess.run(
        command("notify", "--all", "本周六上午九点，社区议事会在二楼会议室召开。", config=config),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert notify.returncode == 0, notify.stderr
    assert "1 pushes queued" in notify.stdout
    wait_for(lambda: fake.received("custom"), 20, "the announcement to reach WeChat")
    [call] = fake.received("custom")
    assert call.body["touser"] == "o_resident_1"
    assert "社区议事会" in call.body["text"]["content"]


def sweeps(config: Path) -> list[JobRun]:
    db = Database(load_settings(config, environ={}))
    with db.session(read_only=True) as session:
        found = list(session.scalars(select(JobRun).where(JobRun.job == "sweep")))
    db.dispose()
    return found


def stop(*procs: subprocess.Popen[bytes]) -> None:
    """SIGTERM each; each must end cleanly; none is left running whatever happens."""
    try:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            _, err = proc.communicate(timeout=20)
            assert proc.returncode == 0, err.decode()
    finally:
        for proc in procs:
            end(proc)


def test_serve_runs_web_worker_and_scheduler_in_one_process(
    tmp_path: Path, fake: FakeWeChat
) -> None:
    config = config_for(tmp_path, "sqlite:///yishiting.db", fake)
    assert subprocess.run(command("init", config=config), cwd=ROOT, timeout=60).returncode == 0
    port = free_port()
    server = start(command("serve", "--port", str(port), config=config), config)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        announce_and_check_delivery(url, config, fake)
        wait_for(lambda: sweeps(config), 20, "a sweep")
    finally:
        stop(server)


def test_the_production_layout_on_postgresql(
    tmp_path: Path, fake: FakeWeChat, postgres_cluster: Any
) -> None:
    config = config_for(tmp_path, postgres_cluster.new_database(), fake)
    assert subprocess.run(command("init", config=config), cwd=ROOT, timeout=60).returncode == 0
    port = free_port()
    web = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--preload",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "bot.wsgi:app",
        ],
        config,
    )
    workers = [start(command("worker", config=config), config) for _ in range(2)]
    schedulers = [start(command("scheduler", config=config), config) for _ in range(2)]
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, web)
        announce_and_check_delivery(url, config, fake)
        wait_for(lambda: len(sweeps(config)) >= 2, 20, "sweeps")
        assert len({run.runner for run in sweeps(config)}) == 1  # one scheduler active
    finally:
        stop(web, *workers, *schedulers)

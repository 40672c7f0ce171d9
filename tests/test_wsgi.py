"""The deployment contract: gunicorn 'bot.wsgi:app' with YISHITING_CONFIG, preloaded workers."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from conftest import free_port, wait_healthy
from processes import end

from bot.cli import main
from devtools.simulator import Signer, message_xml

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_serves_the_webhook_with_preloaded_workers(config_path: Path) -> None:
    assert CliRunner().invoke(main, ["init", "--config", str(config_path)]).exit_code == 0
    port = free_port()
    env = {**os.environ, "YISHITING_CONFIG": str(config_path)}
    proc = subprocess.Popen(
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
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        from bot.config import load_settings

        signer = Signer(load_settings(config_path, environ={}).wechat.token)
        replies = set()
        for i in range(6):  # spread over both workers
            signed = signer.sign(message_xml(f"o_{i}", text="帮助"))
            request = urllib.request.Request(
                f"{url}/wechat?{signed.query_string}", data=signed.body, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                replies.add(signer.read_reply(response.read()))
        assert len(replies) == 1
        assert next(iter(replies)).startswith("议事厅可以为您办理")  # type: ignore[union-attr]
    finally:
        end(proc)

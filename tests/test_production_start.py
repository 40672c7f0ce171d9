"""Production mode refuses to start with the example secret key or an empty WeChat token (one
line pointing at `check-config`), and warns when console cookies would travel without HTTPS.
Development mode starts with either."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TOKEN, make_app, write_config

from bot import create_app
from bot.cli import main
from bot.config import EXAMPLE_SECRET_KEY, Settings, UnsafeStart

ROOT = Path(__file__).resolve().parent.parent


def config(tmp_path: Path, secret_key: str, token: str = TOKEN) -> Path:
    return write_config(
        tmp_path / "config.toml",
        app={"database_url": "sqlite:///prod.db", "mode": "production", "secret_key": secret_key},
        wechat={"token": token},
    )


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler"])
def test_the_example_secret_key_stops_every_process(tmp_path: Path, command: str) -> None:
    path = config(tmp_path, secret_key=EXAMPLE_SECRET_KEY)
    result = CliRunner().invoke(main, [command, "--config", str(path)])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f'[app] secret_key is the example "{EXAMPLE_SECRET_KEY}"' in line
    assert f"yishiting check-config --config {path}" in line
    assert not (tmp_path / "prod.db").exists()  # refused before touching the database


def test_an_empty_token_stops_the_server(tmp_path: Path) -> None:
    path = config(tmp_path, "a-long-random-secret-value", token="")
    result = CliRunner().invoke(main, ["serve", "--config", str(path)])
    assert result.exit_code == 1 and "[wechat] token is empty" in result.stderr


def test_gunicorns_app_refuses_with_one_line(tmp_path: Path) -> None:
    path = config(tmp_path, secret_key=EXAMPLE_SECRET_KEY)
    env = {**os.environ, "YISHITING_CONFIG": str(path)}
    done = subprocess.run(
        [sys.executable, "-c", "import bot.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.splitlines() if "refusing to start" in x]
    assert "secret_key" in line and "check-config" in line


def test_create_app_refuses_in_production_only(settings: Settings) -> None:
    unsafe = settings.replace(app={"secret_key": EXAMPLE_SECRET_KEY, "mode": "production"})
    with pytest.raises(UnsafeStart, match="secret_key"):
        create_app(unsafe)
    development = settings.replace(app={"secret_key": EXAMPLE_SECRET_KEY}, wechat={"token": ""})
    assert development.development
    make_app(development).extensions["yishiting"].db.dispose()  # starts as before


def test_console_cookies_without_https_are_warned_about(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    plain = settings.replace(app={"mode": "production", "public_url": "http://ysk.example.org"})
    create_app(plain).extensions["yishiting"].db.dispose()
    [warning] = [r for r in caplog.records if "public_url is not https" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "cookies" in warning.getMessage()

    caplog.clear()
    # https behind its declared proxy (deploy/): nothing to warn about.
    secure = plain.replace(
        app={"public_url": "https://ysk.example.org"}, web={"trusted_proxies": 1}
    )
    create_app(secure).extensions["yishiting"].db.dispose()
    assert not [r for r in caplog.records if "https" in r.getMessage()]

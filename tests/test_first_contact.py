"""What a newcomer meets with `make run`: its config follows the port it serves on, its files
are private, and a port already taken is one clear line with nothing started."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from processes import ROOT

from bot.config import load_settings
from devtools.devconfig import main as devconfig

EXAMPLE = str(ROOT / "config.example.toml")


def public_url(config: Path) -> str:
    return load_settings(config, environ={}).app.public_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_development_config_names_the_port_it_is_served_on(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    assert devconfig([EXAMPLE, str(config), "--port", "5055"]) == 0
    assert public_url(config) == "http://127.0.0.1:5055"
    assert mode(config) == 0o600  # it holds the secret key and the token


def test_a_later_make_run_on_another_port_moves_only_the_local_public_url(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    assert devconfig([EXAMPLE, str(config)]) == 0
    assert public_url(config) == "http://127.0.0.1:5000"
    before = config.read_text(encoding="utf-8")
    assert devconfig([EXAMPLE, str(config), "--port", "5055"]) == 0
    after = config.read_text(encoding="utf-8")
    assert public_url(config) == "http://127.0.0.1:5055"
    pairs = zip(before.splitlines(), after.splitlines(), strict=True)
    changed = [(old, new) for old, new in pairs if old != new]
    assert changed == [
        ('public_url = "http://127.0.0.1:5000"', 'public_url = "http://127.0.0.1:5055"')
    ]


@pytest.mark.parametrize("chosen", ["", "https://ysk.example.org"])
def test_an_admins_own_public_url_is_never_overwritten(tmp_path: Path, chosen: str) -> None:
    config = tmp_path / "config.toml"
    assert devconfig([EXAMPLE, str(config)]) == 0
    line = f'public_url = "{chosen}"'
    text = re.sub(r'^public_url = ".*"$', line, config.read_text(), flags=re.M)
    config.write_text(text, encoding="utf-8")
    assert devconfig([EXAMPLE, str(config), "--port", "5055"]) == 0
    expected = "http://127.0.0.1:5055" if chosen == "" else chosen  # empty is the example's
    assert public_url(config) == expected


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """`make ARGS` with this interpreter's environment standing for .venv (not reinstalled)."""
    venv = sys.prefix
    return subprocess.run(
        ["make", f"VENV={venv}", "-o", f"{venv}/.installed", "-o", f"{venv}/bin/python", *args],
        cwd=ROOT,
        env={**os.environ, "YISHITING_CONFIG": ""},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_make_run_on_a_taken_port_says_so_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    config = tmp_path / "var" / "config.toml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = make("run", f"CONFIG={config}", f"PORT={port}")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if "已被占用" in line]
    assert len(said) == 1 and f"make run PORT={port + 1}" in said[0], result.stderr
    assert "serving on" not in result.stderr and "outbox worker" not in result.stderr
    # The config it wrote points `yishiting simulate` at that port; both files are private.
    assert public_url(config) == f"http://127.0.0.1:{port}"
    assert mode(config) == 0o600
    assert mode(tmp_path / "var" / "yishiting.db") == 0o600

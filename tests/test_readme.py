"""README.md as a reader uses it: every command in its ```sh blocks runs as written right after
`make run`, and its Chinese reference names every chat command, console page and subcommand.

The commands run in order on the demo, set up as `make run` does it: `python -m devtools.devconfig`
writes a development config (with `public_url` pointing at the test's own port, which is
where `simulate` sends), `yishiting init --demo` fills it, `yishiting serve` runs in a
subprocess, stopped with SIGTERM at the end. Each command goes through /bin/sh with exactly two
substitutions: `.venv/bin/` becomes this interpreter's bin folder and `var/config.toml` the
test's config. They run in a scratch folder that mirrors the checkout's top level with symlinks,
so relative paths (`examples/places.toml`) resolve and the files they write (`rules.toml`) do
not land in the repository.

Conventions in the README:
- `<!-- not run by tests/test_readme.py: REASON -->` on the line before a fence: the block is
  for a production server (deploy steps, systemd, nginx); it is listed as skipped with REASON.
- A command's trailing comment holding 「TEXT」 promises TEXT in its stdout; that is checked.
- Every fence says what it holds (```sh, ```text, ```toml …), so no command hides in a bare one.
Commands that serve until stopped or ask at the terminal: SKIPPED_COMMANDS in readme_parts.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from flask import Flask
from readme_parts import (
    COMMANDS,
    PROMISE,
    README,
    REPO,
    SHELL_INFOS,
    VENV_BIN,
    fenced_blocks,
    localised,
    not_run,
    section,
    split_comment,
)

from bot.cli import main
from handlers import build_router

# --- the demo, as `make run` leaves it --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env(scratch: Path) -> dict[str, str]:
    """This environment without YISHITING_* (a developer's own settings would override ours).

    Where PYTHONDONTWRITEBYTECODE is set, bytecode is cached in `scratch` instead: some forty
    processes start in turn, and compiling the project afresh in each costs seconds.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("YISHITING_")}
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = str(scratch)
    return env


def _checkout_mirror(folder: Path) -> Path:
    """A folder that looks like the checkout (symlinks to its top level) but writes elsewhere."""
    folder.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in (".git", "var"):
            (folder / entry.name).symlink_to(entry)
    return folder


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stderr}"
    return done


@dataclass
class Demo:
    checkout: Path
    config: Path
    env: dict[str, str]
    log: Path
    server: subprocess.Popen[bytes]

    def server_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    if not (VENV_BIN / "yishiting").exists():
        pytest.skip(f"no yishiting next to {sys.executable}: run the tests from the project's venv")
    checkout = _checkout_mirror(tmp_path / "checkout")
    env = _clean_env(tmp_path / "pycache")
    config = checkout / "var" / "config.toml"
    python = str(VENV_BIN / "python")
    _run([python, "-m", "devtools.devconfig", "config.example.toml", str(config)], checkout, env)
    port = _free_port()
    text, found = re.subn(
        r'^public_url = ".*"$',
        f'public_url = "http://127.0.0.1:{port}"',
        config.read_text(encoding="utf-8"),
        count=1,
        flags=re.MULTILINE,
    )
    assert found == 1, "the development config has no `public_url = ...` line to point at the port"
    config.write_text(text, encoding="utf-8")
    init = _run(
        [str(VENV_BIN / "yishiting"), "init", "--config", str(config), "--demo"], checkout, env
    )
    assert f"admin password --config {config} admin" in init.stdout, init.stdout
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [str(VENV_BIN / "yishiting"), "serve", "--config", str(config), "--port", str(port)],
            cwd=checkout,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    running = Demo(checkout, config, env, log, server)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", running)
        yield running
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _wait_healthy(url: str, demo: Demo, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if demo.server.poll() is not None:
            raise AssertionError(f"yishiting serve exited:\n{demo.server_log()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"yishiting serve did not answer /healthz:\n{demo.server_log()}")


# --- the commands ---------------------------------------------------------------------------


def test_every_readme_command_runs_as_written_on_the_demo(demo: Demo) -> None:
    to_run = [c for c in COMMANDS if c.skip is None]
    assert to_run, "no ```sh commands found in README.md"
    failures: list[str] = []
    for command in to_run:
        code, comment = split_comment(command.text)
        where = f"README.md:{command.line}: {command.text}"
        done = shell(localised(code, demo.config), demo)
        if done.returncode != 0:
            failures.append(
                f"{where}\n  exit status {done.returncode}\n  stderr:\n{_indent(done.stderr)}"
                f"\n  stdout:\n{_indent(done.stdout)}"
            )
            continue
        for promised in PROMISE.findall(comment):
            if promised not in done.stdout:
                failures.append(
                    f"{where}\n  promises 「{promised}」 but printed:\n{_indent(done.stdout)}"
                    f"\n  stderr:\n{_indent(done.stderr)}"
                )
    if failures:
        server = "" if demo.server.poll() is None else f"\nserve exited:\n{demo.server_log()}"
        pytest.fail(
            f"{len(failures)} README command(s) failed:\n\n" + "\n\n".join(failures) + server
        )


def shell(command: str, demo: Demo, seconds: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one command through /bin/sh, with no terminal to prompt on (a prompt meets the end
    of its input) and, should it hang, its whole process group ended."""
    proc = subprocess.Popen(
        command,
        shell=True,
        executable="/bin/sh",
        cwd=demo.checkout,
        env=demo.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n(killed after {seconds:.0f} s)"
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _indent(text: str, limit: int = 2500) -> str:
    text = text.strip()
    text = text if len(text) <= limit else "…" + text[-limit:]
    return "\n".join(f"    {line}" for line in text.splitlines()) or "    (nothing)"


@pytest.mark.parametrize(("where", "why"), not_run(), ids=lambda value: value.split(" ")[0])
def test_readme_commands_not_run_and_why(where: str, why: str) -> None:
    """Listed by `pytest -rs` (the suite runs with -ra): what the test above leaves out."""
    pytest.skip(f"{where} not run: {why}")


def test_the_readme_conventions_hold() -> None:
    blocks = fenced_blocks(README.read_text(encoding="utf-8"))
    bare = [b.line for b in blocks if not b.info]
    assert not bare, f"README.md lines {bare}: say what a fence holds (```sh, ```text, ```toml …)"
    marked = [b.line for b in blocks if b.skip and b.info not in SHELL_INFOS]
    assert not marked, f"README.md lines {marked}: `not run by` marks belong on ```sh blocks"
    assert any(c.skip is None for c in COMMANDS), "README.md has no command the test runs"
    assert split_comment('a "b # c" # d「e」') == ('a "b # c"', " d「e」")
    config = Path("/tmp/x/config.toml")
    assert localised(".venv/bin/yishiting x --config var/config.toml", config) == (
        f"{VENV_BIN}/yishiting x --config /tmp/x/config.toml"
    )
    assert localised("/opt/y/.venv/bin/pip /etc/var/config.toml", config) == (
        "/opt/y/.venv/bin/pip /etc/var/config.toml"
    )


# --- the Chinese reference ----------------------------------------------------------------


def test_every_chat_command_is_in_the_chinese_reference() -> None:
    text = section("聊天命令")
    missing = [
        f"{word} ({command.help})"
        for command in build_router().commands
        for word in (command.name, *command.aliases)
        if f"`{word}" not in text
    ]
    assert not missing, "README.md ### 聊天命令 does not show (in `…`): " + "; ".join(missing)


def _subcommands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _subcommands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def test_every_subcommand_is_in_the_chinese_reference() -> None:
    text = section("命令行")
    missing = [name for name in _subcommands(main) if f"`yishiting {name}" not in text]
    assert not missing, "README.md ### 命令行 lacks `yishiting …` lines for: " + ", ".join(missing)


def test_every_console_page_is_in_the_chinese_reference(app: Flask) -> None:
    """Each console blueprint's first page (the shortest GET address without a variable)."""
    from bot.console import CONSOLE_BLUEPRINTS, simulator

    text = section("管理后台页面")
    pages: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.partition(".")[0]
        names = {bp.name for bp in (*CONSOLE_BLUEPRINTS, simulator.bp)}
        if blueprint in names and "GET" in (rule.methods or ()) and "<" not in rule.rule:
            if not rule.rule.startswith(("/admin/static", "/simulator/static")):
                best = pages.get(blueprint)
                pages[blueprint] = rule.rule if best is None or len(rule.rule) < len(best) else best
    pages.setdefault(simulator.bp.name, "/simulator")  # the app may be in production mode
    missing = sorted(f"{page} ({bp})" for bp, page in pages.items() if f"`{page}`" not in text)
    assert not missing, "README.md ### 管理后台页面 lacks the pages: " + ", ".join(missing)


def test_the_readme_points_only_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    outside = sorted(set(re.findall(r"[`(]\.\./[^`)\s]*", text)))
    assert not outside, f"README.md points outside the repository: {outside}"
    tops = "|".join(re.escape(p.name) for p in REPO.iterdir() if p.is_dir() and p.name[0] != ".")
    paths = set(re.findall(rf"`((?:{tops})/[\w./-]*)`", text))
    gone = sorted(p for p in paths if not (REPO / p).exists())
    assert not gone, f"README.md names files the repository does not have: {gone}"

"""README.md as a reader uses it: every command in its ```sh blocks runs as written right after
`make run`, and its Chinese reference names every chat command, console page and subcommand.

The commands run in order on the demo, set up as `make run` does it: `python -m bot.devconfig`
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
Commands that serve until stopped or ask at the terminal are listed in SKIPPED_COMMANDS.
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

from bot.cli import main
from handlers import build_router

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
VENV_BIN = Path(sys.executable).parent  # the test's own `.venv/bin/`
SHELL_INFOS = {"sh", "bash", "shell", "console"}

# (pattern searched in a command, why it is not run here)
SKIPPED_COMMANDS = [
    (r"^make run\b", "serves until stopped; the test sets the demo up the same way itself"),
    (r"^make test\b", "runs the whole suite, this test included"),
    (r"^make lint\b", "a developer's check, run by make lint itself"),
    (r"yishiting serve\b", "serves until stopped (the test runs one serve for all commands)"),
    (r"yishiting fake-wechat\b", "serves until stopped"),
    (r"yishiting (worker|scheduler)\b", "runs until stopped"),
    (r"yishiting admin password(?!.*--password)", "asks for the new password at the terminal"),
]

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\S*)")
MARK = re.compile(r"<!--\s*not run by tests/test_readme\.py:\s*(.+?)\s*-->")
PROMISE = re.compile(r"「([^」]+)」")


@dataclass(frozen=True)
class Block:
    line: int  # the opening fence's line, 1-based
    info: str  # sh, text, toml … ("" for a bare fence)
    body: list[tuple[int, str]]  # (line, text without the fence's indentation)
    skip: str | None  # the reason from a `not run by` mark


@dataclass(frozen=True)
class Command:
    line: int
    text: str  # physical lines joined where they end in a backslash
    skip: str | None
    block: int = 0  # the line of its block's fence
    block_skipped: bool = False  # skipped by the block's mark (not by SKIPPED_COMMANDS)


def fenced_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if opened is None:
            i += 1
            continue
        indent, fence, info = opened.groups()
        body: list[tuple[int, str]] = []
        j = i + 1
        while j < len(lines) and not _closes(lines[j], fence):
            line = lines[j]
            body.append((j + 1, line[len(indent) :] if line.startswith(indent) else line.lstrip()))
            j += 1
        before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        mark = MARK.search(before)
        blocks.append(Block(i + 1, info, body, mark.group(1) if mark else None))
        i = j + 1
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])


def readme_commands() -> list[Command]:
    """The commands of every shell block, in order, each with its reason to skip (or None)."""
    commands: list[Command] = []
    for block in fenced_blocks(README.read_text(encoding="utf-8")):
        if block.info not in SHELL_INFOS:
            continue
        pending: list[str] = []
        start = 0
        for number, line in block.body:
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            start = start if pending else number
            if line.rstrip().endswith("\\"):
                pending.append(line.rstrip()[:-1])
                continue
            text = " ".join(part.strip() for part in [*pending, line])
            pending = []
            skip = block.skip or _skipped(text)
            commands.append(Command(start, text, skip, block.line, block.skip is not None))
    return commands


def _skipped(command: str) -> str | None:
    return next((why for pattern, why in SKIPPED_COMMANDS if re.search(pattern, command)), None)


def split_comment(command: str) -> tuple[str, str]:
    """The shell code and its trailing comment (a # after a blank, outside quotes)."""
    quote = ""
    for i, char in enumerate(command):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip(), command[i + 1 :]
    return command, ""


def localised(command: str, config: Path) -> str:
    """The command as the test runs it: only `.venv/bin/` and `var/config.toml` replaced."""
    command = re.sub(r"(?<![\w./-])\.venv/bin/", lambda _: f"{VENV_BIN}/", command)
    return re.sub(r"(?<![\w./-])var/config\.toml\b", lambda _: str(config), command)


COMMANDS = readme_commands()


# --- the demo, as `make run` leaves it --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """This environment without YISHITING_* (a developer's own settings would override ours)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("YISHITING_")}


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
    env = _clean_env()
    config = checkout / "var" / "config.toml"
    python = str(VENV_BIN / "python")
    _run([python, "-m", "bot.devconfig", "config.example.toml", str(config)], checkout, env)
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


def not_run() -> list[tuple[str, str]]:
    """(where, why) for what the test above leaves out: a marked block as one entry (its
    lines, its first command), any other command on its own."""
    entries: dict[tuple[int, str], list[Command]] = {}
    for command in COMMANDS:
        if command.skip is not None:
            key = (command.block if command.block_skipped else command.line, command.skip)
            entries.setdefault(key, []).append(command)
    listed = []
    for (_, why), commands in entries.items():
        first, last = commands[0], commands[-1]
        where = f"README.md:{first.line}" + (f"-{last.line}" if last is not first else "")
        more = f" (+{len(commands) - 1} more)" if len(commands) > 1 else ""
        listed.append((f"{where} `{split_comment(first.text)[0]}`{more}", why))
    return listed


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


def section(title: str) -> str:
    """The text under the README heading `title`, up to the next heading of any level."""
    lines = README.read_text(encoding="utf-8").splitlines()
    heads = [i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(title)}", line)]
    assert heads, f"README.md has no heading '{title}'"
    start = heads[0] + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"#+ ", lines[i])), len(lines))
    return "\n".join(lines[start:end])


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

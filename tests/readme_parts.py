"""Reading README.md as tests/test_readme.py does: its fenced blocks, the shell commands in
them (with the reason to leave one out), a command's trailing comment, and its sections."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

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


def section(title: str) -> str:
    """The text under the README heading `title`, up to the next heading of any level."""
    lines = README.read_text(encoding="utf-8").splitlines()
    heads = [i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(title)}", line)]
    assert heads, f"README.md has no heading '{title}'"
    start = heads[0] + 1
    end = next((i for i in range(start, len(lines)) if re.match(r"#+ ", lines[i])), len(lines))
    return "\n".join(lines[start:end])

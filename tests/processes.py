"""Server processes started by tests: always stopped, whatever the test does (a leaked server
outlives the suite and holds its port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def yishiting(*args: str) -> list[str]:
    """The command line of `yishiting ARGS` with this interpreter."""
    return [sys.executable, "-m", "bot.cli", *args]


@contextmanager
def running(args: list[str], **popen: Any) -> Iterator[subprocess.Popen[bytes]]:
    """Start `args` (stderr piped, stdout dropped); on leaving, SIGTERM, then SIGKILL."""
    popen.setdefault("cwd", ROOT)
    popen.setdefault("env", {**os.environ, "YISHITING_CONFIG": ""})
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen(args, **popen)
    try:
        yield proc
    finally:
        end(proc)


def end(proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """Stop `proc` if it still runs: SIGTERM, and SIGKILL when that is not enough."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=seconds)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> tuple[int, str]:
    """Send `sig` and wait for the process to end: (exit status, what it wrote to stderr)."""
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"still running 30 s after signal {sig}: {err.decode()}") from None
    return proc.returncode, err.decode()

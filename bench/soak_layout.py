"""The soak's processes (bench/soak.py): start, SIGKILL in turn, sample their memory."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
from outbox import free_port  # bench/ is on sys.path (bench/soak.py)

ROOT = Path(__file__).resolve().parent.parent


class Layout:
    """The processes under test; each in its own session so cleanup reaches its children."""

    def __init__(self, config: Path, work: Path) -> None:
        self.config, self.work = config, work
        self.env = {**os.environ, "YISHITING_CONFIG": str(config)}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/wechat"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _start(self, role: str, args: list[str]) -> None:
        log = (self.work / f"{role}.log").open("ab")
        self.procs[role] = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip

    def start(self, role: str) -> None:
        if role == "web":
            self._start("web", ["-m", "gunicorn", "--preload", "-w", "2", "-k", "sync",
                                "-b", f"127.0.0.1:{self.port}", "bot.wsgi:app"])  # fmt: skip
        else:
            self._start(role, ["-m", "bot.cli", role, "--config", str(self.config)])

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url.replace("/wechat", "/healthz"), timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not get healthy; see {self.work}/web.log")

    def web_workers(self) -> list[int]:
        master = self.procs["web"].pid
        try:
            text = Path(f"/proc/{master}/task/{master}/children").read_text()
        except OSError:
            return []
        return sorted(int(pid) for pid in text.split())

    def kill(self, role: str) -> None:
        if role == "web":
            os.kill(random.choice(self.web_workers()), signal.SIGKILL)
            return
        self.procs[role].kill()
        self.procs[role].wait()
        self.start(role)

    def pids(self) -> dict[str, list[int]]:
        return {
            "gunicorn master": [self.procs["web"].pid],
            "gunicorn workers": self.web_workers(),
            "worker": [self.procs["worker"].pid],
            "scheduler": [self.procs["scheduler"].pid],
        }

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample_memory(layout: Layout, samples: list[tuple[float, str, int, float]],
                  stop: threading.Event) -> None:  # fmt: skip
    while not stop.wait(5.0):
        now = time.time()
        for role, pids in layout.pids().items():
            for pid in pids:
                mb = rss_mb(pid)
                if mb is not None:
                    samples.append((now, role, pid, mb))


def rotate_kills(layout: Layout, stats: Any, every: float, stop: threading.Event) -> None:
    roles = ("web", "worker", "scheduler")
    n = 0
    while not stop.wait(every):
        role = roles[n % 3]
        layout.kill(role)
        stats.kills.append((time.time(), role))
        n += 1

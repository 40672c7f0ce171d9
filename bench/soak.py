"""Soak: mixed WeChat traffic for N minutes against the production layout, with kills.

gunicorn (2 sync workers) + `yishiting worker` + `yishiting scheduler` on a throwaway
PostgreSQL cluster (tests/postgres.py), pushing to the fake WeChat API (`yishiting
fake-wechat`, 2% transient faults). Traffic at a steady rate, signed as WeChat signs it
(devtools/simulator.py): residents' reports (tickets), ballots in a household poll
(residents bound to households, two per household), staff commands (待办, then 接单 / 办结
on what it lists), events (subscribe, menu clicks). Every `--kill-every` seconds one
process is SIGKILLed and restarted, in turn: a gunicorn worker (the master forks a new
one), the worker, the scheduler. Prints requests, errors (5xx, timeouts, connection errors
and whether they follow a kill), latency, RSS per process over time and a final
consistency check; exits 1 when a target is missed (and keeps the processes' logs). The
processes: bench/soak_layout.py; the check: bench/soak_check.py; the figures: soak_report.py.

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 8] [--kill-every 180]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]

from lifecycle import staff_every_topic  # noqa: E402
from outbox import start_fake  # noqa: E402
from postgres import Cluster  # noqa: E402
from soak_check import check  # noqa: E402
from soak_layout import Layout, rotate_kills, sample_memory  # noqa: E402
from soak_report import report  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from devtools.simulator import Signer, message_xml  # noqa: E402
from models import Person  # noqa: E402
from models.places import Building, approve_binding, request_binding  # noqa: E402
from models.polls import BOUND, HOUSEHOLD_UNIT, PollSpec, create_poll  # noqa: E402
from words.menu import MENU  # noqa: E402

TOKEN = "soak-token"
TEMPLATES = "ticket.assigned=T_ASSIGNED,ticket.accepted=T_ACCEPTED,ticket.resolved=T_RESOLVED"
REPORTS = (
    "{b}号楼{u}单元楼道灯坏了{n}天，晚上看不见路",
    "{b}号楼门口的垃圾堆了{n}天没人清理，味道很大",
    "{b}号楼{u}单元电梯停了，这个月第{n}次",
    "{b}号楼楼下有车堵住消防通道，车牌尾号{n}",
    "{b}号楼{u}单元{n}层水管漏水，墙面都湿了",
)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    served: Counter[str] = field(default_factory=Counter)  # per traffic kind
    errors: list[tuple[float, str]] = field(default_factory=list)  # (time, class)
    latencies: list[float] = field(default_factory=list)
    filed: set[int] = field(default_factory=set)  # ticket numbers acknowledged to residents
    voted: set[str] = field(default_factory=set)  # households that attempted a ballot
    receipted: set[str] = field(default_factory=set)  # households given a receipt
    kills: list[tuple[float, str]] = field(default_factory=list)
    odd: Counter[str] = field(default_factory=Counter)  # report replies without a number
    first_error: dict[str, str] = field(default_factory=dict)


def write_config(work: Path, database_url: str, fake_url: str) -> Path:
    config = work / "soak.toml"
    config.write_text(
        f'[app]\ndatabase_url = "{database_url}"\nsecret_key = "soak-secret"\n'
        'log_level = "WARNING"\n'
        f'[wechat]\ntoken = "{TOKEN}"\napp_id = "wx_fake_app"\napp_secret = "fake_secret"\n'
        f'api_base_url = "{fake_url}"\ntemplates = "{TEMPLATES}"\n'
        "[delivery]\npoll_seconds = 0.2\n[scheduler]\nsweep_seconds = 1.0\n",
        encoding="utf-8",
    )
    return config


def set_up(db: Database, residents: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Residents bound (approved) to households, two per household, and a household poll
    #1 open to bound residents; (openid, household key) per resident and the staff openids."""
    now = datetime.now(UTC)
    people: list[tuple[str, str]] = []
    with db.session() as session:
        for b in range(1, 11):
            session.add(Building(name=str(b)))
        session.flush()
        for n in range(residents):
            person = Person(openid=f"o_soak_{n}", role="resident", following=True,
                            first_seen_at=now, last_seen_at=now, cs_sent=0, held_pushes=0,
                            staff_level=0)  # fmt: skip
            session.add(person)
            session.flush()
            building, room = str(n // 2 % 10 + 1), str(101 + n // 20)
            binding = request_binding(session, person.id, building, "1", room, now)
            approve_binding(session, person.id, "soak", now)
            people.append((person.openid, f"h{binding.household_id}"))
        spec = PollSpec(title="小区停车位改造方案", options=["方案一", "方案二", "维持现状"],
                        closes_at=now + timedelta(days=1), unit=HOUSEHOLD_UNIT,
                        eligibility=BOUND)  # fmt: skip
        assert create_poll(session, spec, now).number == 1
        staff = list(session.scalars(select(Person.openid).where(Person.role != "resident")))
    return people, staff


class Traffic:
    def __init__(self, url: str, people: list[tuple[str, str]], staff: list[str]) -> None:
        self.url, self.people, self.staff = url, people, staff
        self.signer = Signer(TOKEN)
        self.stats = Stats()
        self.visitors = 0

    def post(self, kind: str, openid: str, xml: str) -> str | None:
        signed = self.signer.sign(xml, openid=openid)
        started = time.monotonic()
        try:
            response = requests.post(f"{self.url}?{signed.query_string}", data=signed.body,
                                     timeout=5)  # fmt: skip
        except requests.Timeout:
            self._error("timeout")
            return None
        except requests.ConnectionError as exc:
            self._error("connection")
            self.stats.first_error.setdefault("connection", str(exc)[-120:])
            return None
        elapsed = time.monotonic() - started
        if response.status_code != 200:
            self._error("5xx" if response.status_code >= 500 else "4xx")
            return None
        with self.stats.lock:
            self.stats.served[kind] += 1
            self.stats.latencies.append(elapsed)
        return self.signer.read_reply(response.content) or ""

    def _error(self, what: str) -> None:
        with self.stats.lock:
            self.stats.errors.append((time.time(), what))

    def say(self, kind: str, openid: str, text: str) -> str | None:
        return self.post(kind, openid, message_xml(openid, text=text))

    def report(self) -> None:
        openid, _ = random.choice(self.people)
        b, u, n = random.randint(1, 10), random.randint(1, 6), random.randint(2, 999)
        reply = self.say("report", openid, random.choice(REPORTS).format(b=b, u=u, n=n))
        found = re.search(r"编号 #(\d+)", reply or "")
        with self.stats.lock:
            if found:
                self.stats.filed.add(int(found.group(1)))
            elif reply is not None:
                self.stats.odd[reply[-70:]] += 1  # the answer is last

    def vote(self) -> None:
        openid, household = random.choice(self.people)
        with self.stats.lock:
            self.stats.voted.add(household)
        reply = self.say("vote", openid, f"投票 1 {random.choice('ABC')}")
        if reply and "已记录您对" in reply:
            with self.stats.lock:
                self.stats.receipted.add(household)

    def staff_round(self) -> None:
        openid = random.choice(self.staff)
        listing = self.say("staff", openid, "待办") or ""
        lines = re.findall(r"#(\d+) .*? · (\S+) ·", listing)
        new = [n for n, status in lines if status in ("待受理", "重新办理")]
        doing = [n for n, status in lines if status in ("已受理", "处理中")]
        if new:
            self.say("staff", openid, f"接单 {new[0]}")
        if doing:
            self.say("staff", openid, f"办结 {doing[0]} 已上门处理完毕")

    def event(self) -> None:
        if random.random() < 0.3:
            self.visitors += 1
            openid = f"o_visitor_{self.visitors}"
            self.post("event", openid, message_xml(openid, event="subscribe"))
            return
        openid, _ = random.choice(self.people)
        key = random.choice(MENU).key
        self.post("event", openid, message_xml(openid, event="CLICK", event_key=key))

    def run(self, seconds: float, rate: float, stop: threading.Event) -> None:
        actions = (self.report, self.vote, self.staff_round, self.event)
        weights = (0.3, 0.3, 0.15, 0.25)
        deadline = time.monotonic() + seconds
        tick = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            while time.monotonic() < deadline and not stop.is_set():
                pool.submit(random.choices(actions, weights)[0])
                tick += 1 / rate
                time.sleep(max(0.0, tick - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=8.0, help="Actions per second.")
    parser.add_argument("--kill-every", type=float, default=180.0, help="Seconds.")
    parser.add_argument("--residents", type=int, default=300)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    cluster = Cluster()
    cluster.start()
    fake, fake_url = start_fake()
    work = Path(cluster.folder) / "soak"
    work.mkdir()
    layout: Layout | None = None
    try:
        config = write_config(work, cluster.new_database(), fake_url)
        subprocess.run([sys.executable, "-m", "bot.cli", "init", "--config", str(config)],
                       cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        staff_every_topic(config)
        db = Database(load_settings(config, environ={}))
        people, staff = set_up(db, args.residents)
        chaos = {"rate": 0.02, "outcomes": [-1, "500"]}  # transient: retried, never dead
        requests.post(f"{fake_url}_fake/chaos", json=chaos, timeout=10).raise_for_status()
        layout = Layout(config, work)
        for role in ("web", "worker", "scheduler"):
            layout.start(role)
        layout.wait_healthy()
        traffic = Traffic(layout.url, people, staff)
        samples: list[tuple[float, str, int, float]] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=sample_memory, args=(layout, samples, stop), daemon=True),
            threading.Thread(target=rotate_kills, args=(layout, traffic.stats,
                                                        args.kill_every, stop), daemon=True),
        ]  # fmt: skip
        started = time.time()
        for thread in threads:
            thread.start()
        try:
            traffic.run(args.minutes * 60, args.rate, stop)
        finally:
            stop.set()
        elapsed = time.time() - started
        problems = check(db, fake_url, traffic.stats)
        layout.stop()
        layout = None
        status = report(args, traffic.stats, samples, started, elapsed, problems)
        if status:  # keep the processes' logs (the cluster's folder goes below)
            kept = Path(tempfile.mkdtemp(prefix="yishiting-soak-logs-"))
            for log in work.glob("*.log"):
                shutil.copy(log, kept)
            print(f"logs kept in {kept}")
        return status
    finally:
        if layout is not None:
            layout.stop()
        fake.terminate()
        fake.wait()
        cluster.stop()


if __name__ == "__main__":
    raise SystemExit(main())

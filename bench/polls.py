"""Benchmark polls: ballots through the webhook, and a result pushed to 10,000 voters.

1. Ballots: the webhook benchmark's set-up (bench/webhook.py: gunicorn, 2 sync workers, wrk
   with 16 connections) on SQLite, residents sending `投票 1 A|B|C` to an open poll anyone may
   vote in (500 distinct senders, so later ballots replace earlier ones); ballots/s and p99,
   and the ratio to the bare Flask endpoint measured in the same run.
2. A result to 10,000 voters: a closed poll with 10,000 ballots; the sweep queues the result
   push for every voter (timed), then 4 `yishiting worker` processes deliver them to the fake
   WeChat (`yishiting fake-wechat`, template messages) until every push is recorded as sent
   (timed); every voter must have got it exactly once.

    .venv/bin/python bench/polls.py [--duration 15] [--rounds 2] [--voters 10000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from outbox import drain, fake_call, start_fake  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402
from webhook import TOKEN, measure  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.schedule.polls import open_and_close  # noqa: E402
from models import Ballot, Person  # noqa: E402
from models.polls import FOLLOWERS, Poll, PollSpec, close_poll, create_poll  # noqa: E402


def write_config(work: Path, fake_url: str) -> Path:
    config = work / "config.toml"
    config.write_text(
        '[app]\ndatabase_url = "sqlite:///bench.db"\nsecret_key = "bench"\nlog_level = "WARNING"\n'
        f'[wechat]\ntoken = "{TOKEN}"\napp_id = "wx_fake_app"\napp_secret = "fake_secret"\n'
        f'api_base_url = "{fake_url}"\ntemplates = "poll.result=TPL_RESULT"\n'
        "[delivery]\npoll_seconds = 0.2\nbatch_size = 100\n",
        encoding="utf-8",
    )
    return config


def open_poll(db: Database, title: str) -> Poll:
    now = datetime.now(UTC)
    spec = PollSpec(
        title=title,
        options=["沥青", "水泥", "透水砖"],
        closes_at=now + timedelta(days=1),
        eligibility=FOLLOWERS,
    )
    with db.session() as session:
        poll = create_poll(session, spec, now)
        session.expunge(poll)
    return poll


def result_push(config: Path, db: Database, fake_url: str, voters: int) -> tuple[float, float]:
    """Seconds to queue the result for `voters` voters, and to deliver them all."""
    poll = open_poll(db, "结果推送测试")
    now = datetime.now(UTC)
    with db.session() as session:
        first = (session.scalar(select(func.max(Person.id))) or 0) + 1
        session.execute(
            insert(Person),
            [
                {
                    "openid": f"o_voter_{n}",
                    "role": "resident",
                    "following": True,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "cs_sent": 0,
                    "held_pushes": 0,
                    "staff_level": 0,
                }
                for n in range(voters)
            ],
        )
        session.execute(
            insert(Ballot),
            [
                {
                    "poll_id": poll.id,
                    "unit_key": f"p{first + n}",
                    "voter_id": first + n,
                    "choices": "ABC"[n % 3],
                    "cast_at": now,
                }
                for n in range(voters)
            ],
        )
        close_poll(session, session.get(Poll, poll.id), now)  # type: ignore[arg-type]
    settings = load_settings(config, environ={})
    started = time.perf_counter()
    with db.session() as session:
        open_and_close(session, now, settings)
    queued = time.perf_counter() - started
    fake_call(fake_url, "_fake/reset", "POST")
    delivered = drain(config, db, 4, kind="poll.result")
    received = fake_call(fake_url, "_fake/received")
    assert isinstance(received, list)
    counts = Counter(r["body"]["touser"] for r in received if r["api"] == "template")
    assert len(counts) == voters and max(counts.values()) == 1, "not exactly once"
    return queued, delivered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--voters", type=int, default=10_000)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    fake, fake_url = start_fake()
    work = Path(tempfile.mkdtemp(prefix="yishiting-bench-"))
    try:
        config = write_config(work, fake_url)
        env = {**os.environ, "YISHITING_CONFIG": str(config)}
        yishiting = Path(sys.executable).parent / "yishiting"
        subprocess.run(
            [str(yishiting), "init", "--config", str(config)], check=True, capture_output=True
        )
        db = Database(load_settings(config, environ={}))
        poll = open_poll(db, "16号楼前道路重铺")
        assert poll.number == 1
        bare_runs, vote_runs = [], []
        for _ in range(args.rounds):
            bare_runs.append(
                measure("bench.bare_app:app", env, work / "b.log", args, False, "help")
            )
            vote_runs.append(measure("bot.wsgi:app", env, work / "v.log", args, True, "vote"))
        with db.session(read_only=True) as session:
            ballots = session.scalar(select(func.count()).where(Ballot.poll_id == poll.id))

        def med(runs: list[dict[str, float]], key: str) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"gunicorn 2 sync workers, wrk -t2 -c{args.connections} -d{args.duration}s, "
            f"{args.rounds} round(s)"
        )
        print(
            f"bare Flask 'success': {med(bare_runs, 'rps'):.0f} req/s, "
            f"p99 {med(bare_runs, 'p99_ms'):.1f} ms"
        )
        print(
            f"投票 1 A|B|C: {med(vote_runs, 'rps'):.0f} ballots/s, "
            f"p99 {med(vote_runs, 'p99_ms'):.1f} ms, ratio to bare "
            f"{med(vote_runs, 'rps') / med(bare_runs, 'rps'):.2f} "
            f"({ballots} ballots counted, one per sender)"
        )
        errors = sum(r["non_2xx"] + r["socket_errors"] for r in vote_runs)
        print(f"errors: {errors:.0f}")
        queued, delivered = result_push(config, db, fake_url, args.voters)
        print(
            f"result to {args.voters} voters: queued by the sweep in {queued:.1f} s, "
            f"delivered by 4 workers in {delivered:.1f} s "
            f"({args.voters / delivered:.0f} pushes/s), each voter exactly once"
        )
        db.dispose()
    finally:
        fake.terminate()
        fake.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

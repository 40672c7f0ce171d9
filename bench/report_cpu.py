"""CPU time of one resident's report in-process: conversation.handle, no HTTP, no wrk.

The same messages as bench/lifecycle.py (500 senders, the same four request texts, each made
unique) through `Conversation.handle` on a fresh SQLite database where every topic has a
staff member. Prints the median CPU microseconds per message over several batches. CPU time
(not wall time) so that other load on a shared machine moves it little; useful to compare
two versions of the code on the same machine:

    .venv/bin/python bench/report_cpu.py [--messages 3000] [--batches 5]
    PYTHONPATH=/path/to/other/checkout .venv/bin/python /path/to/other/checkout/bench/report_cpu.py
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import create_app  # noqa: E402
from bot.classify import seed_default_topics  # noqa: E402
from bot.config import load_settings  # noqa: E402
from handlers import Message  # noqa: E402
from models import enabled_topics  # noqa: E402
from models.staff import LEVEL_COMMUNITY, add_staff  # noqa: E402

TEXTS = (
    "3号楼2单元的楼道灯坏了一个星期了，晚上下楼很不安全，麻烦物业尽快来修一下。",
    "小区东门口每天晚上都有车乱停，把消防通道堵住了，希望社区管一管。",
    "16号楼的电梯这两天老是停在半路，家里有老人，上下楼很担心，请尽快安排检修。",
    "楼上装修从早上七点就开始打电钻，周末也不停，噪音太大了，孩子没法休息。",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yishiting-cpu-"))
    config = work / "config.toml"
    config.write_text(
        f'[app]\ndatabase_url = "sqlite:///{work}/bench.db"\nsecret_key = "bench"\n'
        'mode = "development"\n[wechat]\ntoken = "bench"\n'
        "[abuse]\nper_minute = 1000000\nper_day = 1000000000\nmax_open_tickets = 1000000\n",
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    app = create_app(settings)
    ext = app.extensions["yishiting"]
    ext.db.migrate()
    now = datetime.now(UTC)
    with ext.db.session() as session:
        seed_default_topics(session, now)
        for n, topic in enumerate(enabled_topics(session)):
            add_staff(session, f"o_staff_{n}", f"员工{n}", [topic.name], [], None, 1, now)
        add_staff(session, "o_supervisor", "值班主任", [], [], None, LEVEL_COMMUNITY, now)
    per_message = []
    count = 0
    for _ in range(args.batches + 1):  # the first batch warms up and is not counted
        started = time.process_time()
        for _ in range(args.messages):
            count += 1
            message = Message(
                kind="text",
                sender=f"o_bench_{count % 500}",
                account="gh_bench",
                created_at=datetime.now(UTC),
                msg_id=str(count),
                text=f"{TEXTS[count % len(TEXTS)]}（{count}室）",
            )
            ext.conversation.handle(message)
        per_message.append((time.process_time() - started) / args.messages * 1e6)
    batches = per_message[1:]
    print(
        f"{args.batches} batches of {args.messages} reports, CPU µs per report: "
        f"{' / '.join(f'{b:.0f}' for b in batches)}; median {statistics.median(batches):.0f}"
        f" (pid {os.getpid()})"
    )
    ext.db.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""CPU time of the whole webhook path in-process: signed 帮助 messages through Flask's test
client (verify, timestamp and nonce, parse, dedupe and seen-pair inserts, reply), a fresh
nonce each, on a fresh SQLite database. CPU time moves little with other load on a shared
machine, so two versions of the code can be compared (alternate them):

    .venv/bin/python bench/webhook_cpu.py [--messages 2000] [--batches 3]
    PYTHONPATH=/path/to/checkout .venv/bin/python /path/to/checkout/bench/webhook_cpu.py
"""

from __future__ import annotations

import argparse
import secrets
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
from bot.wechat.protocol import signature  # noqa: E402

TOKEN = "bench"


def body(count: int, ts: str) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
        f"<FromUserName><![CDATA[o_bench_{count % 500}]]></FromUserName>"
        f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[帮助]]></Content><MsgId>{count}</MsgId></xml>"
    ).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yishiting-webhook-cpu-"))
    config = work / "config.toml"
    config.write_text(
        f'[app]\ndatabase_url = "sqlite:///{work}/bench.db"\nsecret_key = "bench"\n'
        f'[wechat]\ntoken = "{TOKEN}"\n[abuse]\nper_minute = 1000000\nper_day = 1000000000\n',
        encoding="utf-8",
    )
    app = create_app(load_settings(config, environ={}))
    ext = app.extensions["yishiting"]
    ext.db.migrate()
    with ext.db.session() as session:
        seed_default_topics(session, datetime.now(UTC))
    client = app.test_client()
    count = 0
    per_message = []
    for _ in range(args.batches + 1):  # the first batch warms up and is not counted
        started = time.process_time()
        for _ in range(args.messages):
            count += 1
            ts, nonce = str(int(time.time())), f"{count}{secrets.randbelow(10**6):06d}"
            query = f"signature={signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
            response = client.post(f"/wechat?{query}", data=body(count, ts))
            assert response.status_code == 200, response.get_data()
        per_message.append((time.process_time() - started) / args.messages * 1e6)
    batches = per_message[1:]
    print(
        f"{args.batches} batches of {args.messages} 帮助 requests, CPU µs per request: "
        f"{' / '.join(f'{b:.0f}' for b in batches)}; median {statistics.median(batches):.0f}"
    )
    ext.db.dispose()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""WeChat retries a message up to three times: it must be handled once, answered the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from conftest import LiveServer, WeChat, count_rows, inbound_count, make_app
from processes import end
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from devtools.simulator import Signer, message_xml
from handlers import Context, Router, texts
from models import InboundMessage, Person

ROOT = Path(__file__).resolve().parent.parent


def test_a_retried_message_is_handled_once_and_answered_the_same(
    backend_settings: Settings,
) -> None:
    settings = backend_settings
    wechat = WeChat(make_app(settings).test_client(), settings)
    xml = message_xml("o_retry", text="帮助", msg_id=6054768590064713728)
    first = wechat.post_xml(xml)
    second = wechat.post_xml(xml)
    third = wechat.post_xml(xml)
    assert first.status_code == second.status_code == third.status_code == 200
    assert (
        wechat.signer.read_reply(first.get_data())
        == wechat.signer.read_reply(second.get_data())
        == wechat.signer.read_reply(third.get_data())
    )
    assert inbound_count(settings) == 1


def test_a_retried_event_is_deduplicated_by_sender_time_and_event(
    wechat: WeChat, settings: Settings
) -> None:
    xml = message_xml("o_follow", event="subscribe", create_time=1_700_000_000)
    assert wechat.post_xml(xml).status_code == 200
    assert wechat.post_xml(xml).status_code == 200
    assert inbound_count(settings) == 1
    # The same person unfollowing in the same second is a different event.
    wechat.post_xml(message_xml("o_follow", event="unsubscribe", create_time=1_700_000_000))
    assert inbound_count(settings) == 2


def test_different_messages_with_the_same_text_are_both_kept(
    wechat: WeChat, settings: Settings
) -> None:
    wechat.send("o_a", "路灯坏了")
    wechat.send("o_a", "路灯坏了")
    assert inbound_count(settings) == 2


class SlowCounter:
    """A handler that takes a while and counts how often it runs."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0
        self.lock = threading.Lock()
        self.router = Router("slow")
        self.router.fallback(self.handle)

    def handle(self, ctx: Context) -> str:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.seconds)
        return f"第{n}次处理"


def _post(url: str, query: str, body: bytes, out: list[bytes]) -> None:
    request = urllib.request.Request(f"{url}/wechat?{query}", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        out.append(response.read())


def test_concurrent_retries_wait_for_the_first_and_get_its_reply(
    backend_settings: Settings,
) -> None:
    settings = backend_settings
    slow = SlowCounter(0.8)
    app = make_app(settings, router=slow.router)
    signer = Signer(settings.wechat.token)
    signed = signer.sign(message_xml("o_impatient", text="楼下一直在施工"))
    replies: list[bytes] = []
    with LiveServer(app) as server:
        threads = [
            threading.Thread(
                target=_post, args=(server.url, signed.query_string, signed.body, replies)
            )
            for _ in range(4)
        ]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join()
    assert slow.calls == 1
    assert [signer.read_reply(r) for r in replies] == ["第1次处理"] * 4
    assert inbound_count(settings) == 1
    assert count_rows(settings, Person) == 1


CHILD = """
import json, os, sys, time
from bot import create_app
from bot.config import load_settings
from handlers import Router

router = Router("slow")

@router.fallback
def handle(ctx):
    with open(os.environ["CALLS"], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    time.sleep(0.8)
    return f"由进程{os.getpid()}处理"

app = create_app(load_settings(sys.argv[1]), router=router)
client = app.test_client()
start_at = float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
response = client.post("/wechat?" + sys.argv[3], data=sys.stdin.buffer.read())
print(json.dumps({"status": response.status_code, "body": response.get_data(as_text=True)}))
"""


def test_retries_on_other_processes_are_handled_once(
    backend_settings: Settings, config_path: Path, tmp_path: Path
) -> None:
    settings = backend_settings
    calls = tmp_path / "calls.txt"
    signer = Signer(settings.wechat.token)
    signed = signer.sign(message_xml("o_many", text="电梯又坏了", msg_id=42))
    start_at = time.time() + 4.0  # after every child has imported and loaded jieba
    env = {
        **os.environ,
        "CALLS": str(calls),
        "PYTHONPATH": str(ROOT),
        "YISHITING_APP_DATABASE_URL": settings.app.database_url,
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(config_path), str(start_at), signed.query_string],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(3)
    ]
    results = []
    try:
        for child in children:
            out, err = child.communicate(signed.body, timeout=60)
            assert child.returncode == 0, err.decode()
            results.append(json.loads(out))
    finally:
        for child in children:
            end(child)
    assert all(r["status"] == 200 for r in results)
    replies = {signer.read_reply(r["body"].encode()) for r in results}
    assert len(replies) == 1, replies
    assert len(calls.read_text().splitlines()) == 1
    assert inbound_count(settings) == 1


def test_a_failing_handler_keeps_the_message_and_apologises(backend_settings: Settings) -> None:
    settings = backend_settings
    router = Router("broken")

    @router.fallback
    def explode(ctx: Context) -> str:
        raise RuntimeError("a bug")

    app = make_app(settings, router=router)
    wechat = WeChat(app.test_client(), settings)
    xml = message_xml("o_unlucky", text="小区门口的井盖丢了")
    first = wechat.post_xml(xml)
    assert first.status_code == 200
    assert wechat.signer.read_reply(first.get_data()) == texts.SORRY
    retry = wechat.post_xml(xml)
    assert wechat.signer.read_reply(retry.get_data()) == texts.SORRY

    db = Database(settings)
    with db.session(read_only=True) as s:
        row = s.scalars(select(InboundMessage)).one()
        assert (row.status, row.content) == ("failed", "小区门口的井盖丢了")
    db.dispose()


def test_a_second_sender_reusing_a_msgid_gets_his_own_reply(backend_settings: Settings) -> None:
    """The key is the sender and his MsgId: another person's message with the same MsgId is
    his own message, handled and answered, not the first sender's stored reply."""
    settings = backend_settings
    app = make_app(settings)
    wechat = WeChat(app.test_client(), settings)
    first = wechat.send("o_first", "帮助", msg_id=7_000_000_000_000_000_001)
    second = wechat.send("o_second", "我的", msg_id=7_000_000_000_000_000_001)
    assert first is not None and second is not None and first != second
    db = Database(settings)
    with db.session(read_only=True) as s:
        rows = s.execute(select(InboundMessage.openid, InboundMessage.content)).all()
    db.dispose()
    assert sorted(rows) == [("o_first", "帮助"), ("o_second", "我的")]
    app.extensions["yishiting"].db.dispose()


def test_two_menu_taps_in_the_same_second_both_get_replies(
    wechat: WeChat, settings: Settings
) -> None:
    """Events are keyed by sender, time, event and EventKey: two different buttons tapped in
    one second are two events."""
    from words.menu import MENU

    keys = [MENU[0].key, MENU[1].key]
    replies = [
        wechat.send("o_quick", event="click", event_key=key, create_time=1_765_000_000)
        for key in keys
    ]
    assert all(replies) and replies[0] != replies[1]
    assert inbound_count(settings) == 2


def test_an_event_with_a_long_key_fits_the_dedupe_column(backend_settings: Settings) -> None:
    """A 64-character openid and a 1,000-character EventKey (a VIEW tap's URL): the key's
    event part is hashed so it fits String(200) on PostgreSQL, and stays unique."""
    settings = backend_settings
    app = make_app(settings)
    wechat = WeChat(app.test_client(), settings)
    openid = "o" * 64
    for n in range(2):
        url = f"https://example.org/{n}/" + "a" * 980
        response = wechat.post_xml(message_xml(openid, event="view", event_key=url, create_time=1))
        assert response.status_code == 200
    assert inbound_count(settings) == 2
    app.extensions["yishiting"].db.dispose()

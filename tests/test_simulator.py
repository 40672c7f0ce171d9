"""The simulator (/simulator, development only), the demo data (`init --demo`) and the menu.

Through HTTP as the page uses it: JSON posts carrying the CSRF token of the page, the replies
and the pushes as people would read them.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import (
    Chat,
    WeChat,
    count_rows,
    csrf_token_of,
    db_of,
    free_port,
    make_app,
    pushes_to,
    wait_healthy,
)
from flask import Flask
from flask.testing import FlaskClient
from processes import running, stop, yishiting

from bot.cli import main
from bot.config import Settings
from devtools.demo import POLL_TITLE, RESIDENTS, STAFF_NAME, STAFF_OPENID, add_demo_data
from handlers import build_router, texts
from models import Binding, Household, OutboxMessage, Person, Poll, Ticket
from words.menu import HOW_TO_REPORT, MENU

RESIDENT = RESIDENTS[0][0]


class Simulator:
    """The page's side of the simulator: the JSON endpoints, with the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        page = client.get("/simulator")
        assert page.status_code == 200
        self.page = page.get_data(as_text=True)
        self.token = csrf_token_of(page)

    def post(self, body: Any) -> tuple[int, dict[str, Any]]:
        answer = self.client.post("/simulator/send", json=body, headers={"X-CSRFToken": self.token})
        return answer.status_code, answer.get_json()

    def say(self, openid: str, text: str) -> str | None:
        status, body = self.post({"openid": openid, "text": text})
        assert status == 200, body
        return body["reply"]

    def tap(self, openid: str, event: str, key: str | None = None) -> str | None:
        status, body = self.post({"openid": openid, "event": event, "key": key})
        assert status == 200, body
        return body["reply"]

    def pushes(self, after: int | None = None) -> dict[str, Any]:
        query = "" if after is None else f"?after={after}"
        answer = self.client.get(f"/simulator/pushes{query}")
        assert answer.status_code == 200
        return answer.get_json()


def with_demo(app: Flask) -> None:
    with db_of(app).session() as session:
        add_demo_data(session, datetime.now(UTC))


@pytest.fixture
def sim(app: Flask) -> Simulator:
    with_demo(app)
    return Simulator(app.test_client())


# --- the page and its switch ----------------------------------------------------------------


def test_the_simulator_and_its_endpoints_do_not_exist_in_production(settings: Settings) -> None:
    app = make_app(settings.replace(app={"mode": "production"}))
    client = app.test_client()
    for url in ("/simulator", "/simulator/people", "/simulator/pushes?after=0"):
        assert client.get(url).status_code == 404, url
    assert client.post("/simulator/send", json={"openid": "o_x", "text": "帮助"}).status_code == 404
    app.extensions["yishiting"].db.dispose()


def test_the_page_is_a_wechat_conversation_with_the_menu_bar(sim: Simulator) -> None:
    assert "发送" in sim.page and 'id="message-input"' in sim.page
    bar = re.findall(r'data-key="([^"]+)">([^<]+)<', sim.page)
    assert bar == [(entry.key, entry.name) for entry in MENU]
    assert "/admin/static/simulator.js" in sim.page and "/admin/static/console.js" in sim.page


def test_people_lists_the_demo_staff_member_and_residents_with_labels(sim: Simulator) -> None:
    people = sim.client.get("/simulator/people").get_json()["people"]
    labels = {p["openid"]: p["label"] for p in people}
    assert labels[STAFF_OPENID] == f"{STAFF_NAME}（工作人员）"
    assert labels[RESIDENT] == f"居民 {RESIDENT} · 1-1-101"
    assert people[0]["openid"] == STAFF_OPENID  # staff first
    assert {p["kind"] for p in people} == {"staff", "resident"}


# --- talking --------------------------------------------------------------------------------


def test_a_text_from_the_simulator_gets_the_bots_reply(sim: Simulator) -> None:
    reply = sim.say("o_someone_new", "帮助")
    assert reply is not None and reply.startswith(texts.HELP_HEADER)


def test_a_report_from_the_simulator_is_filed_like_one_from_wechat(
    sim: Simulator, app: Flask
) -> None:
    reply = sim.say(RESIDENT, "1号楼电梯坏了，困住了一个老人")
    assert reply is not None and "#1" in reply
    assert count_rows(app.extensions["yishiting"].settings, Ticket) == 1
    [assigned] = pushes_to(app, STAFF_OPENID, "ticket.")
    assert "#1" in assigned and "接单 1" in assigned


def test_the_pushes_endpoint_shows_the_push_a_staff_action_caused(sim: Simulator) -> None:
    sim.say(RESIDENT, "1号楼电梯坏了，困住了一个老人")
    before = sim.pushes()["last"]
    reply = sim.say(STAFF_OPENID, "接单 1")
    assert reply is not None and reply.startswith("已接单 #1")
    news = sim.pushes(before)
    [accepted] = [p for p in news["pushes"] if p["openid"] == RESIDENT]
    assert "#1 已由社区工作人员受理" in accepted["text"]
    assert accepted["to"] == [RESIDENT] and accepted["recipient"] == RESIDENT
    assert accepted["when"] and accepted["status_label"] == "待发送"
    assert news["last"] == accepted["id"] > before
    assert sim.pushes(news["last"]) == {"pushes": [], "last": news["last"]}


def test_without_after_the_pushes_endpoint_shows_the_latest(sim: Simulator) -> None:
    shown = sim.pushes()
    approved = [p for p in shown["pushes"] if p["kind"] == "binding.approved"]
    assert {p["openid"] for p in approved} == {openid for openid, *_ in RESIDENTS}
    assert "1-1-101" in next(p["text"] for p in approved if p["openid"] == RESIDENT)


def test_following_and_unfollowing_from_the_simulator(sim: Simulator, app: Flask) -> None:
    assert sim.tap("o_newcomer", "subscribe") == texts.WELCOME
    assert sim.tap("o_newcomer", "unsubscribe") is None
    with db_of(app).session(read_only=True) as session:
        person = session.query(Person).filter_by(openid="o_newcomer").one()
        assert person.following is False


def test_two_taps_in_one_second_are_two_taps(sim: Simulator) -> None:
    """WeChat would take them for one event delivered twice; the simulator spaces them."""
    first = sim.tap(RESIDENT, "click", "MENU_HELP")
    second = sim.tap(RESIDENT, "click", "MENU_REPORT")
    assert first is not None and first.startswith(texts.HELP_HEADER)
    assert second == HOW_TO_REPORT


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not an object", "JSON 对象"),
        ({"text": "帮助"}, "openid"),
        ({"openid": "o x<script>", "text": "帮助"}, "openid"),
        ({"openid": "o_" + "x" * 70, "text": "帮助"}, "openid"),
        ({"openid": "o_a"}, "二者选一"),
        ({"openid": "o_a", "text": "帮助", "event": "subscribe"}, "二者选一"),
        ({"openid": "o_a", "text": "   "}, "不能为空"),
        ({"openid": "o_a", "text": 42}, "不能为空"),
        ({"openid": "o_a", "text": "长" * 601}, "太长"),
        ({"openid": "o_a", "text": "a\x00b"}, "控制字符"),
        ({"openid": "o_a", "event": "explode"}, "不支持的事件"),
        ({"openid": "o_a", "event": "click"}, "菜单键"),
        ({"openid": "o_a", "event": "click", "key": "k" * 200}, "菜单键"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    sim: Simulator, app: Flask, body: Any, reason: str
) -> None:
    before = count_rows(app.extensions["yishiting"].settings, Person)
    status, answer = sim.post(body)
    assert status == 400 and reason in answer["error"]
    assert count_rows(app.extensions["yishiting"].settings, Person) == before


def test_bad_after_is_refused(sim: Simulator) -> None:
    answer = sim.client.get("/simulator/pushes?after=-1")
    assert answer.status_code == 400 and "after" in answer.get_json()["error"]


def test_a_send_without_the_pages_token_is_refused(sim: Simulator) -> None:
    answer = sim.client.post("/simulator/send", json={"openid": "o_a", "text": "帮助"})
    assert answer.status_code == 400 and "CSRF" in answer.get_json()["error"]


# --- the menu -------------------------------------------------------------------------------


class Tapper:
    """Menu taps as WeChat sends them: click events, each in its own second."""

    def __init__(self, wechat: WeChat, openid: str) -> None:
        self.wechat, self.openid = wechat, openid
        self.second = int(time.time())

    def tap(self, key: str) -> str | None:
        self.second += 1
        return self.wechat.send(self.openid, event="click", event_key=key, create_time=self.second)


def key_of(name: str) -> str:
    return next(entry.key for entry in MENU if entry.name == name)


def test_every_menu_entry_answers_with_a_command_or_a_fixed_answer() -> None:
    router = build_router()
    for entry in MENU:
        assert (entry.command is None) != (entry.answer is None), entry
        if entry.command is not None:
            assert router.find_command(entry.command) is not None, entry
    assert len({entry.key for entry in MENU}) == len(MENU)
    assert all(len(entry.key.encode()) <= 128 for entry in MENU)


def test_tapping_我要反映_says_how_to_report(wechat: WeChat) -> None:
    reply = Tapper(wechat, "o_resident").tap(key_of("我要反映"))
    assert reply is not None and "直接发送文字" in reply


def test_tapping_我的诉求_lists_my_tickets_as_typing_我的_does(chat: Chat, wechat: WeChat) -> None:
    tapper = Tapper(wechat, chat.openid)
    assert tapper.tap(key_of("我的诉求")) == texts.MINE_EMPTY
    chat.say("3号楼电梯坏了，困住了两个老人")
    listed = tapper.tap(key_of("我的诉求"))
    assert listed is not None and "#1" in listed
    assert listed == chat.say("我的")


def test_tapping_参与投票_lists_the_open_polls_as_typing_投票_does(
    app: Flask, wechat: WeChat
) -> None:
    with_demo(app)
    tapper = Tapper(wechat, RESIDENT)
    listed = tapper.tap(key_of("参与投票"))
    assert listed is not None and POLL_TITLE in listed
    assert listed == wechat.send(RESIDENT, "投票")


def test_tapping_帮助_shows_the_help_as_typing_帮助_does(chat: Chat, wechat: WeChat) -> None:
    reply = Tapper(wechat, chat.openid).tap(key_of("帮助"))
    assert reply is not None and reply.startswith(texts.HELP_HEADER)
    assert reply == chat.say("帮助")


def test_tapping_帮助_as_staff_shows_the_staff_commands_too(app: Flask, wechat: WeChat) -> None:
    with_demo(app)
    staff_help = Tapper(wechat, STAFF_OPENID).tap(key_of("帮助"))
    resident_help = Tapper(wechat, RESIDENT).tap(key_of("帮助"))
    assert staff_help is not None and resident_help is not None
    assert "接单" in staff_help and "接单" not in resident_help


def test_an_unknown_menu_key_gets_the_generic_answer(wechat: WeChat) -> None:
    assert Tapper(wechat, "o_resident").tap("OLD_MENU_KEY") == texts.MENU_UNKNOWN


# --- demo data and init --demo --------------------------------------------------------------


def _counts(settings: Settings) -> dict[str, int]:
    return {
        model.__name__: count_rows(settings, model)
        for model in (Person, Household, Binding, Poll, OutboxMessage)
    }


def test_init_demo_adds_the_demo_once(empty_config_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--config", str(empty_config_path), "--demo"])
    assert first.exit_code == 0, first.output
    assert "demo: + grid 第一网格" in first.output
    assert "demo: + 24 households (1-1-101 … 3-2-202)" in first.output
    assert f"demo: + staff {STAFF_OPENID} {STAFF_NAME}" in first.output
    assert "demo: + poll #1" in first.output
    assert "console account created: admin / " in first.output
    from bot.config import load_settings

    settings = load_settings(empty_config_path, environ={})
    after_first = _counts(settings)
    # The street's demo (issue #16): a second community's worker and two residents, each
    # community's supervisor and the street's officer; a street-wide poll; 8 more households.
    assert after_first["Person"] == 9 and after_first["Poll"] == 2
    assert after_first["Binding"] == 4 and after_first["Household"] == 32

    again = runner.invoke(main, ["init", "--config", str(empty_config_path), "--demo"])
    assert again.exit_code == 0, again.output
    assert "demo data: up to date" in again.output and "demo: +" not in again.output
    assert _counts(settings) == after_first


def test_init_demo_is_refused_in_production(tmp_path: Path) -> None:
    from conftest import write_config

    config = write_config(
        tmp_path / "prod.toml",
        app={"database_url": "sqlite:///prod.db", "secret_key": "s3cret", "mode": "production"},
        wechat={"token": "t"},
    )
    answer = CliRunner().invoke(main, ["init", "--config", str(config), "--demo"])
    assert answer.exit_code != 0
    assert 'mode = "development"' in answer.output and "nothing done" in answer.output
    assert not (tmp_path / "prod.db").exists()


def test_plain_init_adds_no_demo_data(empty_config_path: Path) -> None:
    from bot.config import load_settings

    answer = CliRunner().invoke(main, ["init", "--config", str(empty_config_path)])
    assert answer.exit_code == 0, answer.output
    assert "demo:" not in answer.output and "demo data" not in answer.output
    settings = load_settings(empty_config_path, environ={})
    assert _counts(settings)["Person"] == 0 and _counts(settings)["Poll"] == 0


def test_serve_in_development_says_where_the_console_and_the_simulator_are(
    config_path: Path,
) -> None:
    port = free_port()
    command = yishiting("serve", "--config", str(config_path), "--port", str(port), "--web-only")
    # SIGTERM, not SIGINT: under `make test &` a background shell makes children ignore SIGINT
    # (serve undoes that itself now, but the suite must stop its servers either way).
    with running(command) as server:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        status, log = stop(server)
    assert status == 0, log
    assert f"console: http://127.0.0.1:{port}/admin" in log
    assert f"simulator (development mode): http://127.0.0.1:{port}/simulator" in log

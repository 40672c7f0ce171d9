"""表决 · 公示 in the console and on the public page: a poll made for a 议题 from the new-poll
form, a household's paper ballot entered on the poll's page (with who entered it), the
decision published from the item's page, objections shown there, confirm and withdraw; and the
public /p/<token> page, which shows the decision, the vote and the meetings and nothing
personal — in a phone-sized Chromium too."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import (
    ARTIFACTS,
    Chat,
    Clock,
    LiveServer,
    WeChat,
    csrf_token_of,
    db_of,
    make_account,
    make_app,
    pushes_to,
    staff,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from models import Person
from models.agenda import ACCEPTED, PUBLICISED, VOTING, WITHDRAWN, AgendaItem, next_number
from models.meetings import Meeting, MeetingAgenda
from models.paper_ballots import enter_paper_ballot, find_household
from models.places import Building, Household, approve_binding
from models.polls import HOUSEHOLD_UNIT, Ballot, PollSpec, poll_by_number
from models.public_page import item_by_token
from models.publicity import open_agenda_poll, publish

BASE = "https://ysk.example.org"
BODY = "我是16-1-101的王秀英，电话13812345678，提议在北门空地增加一组健身器材"
PHONE = "13912345678"
MEETING_AT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai


@pytest.fixture
def world(settings: Settings, clock: Clock) -> tuple[Flask, WeChat, FlaskClient]:
    app = make_app(settings.replace(app={"public_url": BASE}), clock=clock)
    with db_of(app).session() as s:
        building = Building(name="16")
        s.add(building)
        s.flush()
        for unit, room in (("1", "101"), ("1", "102"), ("2", "501")):
            s.add(Household(building_id=building.id, unit=unit, room=room, listed=True))
        for title in ("北门空地增加一组健身器材", "南门增设快递柜"):
            s.add(
                AgendaItem(
                    number=next_number(s),
                    title=title,
                    body=BODY,
                    stage=ACCEPTED,
                    stage_at=clock(),
                    created_at=clock(),
                )
            )
    staff(app, "o_director", "王主任", level=2)
    make_account(app, "boss", "admin")
    client = app.test_client()
    token = csrf_token_of(client.get("/admin/login"))
    login = {"username": "boss", "password": "correct-horse-battery", "csrf_token": token}
    assert client.post("/admin/login", data=login).status_code == 303
    return app, WeChat(app.test_client(), settings), client


def bound(app: Flask, chat: Chat, address: str) -> None:
    chat.say(f"绑定 {address} {PHONE}")
    with db_of(app).session() as s:
        person = s.scalars(select(Person).where(Person.openid == chat.openid)).one()
        approve_binding(s, person.id, "test", datetime.now(UTC))


def post(client: FlaskClient, path: str, **form: str) -> str:
    """POST a console form and follow the redirect: the page the admin then reads."""
    token = csrf_token_of(client.get("/admin/agenda"))
    answer = client.post(path, data={"csrf_token": token, **form})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def poll_form(**changes: str) -> dict[str, str]:
    values = {
        "title": "北门空地是否安装健身器材",
        "options": "同意\n不同意",
        "scope": "all",
        "unit": "household",
        "max_choices": "1",
        "closes_at": "2099-06-01T20:00",
        "quorum": "0",
        "threshold": "50",
    }
    return {**values, **changes}


def test_from_a_poll_on_the_item_to_a_confirmed_decision_in_the_console(
    world: tuple[Flask, WeChat, FlaskClient], clock: Clock
) -> None:
    app, wechat, client = world
    resident = Chat(wechat, "o_resident")
    bound(app, resident, "16-1-101")
    form_page = client.get("/admin/polls/new").get_data(as_text=True)
    assert "表决的议题" in form_page and "#1 北门空地增加一组健身器材" in form_page
    page = post(client, "/admin/polls/new", **poll_form(agenda="1"))
    assert "已创建投票 #1「北门空地是否安装健身器材」" in page
    assert "表决议题" in page and 'href="/admin/agenda/1"' in page
    with db_of(app).session(read_only=True) as s:
        assert s.scalars(select(AgendaItem).where(AgendaItem.number == 1)).one().stage == VOTING

    page = post(client, "/admin/polls/1/ballot", household="16-2-501", choice="b")
    assert "已为 16-2-501 录入纸质选票：B（录入人：boss）" in page
    assert re.search(r"<td>16-2-501</td><td>B</td><td>boss</td>", page)
    page = post(client, "/admin/polls/1/ballot", household="16-9-901", choice="A")
    assert "没有找到 16-9-901 这一户" in page
    page = post(client, "/admin/polls/1/ballot", household="北门", choice="A")
    assert "请按“楼号-单元-房号”填写户" in page
    assert "本户以这一票为准" in (resident.say("投票 1 A") or "")
    token = csrf_token_of(client.get("/admin/polls/1"))
    assert client.post("/admin/polls/1/close", data={"csrf_token": token}).status_code == 303
    post(client, "/admin/polls/1/decide", decision="同意安装，由物业维护")

    page = client.get("/admin/agenda/1").get_data(as_text=True)
    assert 'id="publicity"' in page and "公示决定" in page
    page = post(client, "/admin/agenda/1/publish", decision="", days="5")
    assert "已公示议题 #1" in page and "已推送给范围内的 1 位居民" in page
    with db_of(app).session(read_only=True) as s:
        item = s.scalars(select(AgendaItem).where(AgendaItem.number == 1)).one()
        assert item.stage == PUBLICISED and item.decision == "同意安装，由物业维护"
        assert f"{BASE}/p/{item.public_token}" in page
    assert len(pushes_to(app, "o_resident", "publicity.published")) == 1

    resident.say("异议 1 器材离住户太近")
    page = client.get("/admin/agenda/1").get_data(as_text=True)
    assert "异议（1）" in page and "器材离住户太近" in page and "16-1-101" in page
    page = post(client, "/admin/agenda/1/confirm")
    assert "公示期还没有结束" in page
    clock.advance(days=5, minutes=1)
    page = post(client, "/admin/agenda/1/confirm")
    assert "已确认议题 #1 的决定。" in page


def test_withdrawing_tells_the_residents_and_a_closed_step_says_why(
    world: tuple[Flask, WeChat, FlaskClient],
) -> None:
    app, wechat, client = world
    bound(app, Chat(wechat, "o_resident"), "16-1-101")
    page = post(client, "/admin/agenda/2/publish", decision="南门增设快递柜一组", days="3")
    assert "已公示议题 #2" in page
    page = post(client, "/admin/agenda/2/withdraw", reason="")
    assert "请填写撤回的原因" in page
    page = post(client, "/admin/agenda/2/withdraw", reason="场地另有规划")
    assert "已撤回议题 #2，已告知 1 位居民。" in page
    told = pushes_to(app, "o_resident", "publicity.withdrawn")
    assert told == ["议题 #2「南门增设快递柜」已撤回，决定不再执行。原因：场地另有规划"]
    page = post(client, "/admin/agenda/2/publish", decision="再公示一次")
    assert "议题当前阶段不能这样操作" in page
    page = post(client, "/admin/agenda/1/publish", decision="")
    assert "还没有可公示的决定" in page


# -- the public page --------------------------------------------------------------------------


def published(app: Flask, clock: Clock, wechat: WeChat) -> str:
    """Item #1 voted on (household poll, a paper ballot), discussed at a meeting, published;
    its public token."""
    for openid, address in (("o_wang", "16-1-101"), ("o_li", "16-1-102")):
        bound(app, Chat(wechat, openid), address)
    with db_of(app).session() as s:
        item = s.scalars(select(AgendaItem).where(AgendaItem.number == 1)).one()
        meeting = Meeting(
            number=1,
            title="十二月议事会",
            at=MEETING_AT,
            place="社区活动室",
            invite="all",
            created_by="王主任",
            created_at=clock(),
        )
        s.add(meeting)
        s.flush()
        s.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id, outcome="多数同意"))
        spec = PollSpec(
            title="北门空地是否安装健身器材",
            options=["同意", "不同意"],
            closes_at=clock() + timedelta(days=2),
            unit=HOUSEHOLD_UNIT,
        )
        number = open_agenda_poll(s, item, spec, clock()).number
    Chat(wechat, "o_wang").say(f"投票 {number} A")
    with db_of(app).session() as s:
        poll = poll_by_number(s, number)
        assert poll is not None
        enter_paper_ballot(
            s, poll, find_household(s, poll, "16", "2", "501"), "B", "李干事", clock()
        )
        item = s.scalars(select(AgendaItem).where(AgendaItem.number == 1)).one()
        # The vote is still open: the committee writes the decision (its own words are the
        # minutes' outcome); without it there is none to publish yet.
        publish(s, item, clock(), 5, BASE, decision="多数同意", actor="王主任")
        assert item.public_token is not None
        return item.public_token


def test_the_public_page_shows_the_decision_and_nothing_personal(
    world: tuple[Flask, WeChat, FlaskClient], clock: Clock
) -> None:
    app, wechat, _ = world
    token = published(app, clock, wechat)
    anyone = app.test_client()  # no login
    answer = anyone.get(f"/p/{token}")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "北门空地增加一组健身器材" in page and "多数同意" in page  # title, decision
    assert "按户投票（户决制，一户一票）" in page
    assert re.search(r"A\. 同意</td><td class=\"n\">1 户", page)
    assert re.search(r"B\. 不同意</td><td class=\"n\">1 户", page)
    assert "2026年12月1日召开" in page  # the meeting held (its date)
    assert "异议 1 理由" in page and "公示中" in page
    assert "<script" not in page and "http" not in page.replace(BASE, "")  # nothing fetched
    with db_of(app).session(read_only=True) as s:
        openids = list(s.scalars(select(Person.openid)))
    personal = [*openids, "王秀英", PHONE, "13812345678", "16-1-101", "16-1-102", "16-2-501"]
    personal += ["王主任", "李干事", "社区活动室", BODY]
    assert [text for text in personal if text in page] == []
    assert "/admin" not in page


def test_unknown_tokens_are_a_chinese_404_and_tokens_cannot_be_guessed(
    world: tuple[Flask, WeChat, FlaskClient], clock: Clock
) -> None:
    app, wechat, _ = world
    token = published(app, clock, wechat)
    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    anyone = app.test_client()
    for guess in ("1", "2", token[:-1], token.upper() if token.upper() != token else "x", "%00"):
        missing = anyone.get(f"/p/{guess}")
        assert missing.status_code == 404
        assert "没有找到这项公示" in missing.get_data(as_text=True)
    assert anyone.get("/p/" + "a" * 200).status_code == 404
    with db_of(app).session() as s:
        assert item_by_token(s, token) is not None
        item = s.scalars(select(AgendaItem).where(AgendaItem.number == 1)).one()
        item.stage = WITHDRAWN  # as withdraw() leaves it (its reason is in the timeline)
    assert "已撤回" in anyone.get(f"/p/{token}").get_data(as_text=True)


def test_a_paper_ballot_has_no_voter_and_counts_once_per_household_on_both_databases(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    now = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    try:
        with db.session() as s:
            building = Building(name="16号楼")
            s.add(building)
            s.flush()
            s.add(Household(building_id=building.id, unit="2", room="501", listed=True))
            s.add(
                AgendaItem(
                    number=next_number(s),
                    title="北门",
                    body="北门",
                    stage=ACCEPTED,
                    stage_at=now,
                    created_at=now,
                )
            )
        with db.session() as s:
            item = s.scalars(select(AgendaItem)).one()
            spec = PollSpec(
                title="北门",
                options=["同意", "不同意"],
                closes_at=now + timedelta(days=1),
                unit=HOUSEHOLD_UNIT,
            )
            poll = open_agenda_poll(s, item, spec, now)
            home = find_household(s, poll, "16", "2", "501")  # "16" finds 16号楼
            enter_paper_ballot(s, poll, home, "A", "李" * 64, now)  # the longest name fits
            enter_paper_ballot(s, poll, home, "B", "张干事", now + timedelta(minutes=5))
        with db.session(read_only=True) as s:
            ballots = list(s.scalars(select(Ballot)))
            assert [(b.unit_key, b.voter_id, b.entered_by, b.choices) for b in ballots] == [
                (f"h{home.id}", None, "张干事", "B")
            ]
    finally:
        db.dispose()


def test_the_public_page_in_a_phone_sized_chromium(
    world: tuple[Flask, WeChat, FlaskClient], clock: Clock, browser: Any
) -> None:
    app, wechat, _ = world
    token = published(app, clock, wechat)
    # WeChat's in-app browser on a phone: a narrow viewport, touch, a mobile user agent.
    context = browser.new_context(
        viewport={"width": 375, "height": 667},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        java_script_enabled=False,  # nothing on the page needs it
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0",
    )
    context.set_default_timeout(30_000)
    try:
        tab = context.new_page()
        with LiveServer(app) as server:
            tab.goto(f"{server.url}/p/{token}")
            decision = tab.locator("#decision")
            assert decision.inner_text() == "多数同意"
            assert decision.is_visible()
            # Fits the phone's width: no sideways scrolling.
            assert tab.evaluate("document.documentElement.scrollWidth") <= 375
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "public_page_phone.png"), full_page=True)
    finally:
        context.close()

"""代居民登记 in the console: staff take down a resident's phone call, visit or a patrol's
find; a resident the account reaches gets every push as if they had written, anyone else is
called back (电话回访) and staff record what they said."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import (
    Chat,
    Clock,
    LiveServer,
    WeChat,
    browser_login,
    console_login,
    csrf_token_of,
    db_of,
    make_account,
    pushes_to,
    staff,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bot.schedule.tickets import followups, ratings
from models import OutboxMessage, Person, Ticket, Topic, ticket_by_number
from models.places import Building, Grid, approve_binding
from models.staff import LEVEL_COMMUNITY, add_staff

LIFT = "3号楼电梯坏了，困住了两个老人，一直在报警"
CALLER = "13900001111"


def logged_in(app: Flask, username: str, role: str, openid: str | None = None) -> FlaskClient:
    make_account(app, username, role, openid=openid)
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def file(client: FlaskClient, **form: str) -> TestResponse:
    token = csrf_token_of(client.get("/admin/tickets/new"))
    return client.post("/admin/tickets/new", data={"csrf_token": token, **form})


def act(client: FlaskClient, number: int, action: str, **form: str) -> TestResponse:
    token = csrf_token_of(client.get(f"/admin/tickets/{number}"))
    return client.post(f"/admin/tickets/{number}/{action}", data={"csrf_token": token, **form})


def followed(client: FlaskClient, answer: TestResponse) -> str:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def ticket(app: Flask, number: int) -> Ticket:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        session.expunge(found)
        return found


def tickets(app: Flask) -> int:
    with db_of(app).session(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def broadcasts(app: Flask) -> int:
    """Pushes without a person: a broadcast. Nothing on-behalf may ever make one."""
    with db_of(app).session(read_only=True) as session:
        query = select(func.count()).where(OutboxMessage.person_id.is_(None))
        return int(session.scalar(query) or 0)


@pytest.fixture
def office(app: Flask, wechat: WeChat) -> FlaskClient:
    """王师傅 handles lifts and has a console account; a resident of 16-2-501 is bound with
    the phone 13812345678."""
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    staff(app, "o_li", "李主任", level=LEVEL_COMMUNITY)
    Chat(wechat, "o_resident").say("绑定 16-2-501 13812345678")
    with db_of(app).session() as session:
        resident = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        approve_binding(session, resident.id, "test", datetime.now(UTC))
    return logged_in(app, "wangshifu", "staff", openid="o_wang")


def test_a_call_from_a_bound_resident_is_theirs_and_they_get_every_push(
    app: Flask, office: FlaskClient, wechat: WeChat
) -> None:
    page = followed(office, file(office, channel="phone", phone="138-1234-5678", text=LIFT))
    assert "已代居民登记诉求 #1。" in page
    assert 'id="ticket-channel">电话' in page and "代居民登记：王师傅" in page
    assert "callback-badge" not in page  # the resident follows: WeChat tells them
    filed = ticket(app, 1)
    assert (filed.channel, filed.phone, filed.topic_id is not None) == (
        "phone",
        "13812345678",
        True,
    )
    assert "【新诉求待办】" in pushes_to(app, "o_wang")[-1]

    wang = Chat(wechat, "o_wang")
    wang.say("接单 1")
    assert "#1 已由社区工作人员受理" in pushes_to(app, "o_resident")[-1]
    wang.say("办结 1 已更换电梯门机控制板")
    assert "已更换电梯门机控制板" in pushes_to(app, "o_resident")[-1]
    # The rating question waits for them in the chat, as for a ticket they wrote themself.
    assert "感谢您的评价" in (Chat(wechat, "o_resident").say("1") or "")
    assert ticket(app, 1).status == "closed"
    assert broadcasts(app) == 0


def test_a_caller_the_account_does_not_know_is_called_back_and_staff_record_it(
    app: Flask, office: FlaskClient, wechat: WeChat, clock: Clock
) -> None:
    page = followed(office, file(office, channel="phone", phone=CALLER, building="16", text=LIFT))
    assert "已代居民登记诉求 #1。" in page
    assert "callback-badge" in page and "电话回访" in page
    # Staff who must call see the whole number; the page says to keep it to themselves.
    assert f'id="ticket-phone">{CALLER}' in page
    assert ticket(app, 1).person_id is None

    wang = Chat(wechat, "o_wang")
    todo = wang.say("待办") or ""
    assert re.search(r"#1 电梯设施 · 待受理 · 时限 .* · 电话回访", todo), todo
    query = wang.say("查询 1") or ""
    assert "登记渠道：电话（代居民登记）" in query and "电话回访：139****1111" in query
    wang.say("接单 1")
    done = followed(office, act(office, 1, "resolve", outcome="已更换电梯门机控制板"))
    assert "记录电话回访" in done and 'id="callback-form"' in done
    assert broadcasts(app) == 0  # nobody to push to: nothing queued without a person

    # The rating sweep has nobody to remind: the timeline says a call is due.
    with db_of(app).session() as session:
        ratings(session, clock() + timedelta(days=4), app.extensions["yishiting"].settings)
    assert broadcasts(app) == 0
    assert "待电话回访" in office.get("/admin/tickets/1").get_data(as_text=True)

    unreached = followed(office, act(office, 1, "callback", answer="none", note="无人接听"))
    assert "已记录 #1 的电话回访：未接通。" in unreached
    assert ticket(app, 1).status == "resolved"
    happy = followed(office, act(office, 1, "callback", answer="1", note="居民说电梯已正常"))
    assert "已记录 #1 的电话回访：满意。" in happy
    closed = ticket(app, 1)
    assert (closed.status, closed.rating) == ("closed", 1)
    timeline = happy[happy.index('id="timeline"') :]
    assert (
        "电话回访：未接通。无人接听" in timeline and "电话回访：满意。居民说电梯已正常" in timeline
    )


def test_an_unhappy_answer_on_the_phone_reopens_the_ticket_for_its_holder(
    app: Flask, office: FlaskClient, wechat: WeChat
) -> None:
    followed(office, file(office, channel="visit", phone=CALLER, text=LIFT))
    wang = Chat(wechat, "o_wang")
    wang.say("接单 1")
    wang.say("办结 1 已更换电梯门机控制板")
    before = len(pushes_to(app, "o_wang"))
    page = followed(office, act(office, 1, "callback", answer="3", note="还是经常停"))
    assert "已记录 #1 的电话回访：不满意。" in page
    reopened = ticket(app, 1)
    assert (reopened.status, reopened.rating, reopened.reopen_count) == ("reopened", 3, 1)
    assert len(pushes_to(app, "o_wang")) > before  # the holder hears it is back


def test_a_follow_up_weeks_later_is_a_call_not_a_push(
    app: Flask, office: FlaskClient, wechat: WeChat, clock: Clock
) -> None:
    followed(office, file(office, channel="phone", phone=CALLER, text=LIFT))
    wang = Chat(wechat, "o_wang")
    wang.say("接单 1")
    wang.say("办结 1 已更换电梯门机控制板")
    followed(office, act(office, 1, "callback", answer="2"))
    with db_of(app).session() as session:
        followups(session, clock() + timedelta(days=40), app.extensions["yishiting"].settings)
    assert broadcasts(app) == 0
    assert "回头看：待电话回访" in office.get("/admin/tickets/1").get_data(as_text=True)
    followed(office, act(office, 1, "callback", answer="3", note="又坏了"))
    assert ticket(app, 1).status == "reopened"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"channel": "phone", "phone": CALLER, "building": "99", "text": LIFT},
            "building",
            "没有这栋楼：99",
        ),
        (
            {"channel": "phone", "phone": "1" * 21, "text": LIFT},
            "phone",
            "电话号码应为 5 到 20 位数字",
        ),
        (
            {"channel": "phone", "phone": "12ab", "text": LIFT},
            "phone",
            "电话号码应为 5 到 20 位数字",
        ),
        ({"channel": "phone", "phone": "", "text": LIFT}, "phone", "须留居民电话"),
        ({"channel": "phone", "phone": CALLER, "text": "   "}, "text", "请填写居民反映的内容"),
        ({"channel": "fax", "phone": CALLER, "text": LIFT}, "channel", "登记渠道应为"),
    ],
)
def test_bad_input_is_named_beside_its_field_and_nothing_is_filed(
    app: Flask, office: FlaskClient, form: dict[str, str], field: str, message: str
) -> None:
    answer = file(office, **form)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert re.search(rf'id="{field}-error" role="alert">[^<]*{re.escape(message)}', html), html
    assert tickets(app) == 0
    if form.get("text", "").strip():
        assert form["text"] in html  # what staff typed is kept for them to correct


def test_a_patrol_find_needs_no_phone(app: Flask, office: FlaskClient) -> None:
    page = followed(office, file(office, channel="patrol", building="16号楼", text=LIFT))
    assert "已代居民登记诉求 #1。" in page and 'id="ticket-channel">巡查' in page


def test_the_form_is_for_staff_and_checks_its_token(app: Flask, office: FlaskClient) -> None:
    viewer = logged_in(app, "guest", "viewer")
    assert viewer.get("/admin/tickets/new").status_code == 403
    assert "file-for-resident" not in viewer.get("/admin/tickets").get_data(as_text=True)
    assert "file-for-resident" in office.get("/admin/tickets").get_data(as_text=True)
    forged = office.post(
        "/admin/tickets/new", data={"channel": "phone", "phone": CALLER, "text": LIFT}
    )
    assert forged.status_code == 400
    assert tickets(app) == 0


def test_the_dashboard_counts_every_channel(
    app: Flask, office: FlaskClient, wechat: WeChat
) -> None:
    Chat(wechat, "o_someone").say("小区门口的垃圾桶满了好几天没人清运，味道很大")
    followed(office, file(office, channel="phone", phone=CALLER, text=LIFT))
    followed(
        office, file(office, channel="visit", phone="13900002222", text="5号楼楼道灯坏了好几天")
    )
    html = office.get("/admin").get_data(as_text=True)
    table = html[html.index('id="channel-table"') :]
    for key, name in (("wechat", "微信"), ("phone", "电话"), ("visit", "来访")):
        row = rf'<td><a href="/admin/tickets\?channel={key}">{name}</a></td><td>1</td><td>1</td>'
        assert re.search(row, table), table
    assert "共 3 件诉求" in html
    # Each channel's row opens its tickets; the list marks the ones staff filed.
    listed = office.get("/admin/tickets?channel=phone").get_data(as_text=True)
    assert re.findall(r'href="/admin/tickets/(\d+)"', listed) == ["2"]
    assert '<span class="badge channel" title="工作人员代居民登记">电话</span>' in listed
    assert "渠道”无效" in office.get("/admin/tickets?channel=fax").get_data(as_text=True)


def test_filing_in_the_browser_shows_the_ticket(app: Flask, office: FlaskClient, page: Any) -> None:
    with LiveServer(app) as server:
        browser_login(page, server.url, "wangshifu")
        page.click("text=诉求")
        page.click("#file-for-resident")
        page.select_option("select[name=channel]", "visit")
        page.fill("input[name=phone]", CALLER)
        page.fill("textarea[name=text]", LIFT)
        page.click("#file-form button[type=submit]")
        page.wait_for_selector("#ticket-channel")
        assert page.inner_text("#ticket-channel").startswith("来访")
        assert "已代居民登记诉求 #1" in page.inner_text(".flash.ok")
        assert page.is_visible("#callback-badge")


def test_a_ticket_for_someone_unknown_is_routed_again_by_its_building(
    app: Flask, office: FlaskClient
) -> None:
    """No resident, so no home: 转派 routes it by the building staff gave, as filing did."""
    with db_of(app).session() as session:
        now = datetime.now(UTC)
        handled = ("环境卫生", "垃圾分类")
        add_staff(session, "o_qian", "钱师傅", handled, (), None, 1, now)
        add_staff(session, "o_zhao", "赵师傅", handled, ("第一网格",), None, 1, now)
        lifts = session.scalars(select(Topic).where(Topic.name == "电梯设施")).one().id
    rubbish = "16号楼门口的垃圾桶满了好几天没人清运，味道很大"
    followed(office, file(office, channel="phone", phone=CALLER, building="16", text=rubbish))
    filed = ticket(app, 1)
    assert (filed.assigned_reason, filed.place) == ("topic+grid", "16")
    zhao = logged_in(app, "zhao", "staff", openid="o_zhao")
    followed(zhao, act(zhao, 1, "reassign", target=f"topic-{lifts}"))
    assert ticket(app, 1).assigned_reason == "topic"  # 王师傅's
    page = followed(office, act(office, 1, "reassign", target=f"topic-{filed.topic_id}"))
    assert re.search(r'id="ticket-assignee">赵师傅<', page), page

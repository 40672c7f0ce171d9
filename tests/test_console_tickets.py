"""诉求 in the console: the filtered list, a ticket's page and timeline, and the staff's moves,
which reach the resident exactly as the same moves made in chat do."""

from __future__ import annotations

import re
from datetime import UTC, datetime
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
    make_app,
    pushes_to,
    staff,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from bot.config import Settings
from models import Person, Ticket, ticket_by_number, topic_by_name
from models.places import Building, Grid, approve_binding
from models.staff import LEVEL_COMMUNITY

ELEVATOR = "3号楼电梯坏了，困住了两个老人，一直在报警"
RUBBISH = "小区门口的垃圾桶满了好几天没人清运，味道很大"


def person_id(app: Flask, openid: str) -> int:
    with db_of(app).session(read_only=True) as session:
        return int(session.scalars(select(Person.id).where(Person.openid == openid)).one())


def status_of(app: Flask, number: int) -> str:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        return found.status


def logged_in(app: Flask, username: str, role: str, openid: str | None = None) -> FlaskClient:
    make_account(app, username, role, openid=openid)
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def numbers(page: TestResponse) -> list[int]:
    """The ticket numbers a list page shows, in order."""
    assert page.status_code == 200
    return [int(n) for n in re.findall(r'href="/admin/tickets/(\d+)"', page.get_data(as_text=True))]


def post(client: FlaskClient, number: int, action: str, **form: str) -> TestResponse:
    token = csrf_token_of(client.get(f"/admin/tickets/{number}"))
    return client.post(f"/admin/tickets/{number}/{action}", data={"csrf_token": token, **form})


def anonymous(push: str, number: int) -> str:
    """A push with its ticket number blanked, to compare two tickets' pushes."""
    return re.sub(rf"(#|查询 |评价 ){number}(?!\d)", r"\1N", push)


def flash_after(client: FlaskClient, answer: TestResponse) -> str:
    """The ticket page the POST redirected to, as the person sees it next."""
    assert answer.status_code == 303
    return client.get(answer.headers["Location"]).get_data(as_text=True)


@pytest.fixture
def office(app: Flask, wechat: WeChat) -> Any:
    """王师傅 handles 电梯设施, 李主任 supervises; a resident bound in 第一网格 reports a
    broken lift (#1), a neighbour without an address reports rubbish (#2)."""
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    staff(app, "o_li", "李主任", level=LEVEL_COMMUNITY)
    resident, neighbour = Chat(wechat, "o_resident"), Chat(wechat, "o_neighbour")
    resident.say("绑定 16-2-501 13812345678")
    with db_of(app).session() as session:
        approve_binding(session, person_id(app, "o_resident"), "test", datetime.now(UTC))
    assert "#1" in (resident.say(ELEVATOR) or "")
    assert "#2" in (neighbour.say(RUBBISH) or "")
    return wechat


def test_the_list_shows_newest_first_and_each_filter_narrows_it(
    app: Flask, office: WeChat, admin_client: FlaskClient, clock: Clock
) -> None:
    with db_of(app).session(read_only=True) as session:
        lift = topic_by_name(session, "电梯设施")
        grid = session.scalars(select(Grid)).one()
        assert lift is not None
        lift_id, grid_id = lift.id, grid.id
    wang = person_id(app, "o_wang")
    everything = admin_client.get("/admin/tickets")
    assert numbers(everything) == [2, 1]
    assert "共 2 件" in everything.get_data(as_text=True)
    assert numbers(admin_client.get(f"/admin/tickets?topic={lift_id}")) == [1]
    assert numbers(admin_client.get(f"/admin/tickets?grid={grid_id}")) == [1]
    assert numbers(admin_client.get(f"/admin/tickets?assignee={wang}")) == [1]
    assert numbers(admin_client.get("/admin/tickets?q=垃圾桶")) == [2]
    assert numbers(admin_client.get("/admin/tickets?q=%231")) == [1]

    Chat(office, "o_wang").say("接单 1")
    assert numbers(admin_client.get("/admin/tickets?status=accepted")) == [1]
    assert numbers(admin_client.get("/admin/tickets?status=new")) == [2]

    assert numbers(admin_client.get("/admin/tickets?overdue=1")) == []
    clock.advance(days=4)
    late = admin_client.get("/admin/tickets?overdue=1")
    assert numbers(late) == [2, 1]
    assert 'class="badge overdue"' in late.get_data(as_text=True)
    Chat(office, "o_wang").say("办结 1 已更换电梯门机控制板")
    assert numbers(admin_client.get("/admin/tickets?overdue=1")) == [2]
    # status=open: every state not yet done (the dashboard's 待处理 links here).
    assert numbers(admin_client.get("/admin/tickets?status=open")) == [2]
    assert numbers(admin_client.get(f"/admin/tickets?status=open&assignee={wang}")) == []


def test_the_overdue_list_merges_its_states_on_both_databases(
    backend_settings: Settings, clock: Clock
) -> None:
    app = make_app(backend_settings, clock=clock)
    wechat = WeChat(app.test_client(), backend_settings)
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    for n in range(1, 5):
        Chat(wechat, f"o_r{n}").say(f"{n}号楼电梯坏了，困住了人")
    wang = Chat(wechat, "o_wang")
    wang.say("接单 1")
    wang.say("接单 3")
    wang.say("备注 3 已联系维保")
    wang.say("办结 1 已修好")
    clock.advance(days=2)
    admin = logged_in(app, "boss", "admin")
    assert numbers(admin.get("/admin/tickets?overdue=1")) == [4, 3, 2]
    assert numbers(admin.get("/admin/tickets?overdue=1&status=in_progress")) == [3]
    assert "共 3 件" in admin.get("/admin/tickets?overdue=1").get_data(as_text=True)
    db_of(app).dispose()


def test_a_bad_filter_is_named_not_silently_dropped(
    office: WeChat, admin_client: FlaskClient
) -> None:
    page = admin_client.get("/admin/tickets?status=lost&grid=abc")
    html = page.get_data(as_text=True)
    assert "筛选条件“状态”无效" in html and "筛选条件“网格”无效" in html
    assert numbers(page) == [2, 1]


def test_fifty_to_a_page_with_a_pager(
    app: Flask, wechat: WeChat, admin_client: FlaskClient, clock: Clock
) -> None:
    for n in range(1, 53):
        assert f"#{n}" in (Chat(wechat, f"o_r{n}").say(f"{n}号楼楼道灯坏了，晚上一片漆黑") or "")
    first = admin_client.get("/admin/tickets")
    assert numbers(first) == list(range(52, 2, -1))
    html = first.get_data(as_text=True)
    assert "共 52 件，第 1 / 2 页" in html
    assert numbers(admin_client.get("/admin/tickets?page=2")) == [2, 1]
    clock.advance(days=4)
    assert numbers(admin_client.get("/admin/tickets?overdue=1&page=2")) == [2, 1]


def test_the_ticket_page_shows_the_resident_masked_and_the_timeline(
    app: Flask, office: WeChat, admin_client: FlaskClient
) -> None:
    wang = Chat(office, "o_wang")
    wang.say("接单 1")
    wang.say("备注 1 已联系电梯维保公司，下午上门")
    html = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert ELEVATOR in html and "16-2-501" in html and "第一网格" in html
    assert "138****5678" in html and "13812345678" not in html
    assert "o_re…dent" in html and "o_resident" not in html
    timeline = html[html.index('id="timeline"') :]
    assert timeline.index("登记") < timeline.index("接单") < timeline.index("已联系电梯维保公司")
    assert "王师傅" in timeline
    assert admin_client.get("/admin/tickets/99").status_code == 404


def test_resolving_from_the_console_tells_the_resident_as_the_chat_does(
    app: Flask, wechat: WeChat
) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    by_chat, by_console = Chat(wechat, "o_a"), Chat(wechat, "o_b")
    by_chat.say(ELEVATOR)  # #1
    by_console.say("5号楼电梯按钮失灵了，按了没反应")  # #2
    wang = Chat(wechat, "o_wang")
    wang.say("接单 1")
    wang.say("办结 1 已更换电梯门机控制板")

    console = logged_in(app, "wangshifu", "staff", openid="o_wang")
    assert "已接单 #2" in flash_after(console, post(console, 2, "accept"))
    page = flash_after(console, post(console, 2, "resolve", outcome="已更换电梯门机控制板"))
    assert "#2 已办结，处理结果已告知居民，并请居民评价。" in page
    assert 'data-status="resolved"' in page
    assert status_of(app, 2) == "resolved"
    chat_pushes = [anonymous(text, 1) for text in pushes_to(app, "o_a")]
    console_pushes = [anonymous(text, 2) for text in pushes_to(app, "o_b")]
    assert console_pushes == chat_pushes
    assert "已更换电梯门机控制板" in console_pushes[-1] and "1 满意" in console_pushes[-1]
    # The resident's rating question waits for them, as after 办结 in chat.
    assert "感谢您的评价" in (by_console.say("1") or "")


def test_a_refused_move_shows_the_reason_and_changes_nothing(app: Flask, office: WeChat) -> None:
    staff(app, "o_qian", "钱工", topics=("电梯设施",))
    wang = logged_in(app, "wang", "staff", openid="o_wang")
    qian = logged_in(app, "qian", "staff", openid="o_qian")
    before = pushes_to(app, "o_resident")

    page = flash_after(wang, post(wang, 1, "resolve", outcome="修好了"))
    assert "#1 当前状态为“待受理”，不能办结。" in page
    page = flash_after(qian, post(qian, 1, "accept"))
    assert "#1 目前由王师傅负责" in page
    page = flash_after(wang, post(wang, 1, "reject", reason="   "))
    assert "请填写退回理由" in page
    page = flash_after(wang, post(wang, 1, "reassign", target="topic-9999"))
    assert "没有找到要转派的类别或工作人员" in page

    assert status_of(app, 1) == "new"
    assert pushes_to(app, "o_resident") == before


def test_a_staff_account_without_a_wechat_identity_may_not_act(app: Flask, office: WeChat) -> None:
    loose = logged_in(app, "temp", "staff")
    page = flash_after(loose, post(loose, 1, "accept"))
    assert "尚未关联工作人员的微信身份" in page
    assert status_of(app, 1) == "new"


def test_reassigning_to_a_topic_and_to_a_person_tells_the_new_holder(
    app: Flask, office: WeChat
) -> None:
    staff(app, "o_zhou", "周工", topics=("环境卫生",))
    li = logged_in(app, "li", "staff", openid="o_li")  # a supervisor may move anyone's ticket
    with db_of(app).session(read_only=True) as session:
        cleaning = topic_by_name(session, "环境卫生")
        assert cleaning is not None
        cleaning_id = cleaning.id
    page = flash_after(li, post(li, 1, "reassign", target=f"topic-{cleaning_id}"))
    assert "#1 已转派至【环境卫生】，由周工办理。" in page
    assert "#1" in pushes_to(app, "o_zhou")[-1]
    assert "环境卫生" in pushes_to(app, "o_resident")[-1]

    page = flash_after(li, post(li, 1, "reassign", target=f"person-{person_id(app, 'o_wang')}"))
    assert "#1 已转派给王师傅。" in page
    with db_of(app).session(read_only=True) as session:
        assignee = session.scalars(select(Ticket.assignee_id).where(Ticket.number == 1)).one()
    assert assignee == person_id(app, "o_wang")


def test_a_viewer_reads_but_sees_no_forms_and_cannot_post(app: Flask, office: WeChat) -> None:
    viewer = logged_in(app, "guest", "viewer")
    html = viewer.get("/admin/tickets/1").get_data(as_text=True)
    assert ELEVATOR in html
    assert "/admin/tickets/1/resolve" not in html and 'name="outcome"' not in html
    token = csrf_token_of(viewer.get("/admin/tickets/1"))
    answer = viewer.post("/admin/tickets/1/accept", data={"csrf_token": token})
    assert answer.status_code == 403
    assert status_of(app, 1) == "new"


def test_a_residents_markup_is_shown_as_text(
    app: Flask, wechat: WeChat, admin_client: FlaskClient
) -> None:
    Chat(wechat, "o_mallory").say(
        '<script>alert("x")</script>楼道灯坏了<img src=x onerror=alert(1)>'
    )
    for url in ("/admin/tickets", "/admin/tickets/1"):
        html = admin_client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html


def test_resolving_in_the_browser_changes_the_status_on_the_page(
    app: Flask, office: WeChat, page: Any
) -> None:
    Chat(office, "o_wang").say("接单 1")
    make_account(app, "wangshifu", "staff", openid="o_wang")
    with LiveServer(app) as server:
        browser_login(page, server.url, "wangshifu")
        page.click("text=诉求")
        page.click("a[href='/admin/tickets/1']")
        assert page.inner_text("#ticket-status") == "已受理"
        page.fill("textarea[name=outcome]", "已更换电梯门机控制板，运行正常")
        page.click("button[value=resolve]")
        page.wait_for_selector("#ticket-status [data-status=resolved]")
        assert page.inner_text("#ticket-status") == "已办结"
        assert "已更换电梯门机控制板，运行正常" in page.inner_text("#ticket-outcome")
        assert "已办结，处理结果已告知居民" in page.inner_text(".flash.ok")
    assert "已更换电梯门机控制板" in pushes_to(app, "o_resident")[-1]


def test_nonsense_in_the_address_or_the_form_is_a_clear_answer_not_a_crash(
    app: Flask, office: WeChat
) -> None:
    wang = logged_in(app, "wang", "staff", openid="o_wang")
    assert wang.get("/admin/tickets/99999999999999999999").status_code == 404
    assert wang.get("/admin/tickets?q=%2399999999999999999999").status_code == 200
    assert post(wang, 1, "dance").status_code == 404
    for target in ("person-99999999999999999999", "person-²", "topic-", "nothing"):
        page = flash_after(wang, post(wang, 1, "reassign", target=target))
        assert "没有找到要转派的类别或工作人员" in page
    page = flash_after(wang, post(wang, 1, "reassign"))
    assert "请选择要转派的类别或工作人员" in page
    page = flash_after(wang, post(wang, 1, "note", text="很长" * 600))
    assert "请控制在 1000 字以内" in page
    assert status_of(app, 1) == "new"


def test_an_admin_without_a_wechat_identity_acts_as_the_system_on_anyones_ticket(
    app: Flask, office: WeChat, admin_client: FlaskClient
) -> None:
    Chat(office, "o_wang").say("接单 1")
    page = flash_after(admin_client, post(admin_client, 1, "resolve", outcome="已由社区统一维修"))
    assert "#1 已办结" in page
    assert status_of(app, 1) == "resolved"
    timeline = page[page.index('id="timeline"') :]
    assert "办结 · 系统" in " ".join(timeline.split()).replace("</b>", "").replace("<b>", "")
    assert "已由社区统一维修" in pushes_to(app, "o_resident")[-1]


def test_an_outcome_typed_in_the_console_arrives_as_typed_without_invisible_characters(
    app: Flask, wechat: WeChat
) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    Chat(wechat, "o_a").say(ELEVATOR)
    console = logged_in(app, "wangshifu", "staff", openid="o_wang")
    post(console, 1, "accept")
    typed = "已更换LED灯，恢复運行\u200b\u202e"  # a zero-width space and a bidi override pasted in
    flash_after(console, post(console, 1, "resolve", outcome=typed))
    assert "处理结果：已更换LED灯，恢复運行\n" in pushes_to(app, "o_a")[-1]

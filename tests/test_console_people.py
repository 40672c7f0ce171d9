"""居民与网格 in the console: bindings approved as in chat, staff and their codes, accounts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import (
    Chat,
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
from sqlalchemy import select
from werkzeug.test import TestResponse

from bot.cli import main
from models import Binding, ConsoleAccount, Person, Role
from models.staff import add_staff

PLACES = """\
[[grid]]
name = "第一网格"
worker = "o_worker_li"
buildings = ["16", "17"]

[[grid]]
name = "第二网格"
buildings = ["18"]
"""


@pytest.fixture
def places(app: Flask, config_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "places.toml"
    file.write_text(PLACES, encoding="utf-8")
    result = CliRunner().invoke(main, ["places", "import", "--config", str(config_path), str(file)])
    assert result.exit_code == 0, result.output


def page_text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """A console form POST, as the browser sends it (with the page's CSRF token)."""
    token = csrf_token_of(client.get("/admin/people"))
    return client.post(url, data={"csrf_token": token, **(data or {})})


def binding_of(app: Flask, openid: str) -> Binding | None:
    with db_of(app).session(read_only=True) as session:
        found = session.scalar(
            select(Binding)
            .join(Person, Person.id == Binding.person_id)
            .where(Person.openid == openid)
        )
        if found is not None:
            session.expunge(found)
        return found


def decide(client: FlaskClient, app: Flask, openid: str, verb: str) -> TestResponse:
    binding = binding_of(app, openid)
    assert binding is not None
    url = f"/admin/people/bindings/{binding.id}/{verb}"
    return post(client, url, {"household": binding.household_id})


# -- bindings -------------------------------------------------------------------------------


def test_approving_in_the_console_tells_the_resident_what_approving_in_chat_does(
    app: Flask, admin_client: FlaskClient, wechat: WeChat, places: None
) -> None:
    by_chat, by_console = Chat(wechat, "o_zhao"), Chat(wechat, "o_resident_qian")
    by_chat.say("绑定 16-2-501")
    by_console.say("绑定 16-2-501 13812345678")

    listed = page_text(admin_client.get("/admin/people"))
    assert "16-2-501" in listed and "138****5678" in listed
    assert "13812345678" not in listed and "o_resident_qian" not in listed  # masked

    worker = Chat(wechat, "o_worker_li")
    number = re.search(r"【(\d+)】", worker.say("审核") or "")
    assert number is not None
    assert "已通过" in (worker.say(f"审核 通过 {number.group(1)}") or "")

    answer = decide(admin_client, app, "o_resident_qian", "approve")
    assert answer.status_code == 303
    shown = page_text(admin_client.get(answer.headers["Location"]))
    assert "已通过 16-2-501 的住址绑定" in shown
    assert "没有待审核的绑定申请" in shown

    approved = pushes_to(app, "o_resident_qian", "binding.approved")
    assert approved and approved == pushes_to(app, "o_zhao", "binding.approved")
    assert "16-2-501" in approved[0]
    binding = binding_of(app, "o_resident_qian")
    assert binding is not None and binding.status == "approved"
    assert binding.decided_by == "console:boss"


def test_rejecting_removes_the_binding_and_tells_the_resident(
    app: Flask, admin_client: FlaskClient, chat: Chat, places: None
) -> None:
    chat.say("绑定 17-1-101")
    answer = decide(admin_client, app, chat.openid, "reject")
    assert answer.status_code == 303
    assert "已驳回 17-1-101" in page_text(admin_client.get("/admin/people"))
    assert binding_of(app, chat.openid) is None
    [told] = pushes_to(app, chat.openid, "binding.rejected")
    assert "17-1-101" in told


def test_a_binding_changed_since_the_page_was_read_is_not_approved(
    app: Flask, admin_client: FlaskClient, chat: Chat, places: None
) -> None:
    chat.say("绑定 16-2-501")
    seen = binding_of(app, chat.openid)
    assert seen is not None
    chat.say("绑定 18-1-202")  # the same binding row, now for another household
    answer = post(
        admin_client,
        f"/admin/people/bindings/{seen.id}/approve",
        {"household": seen.household_id},
    )
    assert "已被处理或已变更" in page_text(admin_client.get(answer.headers["Location"]))
    now = binding_of(app, chat.openid)
    assert now is not None and now.status == "pending"
    assert pushes_to(app, chat.openid, "binding.approved") == []


def test_a_staff_account_approves_as_its_linked_staff_member_and_a_viewer_cannot(
    app: Flask, chat: Chat, places: None
) -> None:
    chat.say("绑定 16-2-501")
    make_account(app, "li", "staff", openid="o_worker_li")
    make_account(app, "look", "viewer")
    looker = app.test_client()
    console_login(looker, "look")
    seen = page_text(looker.get("/admin/people"))
    assert "16-2-501" in seen and "/approve" not in seen and "/reject" not in seen
    assert decide(looker, app, chat.openid, "approve").status_code == 403
    li = app.test_client()
    console_login(li, "li")
    assert decide(li, app, chat.openid, "approve").status_code == 303
    binding = binding_of(app, chat.openid)
    assert binding is not None and binding.decided_by == "o_worker_li"


def test_a_grid_worker_decides_only_in_their_grids_as_in_chat(
    app: Flask, wechat: WeChat, places: None
) -> None:
    Chat(wechat, "o_in_18").say("绑定 18-1-101")  # 第二网格: not 李's grid
    staff(app, "o_supervisor", "周主任")
    with db_of(app).session() as session:
        session.scalar(select(Person).where(Person.openid == "o_supervisor")).staff_level = 2
    make_account(app, "li", "staff", openid="o_worker_li")
    make_account(app, "zhou", "staff", openid="o_supervisor")
    make_account(app, "nobody", "staff")
    for username in ("li", "nobody"):
        client = app.test_client()
        console_login(client, username)
        refused = client.get(decide(client, app, "o_in_18", "approve").headers["Location"])
        assert "请由该网格的网格员" in page_text(refused) or "还没有关联微信身份" in page_text(
            refused
        )
        assert binding_of(app, "o_in_18").status == "pending"  # type: ignore[union-attr]
    zhou = app.test_client()
    console_login(zhou, "zhou")
    decide(zhou, app, "o_in_18", "approve")
    assert binding_of(app, "o_in_18").status == "approved"  # type: ignore[union-attr]


# -- staff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_viewers_and_staff_cannot_edit_staff_or_issue_codes(
    app: Flask, places: None, role: str
) -> None:
    wang = staff(app, "o_wang", "王师傅", topics=("物业服务",))
    make_account(app, "someone", role)
    client = app.test_client()
    console_login(client, "someone")
    assert "编辑分工" not in page_text(client.get("/admin/people"))
    assert client.get(f"/admin/people/staff/{wang}").status_code == 403
    assert client.get("/admin/people/code").status_code == 403
    form = {"name": "王师傅", "level": "1", "topic": "电梯设施"}
    assert post(client, f"/admin/people/staff/{wang}", form).status_code == 403
    assert post(client, "/admin/people/code", form).status_code == 403
    assert client.get("/admin/people/accounts").status_code == 403


def test_an_issued_code_is_shown_once_and_redeeming_it_in_chat_makes_staff(
    app: Flask, admin_client: FlaskClient, wechat: WeChat, places: None
) -> None:
    form = {"name": "周阿姨", "level": "1", "topic": ["环境卫生", "垃圾分类"], "grid": "第二网格"}
    answer = post(admin_client, "/admin/people/code", {**form, "days": "7"})
    assert answer.status_code == 200
    found = re.search(r"员工 ([A-Z2-9]{8})", page_text(answer))
    assert found, page_text(answer)
    code = found.group(1)
    assert code not in page_text(admin_client.get("/admin/people/code"))

    newcomer = Chat(wechat, "o_zhou")
    assert (newcomer.say(f"员工 {code}") or "").startswith("周阿姨，您好！您已登记为社区工作人员")
    listed = page_text(admin_client.get("/admin/people"))
    assert "周阿姨" in listed and "环境卫生、垃圾分类" in listed and "第二网格" in listed
    assert "已经使用过" in (Chat(wechat, "o_other").say(f"员工 {code}") or "")


def test_a_code_form_with_a_bad_field_says_why_and_issues_nothing(
    admin_client: FlaskClient, places: None
) -> None:
    answer = post(
        admin_client,
        "/admin/people/code",
        {"name": "", "level": "9", "topic": "不存在", "days": "0"},
    )
    assert answer.status_code == 400
    text = page_text(answer)
    for reason in ("请填写姓名", "请选择有效的级别", "没有名为“不存在”的分类", "有效天数"):
        assert reason in text
    assert "登记码已生成" not in text


def test_editing_a_staff_members_topics_changes_where_new_tickets_go(
    app: Flask, admin_client: FlaskClient, wechat: WeChat, places: None
) -> None:
    wang = staff(app, "o_wang", "王师傅", topics=("物业服务",))
    Chat(wechat, "o_res_a").say("3号楼电梯坏了，困住了两个老人，一直在报警")
    assert pushes_to(app, "o_wang", "ticket.assigned") == []

    edit = page_text(admin_client.get(f"/admin/people/staff/{wang}"))
    assert 'value="物业服务" checked' in edit
    form = {"name": "王师傅", "level": "1", "topic": "电梯设施", "wecom": "wangsf"}
    answer = post(admin_client, f"/admin/people/staff/{wang}", form)
    assert answer.status_code == 303
    listed = page_text(admin_client.get(answer.headers["Location"]))
    assert "已保存 王师傅 的分工" in listed and "wangsf" in listed

    Chat(wechat, "o_res_b").say("5号楼的电梯门关不上，电梯一直停在一楼")
    [assigned] = pushes_to(app, "o_wang", "ticket.assigned")
    assert "电梯设施" in assigned


def test_editing_with_an_unknown_grid_changes_nothing(
    app: Flask, admin_client: FlaskClient, places: None
) -> None:
    wang = staff(app, "o_wang", "王师傅", topics=("物业服务",))
    form = {"name": "王师傅", "level": "1", "topic": "电梯设施", "grid": "第九网格"}
    answer = post(admin_client, f"/admin/people/staff/{wang}", form)
    assert answer.status_code == 400
    assert "没有名为“第九网格”的网格" in page_text(answer)
    assert 'value="物业服务" checked' in page_text(admin_client.get(f"/admin/people/staff/{wang}"))
    assert admin_client.get("/admin/people/staff/99999").status_code == 404


def test_grids_show_their_buildings_households_and_residents(
    app: Flask, admin_client: FlaskClient, chat: Chat, places: None
) -> None:
    chat.say("绑定 16-2-501")
    decide(admin_client, app, chat.openid, "approve")
    Chat(chat.wechat, "o_other").say("绑定 16-3-301")  # pending: a household, no resident yet
    grids = page_text(admin_client.get("/admin/people")).split('id="grids"')[1]
    first = grids.split("第二网格")[0]
    assert "第一网格" in first and "2 户" in first and "已认证居民 1 人" in first
    assert re.search(r"<td>16</td><td>2</td><td>1</td>", first)


# -- console accounts -----------------------------------------------------------------------


def test_an_admin_creates_an_account_that_can_log_in_then_changes_its_role(
    app: Flask, admin_client: FlaskClient
) -> None:
    token = csrf_token_of(admin_client.get("/admin/people/accounts"))
    form = {"username": "xiaoli", "password": "long-enough-pw", "role": "viewer", "person": ""}
    answer = admin_client.post("/admin/people/accounts", data={**form, "csrf_token": token})
    assert answer.status_code == 303
    listed = page_text(admin_client.get("/admin/people/accounts"))
    assert "已创建账号 xiaoli（只读）" in listed
    assert "scrypt" not in listed and "long-enough-pw" not in listed

    fresh = app.test_client()
    assert console_login(fresh, "xiaoli", "long-enough-pw").status_code == 303
    assert fresh.get("/admin/outbox").status_code == 200
    assert fresh.get("/admin/people/accounts").status_code == 403

    account_id = account(app, "xiaoli").id
    answer = post(admin_client, f"/admin/people/accounts/{account_id}/role", {"role": "admin"})
    assert "已将 xiaoli 的角色改为管理员" in page_text(admin_client.get(answer.headers["Location"]))
    assert fresh.get("/admin/people/accounts").status_code == 200


def account(app: Flask, username: str) -> ConsoleAccount:
    with db_of(app).session(read_only=True) as session:
        found = session.scalar(select(ConsoleAccount).where(ConsoleAccount.username == username))
        assert found is not None
        session.expunge(found)
        return found


def test_a_bad_account_form_says_why(admin_client: FlaskClient) -> None:
    token = csrf_token_of(admin_client.get("/admin/people/accounts"))
    for form, reason in (
        ({"username": "boss", "password": "long-enough-pw", "role": "viewer"}, "已被使用"),
        ({"username": "a b", "password": "long-enough-pw", "role": "viewer"}, "不含空格"),
        ({"username": "new", "password": "short", "role": "viewer"}, "至少 8 个字符"),
        ({"username": "new", "password": "long-enough-pw", "role": "root"}, "有效的角色"),
        (
            {"username": "new", "password": "long-enough-pw", "role": "staff", "person": "77"},
            "工作人员",
        ),
    ):
        answer = admin_client.post("/admin/people/accounts", data={**form, "csrf_token": token})
        assert answer.status_code == 400, form
        assert reason in page_text(answer), form
    assert "已创建账号" not in page_text(admin_client.get("/admin/people/accounts"))


def test_the_last_admin_cannot_demote_themself(app: Flask, admin_client: FlaskClient) -> None:
    boss = account(app, "boss").id
    answer = post(admin_client, f"/admin/people/accounts/{boss}/role", {"role": "viewer"})
    assert "至少要保留一个管理员" in page_text(admin_client.get(answer.headers["Location"]))
    assert account(app, "boss").role == "admin"


def test_linking_an_account_makes_its_console_actions_the_staff_members(
    app: Flask, admin_client: FlaskClient, chat: Chat, places: None
) -> None:
    with db_of(app).session() as session:  # a supervisor: may approve in any grid
        wang = add_staff(session, "o_wang", "王师傅", (), (), None, 2, datetime.now(UTC)).id
    make_account(app, "wang", "staff")
    wang_account = account(app, "wang").id
    answer = post(admin_client, f"/admin/people/accounts/{wang_account}/link", {"person": wang})
    assert "已将账号 wang 关联到工作人员 王师傅" in page_text(
        admin_client.get(answer.headers["Location"])
    )
    client = app.test_client()
    console_login(client, "wang")
    assert "王师傅" in page_text(client.get("/admin/people"))  # the top bar says who acts
    chat.say("绑定 16-2-501")
    decide(client, app, chat.openid, "approve")
    binding = binding_of(app, chat.openid)
    assert binding is not None and binding.decided_by == "o_wang"

    with db_of(app).session(read_only=True) as session:
        resident = session.scalar(select(Person.id).where(Person.role == Role.RESIDENT))
    refused = post(
        admin_client, f"/admin/people/accounts/{wang_account}/link", {"person": resident}
    )
    assert "请选择一位工作人员" in page_text(admin_client.get(refused.headers["Location"]))
    post(admin_client, f"/admin/people/accounts/{wang_account}/link", {"person": ""})
    assert account(app, "wang").person_id is None


# -- in a browser ---------------------------------------------------------------------------


def test_in_a_browser_an_admin_approves_a_binding_and_it_leaves_the_list(
    app: Flask, page: Any, chat: Chat, places: None
) -> None:
    chat.say("绑定 16-2-501 13812345678")
    make_account(app, "boss", "admin")
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.click("nav.mainnav >> text=居民与网格")
        row = page.locator("#pending tr", has_text="16-2-501")
        assert "138****5678" in row.inner_text()
        row.locator("button", has_text="通过").click()
        page.wait_for_selector(".flash.ok")
        assert "已通过 16-2-501 的住址绑定" in page.inner_text(".flash.ok")
        assert page.locator("#pending tr", has_text="16-2-501").count() == 0
        assert "没有待审核的绑定申请" in page.inner_text("#pending")
    assert pushes_to(app, chat.openid, "binding.approved")

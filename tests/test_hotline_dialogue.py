"""12345 in practice, by chat: a work order arrives from the city hotline, the grid worker is
pushed 【12345工单】 with its order number and deadline, takes it and finishes it — or sends it
back, which for a 12345 order is 退单 (不属于本社区), reported to 12345 with the reason.

The order is filed as the API files it (models/api/orders.py `file_order`); the chat is the
conversation service itself (tests/desk.py) on the app's database.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from conftest import db_of, pushes_to, staff
from desk import Desk
from flask import Flask
from hotline_orders import ORDER_NO, send_order
from sqlalchemy import select

from models import Person, ticket_by_number
from models.api.orders import HOTLINE
from models.digest import queue_morning_digest
from models.places import Binding, Building, Grid, approve_binding


@pytest.fixture
def street(app: Flask, desk: Desk) -> Flask:
    """第一网格 with building 16 and its worker 赵网格员; a resident bound at 16-2-501 with
    the phone 12345's caller gives."""
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    zhao = staff(app, "o_zhao", "赵网格员", grids=("第一网格",))
    with db_of(app).session() as session:
        session.scalars(select(Grid)).one().worker_id = zhao
    desk.chat("o_caller").say("绑定 16-2-501")
    with db_of(app).session() as session:
        caller = session.scalars(select(Person).where(Person.openid == "o_caller")).one()
        approve_binding(session, caller.id, "test", desk.clock())
        session.scalars(
            select(Binding).where(Binding.person_id == caller.id)
        ).one().phone = "13800001111"
    return app


def order(app: Flask, source: str = HOTLINE, number: str = ORDER_NO, phone: str = "") -> int:
    return send_order(app, source, number, phone=phone or None, building="16")


def test_a_12345_order_reaches_the_grid_worker_who_takes_and_finishes_it(
    street: Flask, desk: Desk
) -> None:
    number = order(street, phone="13800001111")
    [pushed] = pushes_to(street, "o_zhao", "ticket.assigned")
    assert pushed.startswith(f"【12345工单】#{number} 工单号 {ORDER_NO}，办理时限 12月7日 18:00\n")
    assert "【新诉求待办】" in pushed and f"接单 {number}" in pushed

    zhao = desk.chat("o_zhao")
    todo = zhao.say("待办") or ""
    assert f"#{number} 【12345工单 {ORDER_NO}】" in todo
    assert (zhao.say(f"接单 {number}") or "").startswith(
        f"已接单 #{number}【12345工单 {ORDER_NO}】（"
    )
    assert zhao.say(f"办结 {number} 已更换路灯灯头，恢复照明") == (
        f"#{number} 已办结，处理结果已告知居民，并请居民评价。"
    )
    told = pushes_to(street, "o_caller", "ticket.resolved")[-1]
    assert "已更换路灯灯头" in told
    with db_of(street).session(read_only=True) as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None and ticket.status == "resolved"


def test_sending_a_12345_order_back_is_a_refusal_reported_to_12345_with_the_reason(
    street: Flask, desk: Desk
) -> None:
    number = order(street, phone="13800001111")
    zhao = desk.chat("o_zhao")
    assert zhao.say(f"接单 {number}") is not None

    asked = zhao.say(f"退回 {number}") or ""  # no reason: 退单 needs one
    assert asked.startswith(f"#{number} 是12345工单：退回即退单（不属于本社区）")
    assert zhao.say(f"退回 {number} 该路灯属于市政路灯所管辖，不在本社区") == (
        f"#{number} 已退单（不属于本社区），将连同理由反馈12345热线重新派单，"
        "并已告知反映问题的居民。\n理由：该路灯属于市政路灯所管辖，不在本社区"
    )
    told = pushes_to(street, "o_caller", "ticket.rejected")[-1]
    assert told.startswith(f"您通过12345热线反映的问题 #{number} 经社区核实不属于本社区办理范围")
    assert "说明：该路灯属于市政路灯所管辖，不在本社区" in told
    with db_of(street).session(read_only=True) as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None and ticket.status == "rejected"


def test_a_grid_platform_order_is_marked_and_its_send_back_goes_to_the_platform(
    street: Flask, desk: Desk
) -> None:
    number = order(street, source="grid", number="WG-0042")  # no phone: nobody to tell
    [pushed] = pushes_to(street, "o_zhao", "ticket.assigned")
    assert pushed.startswith(f"【网格平台工单】#{number} 工单号 WG-0042，办理时限 12月7日 18:00")
    zhao = desk.chat("o_zhao")
    zhao.say(f"接单 {number}")
    assert zhao.say(f"退回 {number} 属于物业管理范围") == (
        f"#{number} 已退回（不属于本社区），将连同理由反馈网格平台。\n理由：属于物业管理范围"
    )


def test_a_wechat_ticket_is_sent_back_as_before(street: Flask, desk: Desk) -> None:
    desk.chat("o_caller").say("16号楼门口路灯不亮，晚上很黑")
    [pushed] = pushes_to(street, "o_zhao", "ticket.assigned")
    assert pushed.startswith("【新诉求待办】")
    zhao = desk.chat("o_zhao")
    zhao.say("接单 1")
    assert zhao.say("退回 1") == (
        "请回复“退回 编号 理由”，理由会告知居民（如应向哪个部门反映），"
        "如：退回 12 属于供电公司业务，请拨打95598"
    )
    assert zhao.say("退回 1 属于供电公司业务") == "#1 已退回，理由已告知居民。"
    assert pushes_to(street, "o_caller", "ticket.rejected")[-1].startswith("您反映的问题 #1 不属于")


def test_the_morning_digest_marks_a_12345_order(street: Flask, desk: Desk) -> None:
    number = order(street)
    desk.chat("o_caller").say("3号楼楼道灯坏了，晚上一片漆黑")  # a WeChat ticket, unmarked
    with db_of(street).session() as session:
        assert queue_morning_digest(session, desk.clock(), ZoneInfo("Asia/Shanghai")) == 1
    [digest] = pushes_to(street, "o_zhao", "staff.digest")
    assert f"#{number} 【12345工单】" in digest
    assert f"#{number + 1} 【" not in digest


def test_finishing_an_order_nobody_here_can_be_told_of_says_where_the_result_goes(
    street: Flask, desk: Desk
) -> None:
    number = order(street)  # no phone: no resident the account reaches
    zhao = desk.chat("o_zhao")
    zhao.say(f"接单 {number}")
    assert zhao.say(f"办结 {number} 已修复") == f"#{number} 已办结，办理结果将反馈12345热线。"


def test_finishing_a_call_for_someone_the_account_cannot_reach_asks_for_a_call_back(
    street: Flask, desk: Desk
) -> None:
    from bot.filing import file_on_behalf
    from models.onbehalf import OnBehalf

    ys = street.extensions["yishiting"]
    with db_of(street).session() as session:
        filed = file_on_behalf(
            session,
            OnBehalf("phone", "16号楼门口路灯不亮", desk.clock(), None, phone="13900002222"),
            ys.settings,
            ys.rulebook.current().classify,
            recorder="测试",
        )
    zhao = desk.chat("o_zhao")
    zhao.say(f"接单 {filed.number}")
    assert zhao.say(f"办结 {filed.number} 已修复") == (
        f"#{filed.number} 已办结。居民收不到微信通知，请电话回访告知结果并记录评价。"
    )

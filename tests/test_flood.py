"""Ticket flood control by chat: the open-ticket cap, and 附议 for a neighbour's problem.

A neighbour in the same building who reports the same problem is counted on the first
ticket (附议) and told the outcome with its author; nobody holds more than
[abuse] max_open_tickets open tickets at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import func, select

from bot.config import Settings
from models import Person, Ticket
from models.places import Building, Grid, approve_binding
from models.staff import LEVEL_COMMUNITY, add_staff

ELEVATOR = "16号楼2单元的电梯又坏了，困住了两个老人，一直在报警"


def tickets_filed(app: Flask) -> int:
    with db_of(app).session(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def bind(app: Flask, chat: Chat, place: str) -> None:
    """The resident asks to bind to `place` and staff approve it."""
    chat.say(f"绑定 {place}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == chat.openid)).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))


def community(settings: Settings, clock: Clock, **abuse: object) -> tuple[Flask, WeChat]:
    """Building 16 in a grid, 王师傅 for 电梯设施 and 李主任 on duty."""
    settings = settings.replace(abuse=abuse) if abuse else settings
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18")])
        now = datetime.now(UTC)
        add_staff(session, "o_wang", "王师傅", ["电梯设施"], [], None, 1, now)
        add_staff(session, "o_li", "李主任", [], [], None, LEVEL_COMMUNITY, now)
    return app, WeChat(app.test_client(), settings)


@pytest.fixture
def building(settings: Settings, clock: Clock) -> tuple[Flask, WeChat]:
    app, wechat = community(settings, clock)
    bind(app, Chat(wechat, "o_zhang"), "16-2-501")
    bind(app, Chat(wechat, "o_chen"), "16-2-702")
    bind(app, Chat(wechat, "o_far"), "18-1-101")
    return app, wechat


def test_a_neighbour_reporting_the_same_problem_is_counted_as_support(
    building: tuple[Flask, WeChat],
) -> None:
    app, wechat = building
    zhang, chen, wang = Chat(wechat, "o_zhang"), Chat(wechat, "o_chen"), Chat(wechat, "o_wang")

    assert "#1" in (zhang.say(ELEVATOR) or "")
    assert chen.say("16号楼2单元的电梯又坏了！困住了两个老人，一直在报警。") == (
        "已有居民反映了同样的问题 #1，已为您记一次附议，办理结果也会通知您。"
    )
    assert chen.say(ELEVATOR) == "您已为 #1 附议过了，办理结果会通知您。"
    assert tickets_filed(app) == 1

    todo = wang.say("待办") or ""
    assert "#1 电梯设施" in todo and "附议 1 人" in todo

    wang.say("接单 1")
    assert wang.say("办结 1 已更换电梯门机控制板") == (
        "#1 已办结，处理结果已告知居民，并请居民评价。"
    )
    assert pushes_to(app, "o_chen")[-1] == (
        "您附议的问题 #1 已办结。\n处理结果：已更换电梯门机控制板"
    )
    assert "请您评价" in pushes_to(app, "o_zhang")[-1]
    # The author rates; the supporter's next message is a new conversation, not a rating.
    assert "#2" in (chen.say("16号楼门口的路灯不亮了，晚上很黑") or "")


def test_nearly_the_same_words_on_the_same_topic_are_support_too(
    building: tuple[Flask, WeChat],
) -> None:
    app, wechat = building
    zhang, chen = Chat(wechat, "o_zhang"), Chat(wechat, "o_chen")

    assert "#1" in (zhang.say(ELEVATOR) or "")
    reply = chen.say("16号楼2单元电梯又坏了，困住了两位老人，一直在报警")
    assert reply is not None and "#1" in reply and "附议" in reply

    reassigned = pushes_to(app, "o_wang")
    assert len(reassigned) == 1  # filing's push only: a 附议 pushes nothing to staff


def test_a_different_problem_or_another_building_is_a_new_ticket(
    building: tuple[Flask, WeChat],
) -> None:
    app, wechat = building
    zhang, chen, far = Chat(wechat, "o_zhang"), Chat(wechat, "o_chen"), Chat(wechat, "o_far")
    unbound = Chat(wechat, "o_unbound")

    assert "#1" in (zhang.say(ELEVATOR) or "")
    assert "#2" in (chen.say("16号楼2单元的路灯又坏了，晚上一直很黑") or "")
    lift_at_home = ELEVATOR.removeprefix("16号楼")  # naming no building: the writer's home
    assert "#3" in (far.say(lift_at_home) or "")  # building 18
    assert "#4" in (unbound.say(lift_at_home) or "")  # nobody knows where they live
    assert tickets_filed(app) == 4


def test_naming_the_building_makes_it_the_same_problem_wherever_the_writer_lives(
    building: tuple[Flask, WeChat],
) -> None:
    """Where the problem is (models/spots.py), not only where the writer lives: a resident of
    building 18, or one nobody knows, writing about 16号楼's lift seconds the ticket about it."""
    app, wechat = building
    zhang, far = Chat(wechat, "o_zhang"), Chat(wechat, "o_far")
    unbound = Chat(wechat, "o_unbound")

    assert "#1" in (zhang.say(ELEVATOR) or "")
    assert "记一次附议" in (far.say(ELEVATOR) or "")
    assert "记一次附议" in (unbound.say(ELEVATOR) or "")
    assert tickets_filed(app) == 1


def test_the_staffs_push_and_later_pushes_show_the_support(
    building: tuple[Flask, WeChat],
) -> None:
    app, wechat = building
    zhang, chen, li = Chat(wechat, "o_zhang"), Chat(wechat, "o_chen"), Chat(wechat, "o_li")

    zhang.say(ELEVATOR)
    chen.say(ELEVATOR)
    assert li.say("转派 1 李主任") is not None
    handed = pushes_to(app, "o_li", "ticket.assigned")[-1]
    assert "附议：另有 1 位居民反映了同样的问题" in handed


def test_nobody_holds_more_open_tickets_than_the_cap(settings: Settings, clock: Clock) -> None:
    app, wechat = community(settings, clock, max_open_tickets=2)
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")

    assert "#1" in (resident.say("3号楼电梯坏了，困住了两个老人") or "")
    assert "#2" in (resident.say("小区东门口每天晚上都有车乱停，把消防通道堵住了") or "")
    assert resident.say("楼上装修从早上七点就开始打电钻，周末也不停") == (
        "您已有 2 件诉求正在办理：#2、#1。请等待办结后再反映新的问题，"
        "如是同一件事的补充，请回复“查询 编号”查看进度。回复“我的”查看全部。"
    )
    mine = resident.say("我的") or ""
    assert "#1" in mine and "#2" in mine
    assert tickets_filed(app) == 2

    wang.say("接单 1")
    wang.say("办结 1 已修好")
    assert "#3" in (resident.say("楼上装修从早上七点就开始打电钻，周末也不停") or "")

    for n in range(3):  # staff report on residents' behalf: no cap
        assert "已登记" in (wang.say(f"{n + 5}号楼门口的路灯坏了，晚上很黑") or "")


def test_support_is_counted_once_per_resident_on_both_databases(
    backend_settings: Settings, clock: Clock
) -> None:
    app, wechat = community(backend_settings, clock)
    for openid, place in (("o_zhang", "16-2-501"), ("o_chen", "16-2-702"), ("o_wu", "16-1-301")):
        bind(app, Chat(wechat, openid), place)

    assert "#1" in (Chat(wechat, "o_zhang").say(ELEVATOR) or "")
    assert "附议" in (Chat(wechat, "o_chen").say(ELEVATOR) or "")
    assert "附议过了" in (Chat(wechat, "o_chen").say(ELEVATOR + "！") or "")
    assert "附议" in (Chat(wechat, "o_wu").say(ELEVATOR) or "")
    with db_of(app).session(read_only=True) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.supporters == 2
    db_of(app).dispose()

"""办·督·评 by chat: a ticket reaches its handler, is handled, rated, reopened, escalated.

Pushes are read as the person would read them: the outbox rows for them, rendered with the
same templates the worker sends.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to, staff
from flask import Flask
from sqlalchemy import select

from bot.config import Settings
from bot.schedule import jobs
from bot.schedule.tickets import deadlines, followups, ratings
from models import Person, Ticket, ticket_by_number
from models.places import Building, Grid
from models.staff import LEVEL_COMMUNITY, LEVEL_STREET


def ticket(app: Flask, number: int) -> Ticket:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        session.expunge(found)
        return found


def sweep(app: Flask, settings: Settings, now: datetime) -> None:
    with db_of(app).session() as session:
        for func in (deadlines, ratings, followups):
            func(session, now, settings)


@pytest.fixture
def community(settings: Settings, clock: Clock) -> Any:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    staff(app, "o_li", "李主任", level=LEVEL_COMMUNITY)
    return app, wechat


def test_a_request_is_handled_rated_unhappy_and_reopened(community: Any) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")

    assert "#1" in (resident.say("3号楼电梯坏了，困住了两个老人，一直在报警") or "")
    [assigned] = pushes_to(app, "o_wang")
    assert "【新诉求待办】" in assigned and "#1" in assigned and "电梯设施" in assigned
    assert "困住了两个老人" in assigned and "接单 1" in assigned

    reply = wang.say("接单 1")
    assert reply is not None and reply.startswith("已接单 #1（电梯设施）")
    assert "#1 已由社区工作人员受理" in pushes_to(app, "o_resident")[-1]

    assert wang.say("备注 1 已联系电梯维保公司，下午上门") == "已在 #1 的办理记录中添加备注。"
    assert wang.say("办结 1 已更换电梯门机控制板，运行正常") == (
        "#1 已办结，处理结果已告知居民，并请居民评价。"
    )
    outcome = pushes_to(app, "o_resident")[-1]
    assert "已更换电梯门机控制板" in outcome and "1 满意" in outcome

    reply = resident.say("3")
    assert reply is not None and "已重新打开" in reply
    assert ticket(app, 1).status == "reopened"
    assert "诉求重新打开" in pushes_to(app, "o_wang")[-1]
    assert "诉求重新打开" in pushes_to(app, "o_li")[-1]  # the supervisor hears of it

    assert (
        resident.say("电梯还是时好时坏") == "已将您的补充说明转给 #1 的办理人员，我们会尽快处理。"
    )
    assert wang.say("接单 1") is not None
    assert ticket(app, 1).status == "accepted"
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, 1)
        assert found is not None
        actions = [event.action for event in found.events]
    assert actions == [
        "filed",
        "accept",
        "note",
        "resolve",
        "reopened",
        "note",
        "accept",
    ]


def test_a_satisfied_resident_closes_the_ticket(community: Any) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("5号楼电梯按钮失灵了")
    wang.say("接单 1")
    wang.say("办结 1 已维修")
    assert resident.say("评价 1 1") == "感谢您的评价！#1 已办结归档。如问题再次出现，欢迎随时反映。"
    done = ticket(app, 1)
    assert (done.status, done.rating, done.on_time) == ("closed", 1, True)
    assert resident.say("评价 1 2") == "#1 目前不在待评价状态，感谢您的关注。"


def test_staff_commands_are_refused_to_residents(community: Any) -> None:
    app, wechat = community
    resident = Chat(wechat, "o_resident")
    resident.say("3号楼电梯坏了")
    assert resident.say("接单 1") == "抱歉，该指令仅限社区工作人员使用。"
    assert resident.say("办结 1 好了") == "抱歉，该指令仅限社区工作人员使用。"
    assert ticket(app, 1).status == "new"


def test_a_resident_cannot_see_or_rate_anothers_ticket(community: Any) -> None:
    app, wechat = community
    resident, neighbour, wang = (Chat(wechat, o) for o in ("o_resident", "o_neighbour", "o_wang"))
    resident.say("3号楼电梯坏了")
    wang.say("接单 1")
    wang.say("办结 1 已维修")
    assert neighbour.say("查询 1") == "没有找到编号为 #1 的诉求，请核对编号。"
    assert neighbour.say("评价 1 3") == "没有找到您可以评价的诉求 #1，请核对编号。"
    # No rating question waits for the neighbour: a bare digit is just too short to file.
    assert (
        neighbour.say("3") == "请再多说几句：在什么地方、遇到了什么情况？这样工作人员才能帮您处理。"
    )
    rated = ticket(app, 1)
    assert (rated.status, rated.rating) == ("resolved", None)


def test_illegal_moves_are_refused_clearly(community: Any) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("3号楼电梯坏了")
    assert wang.say("办结 1 好了") == "#1 当前状态为“待受理”，不能办结。"
    assert wang.say("办结 1") == "请回复“办结 编号 处理结果”，如：办结 12 已更换楼道灯泡"
    assert wang.say("接单 99") == "没有找到编号为 #99 的诉求，请核对编号。"
    assert wang.say("退回 1") is not None and "理由会告知居民" in (wang.say("退回 1") or "")
    assert wang.say("退回 1 属于供电公司业务，请拨打95598") == "#1 已退回，理由已告知居民。"
    assert "属于供电公司业务" in pushes_to(app, "o_resident")[-1]
    assert wang.say("接单 1") == "#1 当前状态为“不予受理”，不能接单。"


def test_routing_prefers_topic_and_grid_then_the_grid_worker(
    settings: Settings, clock: Clock
) -> None:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    staff(app, "o_zhao", "赵网格员", grids=("第一网格",))
    with db_of(app).session() as session:
        worker = session.scalars(select(Person).where(Person.openid == "o_zhao")).one()
        session.scalars(select(Grid)).one().worker_id = worker.id
    staff(app, "o_sun", "孙工", topics=("电梯设施",), grids=("第一网格",))
    staff(app, "o_qian", "钱工", topics=("电梯设施",))
    staff(app, "o_li", "李主任", level=LEVEL_COMMUNITY)

    resident = Chat(wechat, "o_resident")
    resident.say("绑定 16-2-501")
    with db_of(app).session() as session:
        from models.places import approve_binding

        approve_binding(session, _id(session, "o_resident"), "test", datetime.now(UTC))

    resident.say("电梯又坏了，困在里面了")  # #1 电梯设施 in 第一网格
    resident.say("楼下垃圾桶满了好几天没人清运")  # #2 another topic: the grid worker
    Chat(wechat, "o_elsewhere").say("我家楼的电梯坏了")  # #3 no grid: topic staff
    Chat(wechat, "o_elsewhere").say("小区里有人遛狗不拴绳，还吓到小孩")  # #4: the supervisor
    reasons = [(ticket(app, n).assignee_id, ticket(app, n).assigned_reason) for n in range(1, 5)]
    with db_of(app).session(read_only=True) as session:
        names = {p.id: p.name for p in session.scalars(select(Person))}
    assert [(names[a], r) for a, r in reasons] == [
        ("孙工", "topic+grid"),
        ("赵网格员", "grid worker"),
        ("钱工", "topic"),
        ("李主任", "supervisor"),
    ]
    assert ticket(app, 1).place == "16-2-501"
    assert "地点：16-2-501" in pushes_to(app, "o_sun")[0]


def _id(session: Any, openid: str) -> int:
    return int(session.scalars(select(Person.id).where(Person.openid == openid)).one())


def test_a_missed_deadline_warns_then_escalates_up_the_ladder(
    community: Any, settings: Settings
) -> None:
    app, wechat = community
    staff(app, "o_zhou", "周科长", level=LEVEL_STREET)
    Chat(wechat, "o_resident").say("3号楼电梯坏了")  # 电梯设施: 24 hours
    filed = ticket(app, 1)
    assert filed.due_at is not None
    due = filed.due_at

    sweep(app, settings, due - timedelta(hours=1))  # two hours' warning by default
    assert "诉求即将到期" in pushes_to(app, "o_wang")[-1]
    sweep(app, settings, due - timedelta(minutes=30))  # warned once only
    assert sum("即将到期" in p for p in pushes_to(app, "o_wang")) == 1

    sweep(app, settings, due + timedelta(minutes=1))
    first = ticket(app, 1)
    assert (first.status, first.level) == ("escalated", 2)
    assert "逾期升级至社区" in pushes_to(app, "o_li")[-1]
    assert "已升级至社区" in pushes_to(app, "o_wang")[-1]

    assert first.due_at is not None
    sweep(app, settings, first.due_at + timedelta(minutes=1))
    second = ticket(app, 1)
    assert (second.status, second.level) == ("escalated", 3)
    assert "逾期升级至街道" in pushes_to(app, "o_zhou")[-1]

    assert second.due_at is not None
    sweep(app, settings, second.due_at + timedelta(minutes=1))  # the top: said once
    sweep(app, settings, second.due_at + timedelta(hours=1))
    assert sum("诉求已逾期" in p for p in pushes_to(app, "o_zhou")) == 1
    assert Chat(wechat, "o_zhou").say("接单 1") is not None
    assert ticket(app, 1).status == "accepted"


def test_no_rating_gets_one_reminder_then_the_ticket_closes(
    community: Any, settings: Settings
) -> None:
    app, wechat = community
    Chat(wechat, "o_resident").say("3号楼电梯坏了")
    Chat(wechat, "o_wang").say("接单 1")
    Chat(wechat, "o_wang").say("办结 1 已维修")
    resolved_at = ticket(app, 1).resolved_at
    assert resolved_at is not None
    sweep(app, settings, resolved_at + timedelta(days=3, minutes=1))
    assert "还没收到您的评价" in pushes_to(app, "o_resident")[-1]
    sweep(app, settings, resolved_at + timedelta(days=4))
    assert sum("还没收到您的评价" in p for p in pushes_to(app, "o_resident")) == 1
    sweep(app, settings, resolved_at + timedelta(days=6, minutes=2))
    closed = ticket(app, 1)
    assert (closed.status, closed.rating) == ("closed", None)

    sweep(app, settings, resolved_at + timedelta(days=28, minutes=1))  # 回头看
    assert "问题还有吗" in pushes_to(app, "o_resident")[-1]


def test_concurrent_accepts_one_wins_the_other_is_told_who(
    backend_settings: Settings, clock: Clock
) -> None:
    settings = backend_settings
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    Chat(wechat, "o_resident").say("小区里有人遛狗不拴绳")  # nobody to route to: triage
    assert ticket(app, 1).assignee_id is None
    staff(app, "o_a", "甲")
    staff(app, "o_b", "乙")
    replies: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def take(openid: str) -> None:
        chat = Chat(WeChat(app.test_client(), settings), openid)
        barrier.wait()
        replies[openid] = chat.say("接单 1")

    threads = [threading.Thread(target=take, args=(o,)) for o in ("o_a", "o_b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o, r in replies.items() if r and r.startswith("已接单")]
    assert len(winners) == 1
    loser = "o_b" if winners == ["o_a"] else "o_a"
    holder = "甲" if winners == ["o_a"] else "乙"
    assert replies[loser] == f"#1 已由{holder}接单，无需重复接单。"


def test_the_sweeps_run_in_the_scheduler(settings: Settings) -> None:
    assert {"ticket_deadlines", "ticket_ratings", "ticket_followups"} <= set(jobs.SWEEPS)


def test_the_morning_digest_runs_once_a_day(community: Any, settings: Settings) -> None:
    app, wechat = community
    Chat(wechat, "o_resident").say("3号楼电梯坏了")
    Chat(wechat, "o_wang").say("接单 1")
    db = db_of(app)
    jobs.RUNTIME = jobs.Runtime(settings, db, lambda: datetime.now(UTC))
    try:
        jobs.morning_digest()
        jobs.morning_digest()  # the same day's slot: skipped
    finally:
        jobs.RUNTIME = None
    digests = [p for p in pushes_to(app, "o_wang") if p.startswith("【今日待办")]
    assert len(digests) == 1
    assert "您有 1 件诉求在办" in digests[0] and "#1 电梯设施" in digests[0]


def test_a_ticket_waiting_for_a_colleague_is_theirs(community: Any) -> None:
    app, wechat = community
    staff(app, "o_zhang", "张师傅", topics=("环境卫生",))
    Chat(wechat, "o_resident").say("3号楼电梯坏了")  # routed to 王师傅 (电梯设施)
    zhang, li = Chat(wechat, "o_zhang"), Chat(wechat, "o_li")
    assert zhang.say("接单 1") == ("#1 目前由王师傅负责，如需转给您，请联系对方或社区负责人转派。")
    assert (li.say("接单 1") or "").startswith("已接单 #1")  # the supervisor may
    assert zhang.say("接单 1") == "#1 已由李主任接单，无需重复接单。"

"""`staff remove OPENID --to OTHER`: a staff member leaves and a colleague takes over.

Read as the people involved would: the residents' and the successor's pushes, the successor's
and the leaver's 待办, and what the command prints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, Clock, WeChat, db_of, make_account, make_app, pushes_to
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from models import ConsoleAccount, Person, Role, TicketEvent, ticket_by_number
from models.places import Grid
from models.staff import add_staff, staff_assignment, staff_members

STAFF_ONLY = "抱歉，该指令仅限社区工作人员使用。"


def remove(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["staff", "remove", "--config", str(config_path), *args])


def person(app: Flask, openid: str) -> Person:
    with db_of(app).session(read_only=True) as session:
        found = session.scalars(select(Person).where(Person.openid == openid)).one()
        session.expunge(found)
        return found


@pytest.fixture
def office(settings: Settings, clock: Clock) -> Any:
    """王师傅 handles 电梯设施 and works 一网格; 张工 is a colleague; a resident filed two."""
    app = make_app(settings, clock=clock)
    now = datetime.now(UTC)
    with db_of(app).session() as session:
        leaver = add_staff(session, "o_wang", "王师傅", ["电梯设施"], [], None, 1, now)
        session.add(Grid(name="一网格", worker_id=leaver.id))
        session.flush()
        add_staff(session, "o_wang", "王师傅", ["电梯设施"], ["一网格"], None, 1, now)
        add_staff(session, "o_zhang", "张工", ["环境卫生"], [], None, 1, now)
    wechat = WeChat(app.test_client(), settings)
    resident = Chat(wechat, "o_resident")
    assert "#1" in (resident.say("3号楼电梯坏了，困住了两个老人") or "")
    assert "#2" in (resident.say("5号楼电梯按钮失灵了，一直没人修") or "")
    wang = Chat(wechat, "o_wang")
    assert (wang.say("接单 1") or "").startswith("已接单 #1")
    yield app, wechat
    db_of(app).dispose()


def test_the_successor_gets_the_open_tickets_and_the_residents_are_told(
    office: Any, config_path: Path
) -> None:
    app, wechat = office
    zhang, wang = Chat(wechat, "o_zhang"), Chat(wechat, "o_wang")
    before = len(pushes_to(app, "o_resident"))

    result = remove(config_path, "o_wang", "--to", "o_zhang")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "ticket #1 → 张工 (resident told, 张工 pushed)",
        "ticket #2 → 张工 (resident told, 张工 pushed)",
        "grid 一网格 → 张工",
        "topic 电梯设施 → 张工",
        "王师傅 is a resident now: 2 open ticket(s), 1 grid(s), 1 topic(s) moved to 张工",
    ]
    told = pushes_to(app, "o_resident")[before:]
    assert told == [
        "您反映的问题 #1 已改由社区工作人员张工继续办理。",
        "您反映的问题 #2 已改由社区工作人员张工继续办理。",
    ]
    assigned = pushes_to(app, "o_zhang", "ticket.assigned")
    assert [("#1" in p, "#2" in p) for p in assigned] == [(True, False), (False, True)]
    assert all("【新诉求待办】" in p and "接单" in p for p in assigned)

    todo = zhang.say("待办") or ""
    assert "#1 电梯设施" in todo and "#2 电梯设施" in todo
    assert wang.say("待办") == STAFF_ONLY
    assert wang.say("接单 2") == STAFF_ONLY
    assert (zhang.say("接单 1") or "").startswith("已接单 #1")


def test_grids_topics_and_role_move_and_the_name_stays_on_the_history(
    office: Any, config_path: Path
) -> None:
    app, _ = office
    leaver = person(app, "o_wang")

    assert remove(config_path, "o_wang", "--to", "o_zhang").exit_code == 0

    gone = person(app, "o_wang")
    assert (gone.role, gone.staff_level, gone.name) == (Role.RESIDENT, 0, "王师傅")
    with db_of(app).session(read_only=True) as session:
        successor = person(app, "o_zhang")
        assert staff_assignment(session, successor.id) == (["环境卫生", "电梯设施"], ["一网格"])
        assert staff_assignment(session, leaver.id) == ([], [])
        grid = session.scalars(select(Grid).where(Grid.name == "一网格")).one()
        assert grid.worker_id == successor.id
        assert [m.openid for m in staff_members(session)] == ["o_zhang"]
        first = ticket_by_number(session, 1)
        assert first is not None
        accepted = [e for e in first.events if e.action == "accept"]
        assert [e.actor_id for e in accepted] == [leaver.id]  # 王师傅 accepted it, still
        handed = session.scalars(
            select(TicketEvent).where(
                TicketEvent.ticket_id == first.id, TicketEvent.action == "reassigned"
            )
        ).one()
        assert (handed.note, handed.from_status, handed.to_status) == ("→ 张工", "accepted", "new")


def test_a_console_account_linked_to_the_leaver_is_unlinked_and_named(
    office: Any, config_path: Path
) -> None:
    app, _ = office
    make_account(app, "wangshifu", "staff", openid="o_wang")

    result = remove(config_path, "o_wang", "--to", "o_zhang")

    assert result.exit_code == 0, result.output
    assert (
        "console account wangshifu unlinked from 王师傅; it still signs in as staff: "
        "change its role or password in 管理后台 → 账号 if it should not"
    ) in result.stdout.splitlines()
    with db_of(app).session(read_only=True) as session:
        account = session.scalars(
            select(ConsoleAccount).where(ConsoleAccount.username == "wangshifu")
        ).one()
        assert account.person_id is None


def test_bad_requests_are_refused_by_name_and_change_nothing(
    office: Any, config_path: Path
) -> None:
    app, _ = office
    cases = {
        ("o_wang", "o_resident"): "Error: o_resident is not staff",
        ("o_resident", "o_zhang"): "Error: o_resident is not staff",
        ("o_wang", "o_nobody"): "Error: no one with openid o_nobody is known",
        ("o_ghost", "o_nobody"): "Error: no one with openid o_ghost, o_nobody is known",
    }
    for (leaver, successor), message in cases.items():
        result = remove(config_path, leaver, "--to", successor)
        assert result.exit_code == 1, result.output
        assert message in result.stderr, result.stderr
        assert result.stdout == ""
    same = remove(config_path, "o_wang", "--to", "o_wang")
    assert same.exit_code == 2
    assert "--to must be someone else than OPENID" in same.stderr
    assert person(app, "o_wang").role == Role.STAFF
    with db_of(app).session(read_only=True) as session:
        first = ticket_by_number(session, 1)
        assert first is not None and first.assignee_id == person(app, "o_wang").id


def test_staff_who_hold_nothing_leave_with_a_summary(office: Any, config_path: Path) -> None:
    result = remove(config_path, "o_zhang", "--to", "o_wang")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "topic 环境卫生 → 王师傅",
        "张工 is a resident now: 0 open ticket(s), 0 grid(s), 1 topic(s) moved to 王师傅",
    ]


def test_a_ticket_reopened_after_its_holder_left_goes_to_who_handles_it_now(
    office: Any, config_path: Path
) -> None:
    app, wechat = office
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    assert "已办结" in (wang.say("办结 1 已更换电梯门机控制板") or "")
    assert remove(config_path, "o_wang", "--to", "o_zhang").exit_code == 0
    before_wang = len(pushes_to(app, "o_wang"))

    resident.say("3")  # 不满意: the ticket reopens

    reopened = pushes_to(app, "o_zhang", "ticket.reopened")
    assert len(reopened) == 1 and "#1" in reopened[0]
    assert pushes_to(app, "o_wang")[before_wang:] == []  # nothing to someone who has left
    assert "#1" in (Chat(wechat, "o_zhang").say("待办") or "")

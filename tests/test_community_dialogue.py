"""A street with two communities, by chat: each has a 1号楼 and a 第一网格.

Residents bind within their community (and are asked which one when a building name is in
both), their reports go to their own community's grid worker, an overdue ticket climbs from
its community's supervisor to the street, and a community's staff cannot see or act on the
other community's tickets.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.schedule.tickets import deadlines
from models import Person, Ticket, ticket_by_number
from models.communities import community_by_name
from models.privacy import ERASED_TEXT

EAST, WEST = "东湖社区", "西湖社区"

PLACES = """\
[[grid]]
name = "第一网格"
worker = "{worker}"
buildings = ["1号楼", "2号楼"]
"""


def cli(config_path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def import_places(config_path: Path, tmp_path: Path, community: str, worker: str) -> None:
    file = tmp_path / f"{worker}.toml"
    file.write_text(PLACES.format(worker=worker), encoding="utf-8")
    cli(config_path, "places", "import", "--community", community, str(file))


@pytest.fixture
def street(settings: Settings, config_path: Path, tmp_path: Path, clock: Clock) -> Any:
    """Two communities, each with 第一网格 (1号楼, 2号楼), its grid worker and supervisor;
    one street-office contact (level 3, no community)."""
    for name in (EAST, WEST):
        cli(config_path, "community", "add", name)
    import_places(config_path, tmp_path, EAST, "o_worker_east")
    import_places(config_path, tmp_path, WEST, "o_worker_west")
    for openid, name, community in (("o_sup_east", "东主任", EAST), ("o_sup_west", "西主任", WEST)):
        cli(config_path, "staff", "add", "--openid", openid, "--name", name, "--supervisor",
            "--community", community)  # fmt: skip
    cli(config_path, "staff", "add", "--openid", "o_street", "--name", "周科长", "--street")
    app = make_app(settings, clock=clock)
    return app, WeChat(app.test_client(), settings)


def ticket(app: Flask, number: int) -> Ticket:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        session.expunge(found)
        return found


def openid_of(app: Flask, person_id: int | None) -> str | None:
    with db_of(app).session(read_only=True) as session:
        person = session.get(Person, person_id) if person_id is not None else None
        return person.openid if person is not None else None


def community_of(app: Flask, openid: str) -> str | None:
    with db_of(app).session(read_only=True) as session:
        person = session.scalars(select(Person).where(Person.openid == openid)).one()
        names = {community_by_name(session, n).id: n for n in (EAST, WEST)}  # type: ignore[union-attr]
        return names.get(person.community_id) if person.community_id is not None else None


def bind_and_approve(wechat: WeChat, resident: str, choice: str, worker: str) -> None:
    """`resident` binds to 1-2-301, answers which community (`choice`), `worker` approves."""
    chat = Chat(wechat, resident)
    assert chat.say("绑定 1-2-301") == (
        "1号楼在以下几个社区都有，请问您住在哪个社区？请回复序号：\n"
        f"1. {EAST}\n2. {WEST}\n例如回复：1"
    )
    assert chat.say(choice) == (
        "已收到您的住址绑定申请：1号楼-2-301。\n社区工作人员审核通过后会通知您，请耐心等候。"
    )
    listed = Chat(wechat, worker).say("审核") or ""
    number = listed.split("【")[1].split("】")[0]
    assert Chat(wechat, worker).say(f"审核 通过 {number}") is not None


def test_an_ambiguous_building_asks_which_community_and_the_binding_lands_there(
    street: Any,
) -> None:
    app, wechat = street
    resident = Chat(wechat, "o_res_east")
    assert resident.say("绑定 1-2-301").endswith("例如回复：1")  # type: ignore[union-attr]
    assert resident.say("5") == "请回复 1 到 2 之间的序号，告诉我们您住在哪个社区。"
    assert resident.say("1").startswith("已收到您的住址绑定申请：1号楼-2-301")  # type: ignore[union-attr]
    # Only the community's own worker sees (and may decide) the binding.
    assert Chat(wechat, "o_worker_west").say("审核") == "目前没有待审核的住址绑定。"
    assert Chat(wechat, "o_sup_west").say("审核") == "目前没有待审核的住址绑定。"
    assert "1号楼-2-301" in (Chat(wechat, "o_sup_east").say("审核") or "")
    assert "1号楼-2-301" in (Chat(wechat, "o_street").say("审核") or "")
    listed = Chat(wechat, "o_worker_east").say("审核") or ""
    number = listed.split("【")[1].split("】")[0]
    assert Chat(wechat, "o_worker_west").say(f"审核 通过 {number}") == (
        f"没有找到编号为 {number} 的待审核绑定，它可能已被处理。回复“审核”查看最新列表。"
    )
    Chat(wechat, "o_worker_east").say(f"审核 通过 {number}")
    assert community_of(app, "o_res_east") == EAST

    # Known now: the next binding looks in their own community, without asking.
    assert resident.say("绑定 1-2-302").startswith("已收到您的住址绑定申请：1号楼-2-302")  # type: ignore[union-attr]


def test_reports_are_routed_within_each_community(street: Any) -> None:
    app, wechat = street
    bind_and_approve(wechat, "o_res_east", "1", "o_worker_east")
    bind_and_approve(wechat, "o_res_west", "2", "o_worker_west")
    Chat(wechat, "o_res_east").say("楼道里的垃圾好几天没人清理了")
    Chat(wechat, "o_res_west").say("楼道里的垃圾堆了好几天，味道很大")
    east, west = ticket(app, 1), ticket(app, 2)
    assert openid_of(app, east.assignee_id) == "o_worker_east"
    assert openid_of(app, west.assignee_id) == "o_worker_west"
    assert east.community_id != west.community_id


def test_community_staff_cannot_see_or_act_on_the_other_communitys_ticket(street: Any) -> None:
    app, wechat = street
    bind_and_approve(wechat, "o_res_east", "1", "o_worker_east")
    bind_and_approve(wechat, "o_res_west", "2", "o_worker_west")
    Chat(wechat, "o_res_east").say("楼道里的垃圾好几天没人清理了")
    Chat(wechat, "o_res_west").say("楼道里的垃圾堆了好几天，味道很大")
    east_worker, west_sup = Chat(wechat, "o_worker_east"), Chat(wechat, "o_sup_west")
    before = ticket(app, 2)
    missing = "没有找到编号为 #2 的诉求，请核对编号。"
    for command in (
        "查询 2",
        "接单 2",
        "备注 2 已联系",
        "办结 2 已清理",
        "退回 2 不归我们",
        "转派 2 绿化园林",
    ):
        assert east_worker.say(command) == missing, command
    assert Chat(wechat, "o_sup_east").say("接单 2") == missing  # a supervisor: their community only
    assert west_sup.say("查询 1") == "没有找到编号为 #1 的诉求，请核对编号。"
    after = ticket(app, 2)  # nothing happened to it
    assert (after.status, after.assignee_id, after.topic_id) == (
        before.status,
        before.assignee_id,
        before.topic_id,
    )
    assert "#1" in (east_worker.say("待办") or "")
    assert "#2" not in (east_worker.say("待办") or "")
    # A ticket is handed only to its community's staff or the street's.
    assert (west_sup.say("转派 2 东主任") or "").startswith("没有叫“东主任”的类别或工作人员。")
    assert west_sup.say("转派 2 周科长") == "#2 已转派给周科长。"
    # The street's staff reach every community's tickets.
    assert "#2" in (Chat(wechat, "o_street").say("查询 2") or "")
    assert Chat(wechat, "o_street").say("接单 2").startswith("已接单 #2")  # type: ignore[union-attr]


def test_an_overdue_ticket_climbs_from_its_communitys_supervisor_to_the_street(
    street: Any, settings: Settings
) -> None:
    app, wechat = street
    bind_and_approve(wechat, "o_res_east", "1", "o_worker_east")
    Chat(wechat, "o_res_east").say("楼道里的垃圾好几天没人清理了")
    filed = ticket(app, 1)
    assert filed.due_at is not None

    sweep(app, settings, filed.due_at + timedelta(minutes=1))
    first = ticket(app, 1)
    assert (first.status, first.level) == ("escalated", 2)
    assert openid_of(app, first.assignee_id) == "o_sup_east"
    assert "逾期升级至社区" in pushes_to(app, "o_sup_east")[-1]
    assert not pushes_to(app, "o_sup_west", "ticket.")  # not the other community's supervisor

    assert first.due_at is not None
    sweep(app, settings, first.due_at + timedelta(minutes=1))
    second = ticket(app, 1)
    assert (second.status, second.level) == ("escalated", 3)
    assert openid_of(app, second.assignee_id) == "o_street"
    assert "逾期升级至街道" in pushes_to(app, "o_street")[-1]


def sweep(app: Flask, settings: Settings, now: datetime) -> None:
    with db_of(app).session() as session:
        deadlines(session, now, settings)


def test_privacy_export_and_erasure_cover_every_community_a_resident_touched(
    street: Any, config_path: Path, tmp_path: Path
) -> None:
    app, wechat = street
    bind_and_approve(wechat, "o_mover", "1", "o_worker_east")
    mover = Chat(wechat, "o_mover")
    mover.say("楼道里的垃圾好几天没人清理了")  # #1, in 东湖
    # They move to 西湖's 5号楼 (no other community has one): no question asked.
    file = tmp_path / "west.toml"
    file.write_text(PLACES.format(worker="o_worker_west").replace('"2号楼"', '"2号楼", "5号楼"'))
    cli(config_path, "places", "import", "--community", WEST, str(file))
    assert mover.say("绑定 5-1-101").startswith("已收到您的住址绑定申请：5号楼-1-101")  # type: ignore[union-attr]
    listed = Chat(wechat, "o_worker_west").say("审核") or ""
    Chat(wechat, "o_worker_west").say(f"审核 通过 {listed.split('【')[1].split('】')[0]}")
    assert community_of(app, "o_mover") == WEST  # their approved household's community
    mover.say("楼道灯坏了，晚上看不见路")  # #2, in 西湖
    assert ticket(app, 1).community_id != ticket(app, 2).community_id

    exported = json.loads(cli(config_path, "residents", "export", "o_mover"))
    assert [(t["number"], t["community"]) for t in exported["tickets"]] == [(1, EAST), (2, WEST)]
    assert (exported["binding"]["household"], exported["binding"]["community"]) == (
        "5号楼-1-101",
        WEST,
    )

    erased = cli(config_path, "residents", "erase", "--yes", "o_mover")
    assert "tickets 2" in erased
    assert {ticket(app, 1).text, ticket(app, 2).text} == {ERASED_TEXT}

"""议 by chat: residents list, read and vote on polls; a household votes once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import select

from bot.config import Settings
from models import Person
from models.places import Building, Grid, approve_binding
from models.polls import HOUSEHOLD_UNIT, PollSpec, create_poll


def setup(settings: Settings, clock: Clock, **poll: object) -> tuple[Flask, WeChat]:
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18", grid_id=None)])
        values: dict[str, object] = {
            "title": "16号楼前道路重铺",
            "options": ["沥青", "水泥", "透水砖"],
            "closes_at": datetime.now(UTC) + timedelta(days=3),
            "scope": "buildings",
            "buildings": ["16"],
        }
        values.update(poll)
        create_poll(session, PollSpec(**values), datetime.now(UTC))  # type: ignore[arg-type]
    return app, WeChat(app.test_client(), settings)


def bound(app: Flask, chat: Chat, address: str) -> None:
    chat.say(f"绑定 {address}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == chat.openid)).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))


def test_a_resident_lists_reads_and_votes(settings: Settings, clock: Clock) -> None:
    app, wechat = setup(settings, clock)
    resident = Chat(wechat, "o_resident")
    bound(app, resident, "16-1-101")
    listing = resident.say("投票")
    assert listing is not None and "#1 16号楼前道路重铺" in listing
    assert "A 沥青 B 水泥 C 透水砖" in listing
    detail = resident.say("投票 1")
    assert detail is not None and "A 沥青\nB 水泥\nC 透水砖" in detail
    receipt = resident.say("c")  # just the letter, right after reading the poll
    assert receipt is not None and receipt.startswith(
        "已记录您对 #1「16号楼前道路重铺」的投票：C 透水砖"
    )
    changed = resident.say("投票 1 A")
    assert changed is not None and changed.startswith("已更新您对 #1")
    result = resident.say("结果 1")
    assert result is not None and "A 沥青：1 票" in result and "C 透水砖：0 票" in result


def test_every_refusal_says_why(settings: Settings, clock: Clock) -> None:
    app, wechat = setup(settings, clock)
    inside, outside, unbound = (Chat(wechat, o) for o in ("o_16", "o_18", "o_new"))
    bound(app, inside, "16-1-101")
    bound(app, outside, "18-1-101")
    assert outside.say("投票") == "目前没有您可以参加的投票。"  # not in scope: not listed
    assert (outside.say("投票 1 A") or "").startswith("#1 仅限相关楼栋或网格的居民参加")
    assert "需要先绑定住址" in (unbound.say("投票 1 A") or "")
    pending = Chat(wechat, "o_pending")
    pending.say("绑定 16-1-102")
    assert "等待工作人员审核" in (pending.say("投票 1 A") or "")
    assert "选项是 A、B、C" in (inside.say("投票 1 D") or "")
    assert "最多可选 1 项" in (inside.say("投票 1 A B") or "")
    assert inside.say("投票 9 A") == "没有找到编号为 #9 的投票，请核对编号。"
    clock.advance(days=4)
    assert "投票已经截止" in (inside.say("投票 1 A") or "")


def test_a_household_votes_once_and_every_member_is_told(settings: Settings, clock: Clock) -> None:
    app, wechat = setup(settings, clock, unit=HOUSEHOLD_UNIT, hide_results=True)
    mother, son = Chat(wechat, "o_mother"), Chat(wechat, "o_son")
    bound(app, mother, "16-1-101")
    bound(app, son, "16-1-101")
    assert "本户以这一票为准，已告知您的家庭成员。" in (mother.say("投票 1 A") or "")
    assert "已更新您对 #1" in (son.say("投票 1 B") or "")
    told = pushes_to(app, "o_mother", "poll.")
    assert told and "B 水泥" in told[-1]
    assert "结果将在投票截止后公布" in (son.say("结果 1") or "")
    clock.advance(days=4)
    result = son.say("结果 1")
    assert result is not None and "B 水泥：1 票" in result and "A 沥青：0 票" in result


def test_a_resident_living_alone_is_not_told_of_family_members(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock, unit=HOUSEHOLD_UNIT)
    widow = Chat(wechat, "o_widow")
    bound(app, widow, "16-2-301")
    receipt = widow.say("投票 1 C")
    assert receipt is not None and receipt.endswith("本次投票按户计票：本户以这一票为准。")
    assert "家庭成员" not in receipt

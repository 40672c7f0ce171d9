"""提议 · 附议 · 议题 by chat: a resident proposes, neighbours back it household by household,
the committee hears of it once the backing is enough, and accepts or declines it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to, staff
from flask import Flask
from sqlalchemy import select, update

from bot.config import Settings
from models import Person, Role
from models.agenda import agenda_by_number
from models.communities import Community
from models.places import Building, Grid, Household, approve_binding
from models.proposals import accept, decline

PROPOSAL = "我提议在小区北门空地增加一组健身器材，方便老人锻炼"
TITLE = PROPOSAL  # short enough to be its own title


def setup(
    settings: Settings, clock: Clock, threshold: float = 3, unit: str = "household"
) -> tuple[Flask, WeChat]:
    deliberation = replace(settings.deliberation, backing_threshold=threshold, backing_unit=unit)
    settings = replace(settings, deliberation=deliberation)
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18", grid_id=None)])
    return app, WeChat(app.test_client(), settings)


def bound(app: Flask, chat: Chat, address: str) -> Chat:
    chat.say(f"绑定 {address}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == chat.openid)).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
    return chat


def admin(app: Flask, chat: Chat) -> Chat:
    chat.say("你好")
    with db_of(app).session() as session:
        session.execute(update(Person).where(Person.openid == chat.openid).values(role=Role.ADMIN))
    return chat


def test_a_proposal_is_backed_by_households_and_accepted(settings: Settings, clock: Clock) -> None:
    app, wechat = setup(settings, clock)
    committee = admin(app, Chat(wechat, "o_admin"))
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    filed = proposer.say(f"提议 {PROPOSAL}")
    assert filed is not None and filed.startswith("已收到您的提议，登记为议题 #1「我提议在小区北门")
    assert "需要 3 户附议，目前 1 户" in filed
    assert "请邻居发送“附议 1”支持它" in filed and "居委会将决定是否列入议事议程" in filed

    neighbour = bound(app, Chat(wechat, "o_neighbour"), "16-1-102")
    listing = neighbour.say("议题")
    assert (
        listing is not None and "#1 我提议在小区北门空地增加一组健身器材，方便老人锻炼" in listing
    )
    assert "（待立项，附议 1/3）" in listing
    shown = neighbour.say("议题 #1")
    assert shown is not None and PROPOSAL in shown and "阶段：待立项" in shown
    assert "提议" in shown.split("进程：")[1] and "o_proposer" not in shown

    assert neighbour.say("附议 1") == f"已为议题 #1「{TITLE}」附议。目前 2/3 户附议。"
    spouse = bound(app, Chat(wechat, "o_spouse"), "16-1-102")
    assert spouse.say("附议 ＃１") == "本户已附议 #1，无需重复。目前 2/3 户附议。"
    assert pushes_to(app, "o_admin", "agenda.") == []

    third = bound(app, Chat(wechat, "o_third"), "18-2-301")
    reached = third.say("附议 1")
    assert reached is not None and "目前 3/3 户附议。" in reached and "已通知居委会" in reached
    fourth = bound(app, Chat(wechat, "o_fourth"), "18-2-302")
    assert "目前 4/3 户附议。" in (fourth.say("附议 1") or "")
    told = pushes_to(app, "o_admin", "agenda.threshold")
    assert told == [
        f"【议题附议达到门槛】议题 #1「{TITLE}」已有 3 户附议"
        "（门槛 3 户），请研究是否立项。\n在管理后台“议题”中立项或不予立项，"
        "或运行 yishiting agenda accept 1。"
    ]
    assert committee.openid == "o_admin"

    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        accept(session, item, clock(), actor="王主任")
    for openid in ("o_proposer", "o_neighbour", "o_third", "o_fourth"):
        assert pushes_to(app, openid, "agenda.") == [
            "您提议或附议的议题 #1「我提议在小区北门空地增加一组健身器材，方便老人锻炼」已立项，"
            "列入社区议事议程。后续的议事会、表决和落实情况会通知您。回复“议题 1”查看进程。"
        ], openid
    assert pushes_to(app, "o_spouse", "agenda.") == []  # their household had backed already
    shown = proposer.say("议题 1")
    assert shown is not None and "阶段：已立项" in shown and "立项" in shown.split("进程：")[1]


def test_refusals_say_why(settings: Settings, clock: Clock) -> None:
    app, wechat = setup(settings, clock)
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    assert "需要先绑定住址" in (Chat(wechat, "o_new").say(f"提议 {PROPOSAL}") or "")
    assert (proposer.say("提议") or "").startswith("想为小区办件事？请发送“提议”加上您的想法")
    assert (proposer.say("提议 好") or "").startswith("想为小区办件事？")
    proposer.say(f"提议 {PROPOSAL}")
    unbound = Chat(wechat, "o_unbound")
    assert "附议需要先绑定住址" in (unbound.say("附议 1") or "")
    pending = Chat(wechat, "o_pending")
    pending.say("绑定 16-1-103")
    assert "等待工作人员审核" in (pending.say("附议 1") or "")
    assert proposer.say("附议 1") == "本户已附议 #1，无需重复。目前 1/3 户附议。"
    assert (
        proposer.say("附议 9") == "没有找到编号为 #9 的议题，请核对编号。发送“议题”查看社区的议题。"
    )
    assert (proposer.say("附议") or "").startswith("请在“附议”后写上议题编号")
    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        decline(session, item, "该空地是消防通道，不能占用", clock(), actor="王主任")
    neighbour = bound(app, Chat(wechat, "o_neighbour"), "16-1-102")
    assert neighbour.say("附议 1") == "议题 #1 目前不予立项，已不再征集附议。"
    assert neighbour.say("议题") == "社区目前没有进行中的议题。想为小区办件事？发送“提议 内容”。"
    assert "不予立项：该空地是消防通道，不能占用" in (neighbour.say("议题 1") or "")
    assert pushes_to(app, "o_proposer", "agenda.declined") == [
        "您提议或附议的议题 #1「我提议在小区北门空地增加一组健身器材，方便老人锻炼」经社区研究，"
        "暂不立项。理由：该空地是消防通道，不能占用\n感谢您的关心，如有其他想法，欢迎再次提议。"
    ]


def test_the_menu_tap_says_how_to_propose(settings: Settings, clock: Clock) -> None:
    _, wechat = setup(settings, clock)
    answer = Chat(wechat, "o_tapper").do("CLICK", key="MENU_PROPOSE")
    assert answer is not None and "提议 在小区北门空地增加一组健身器材" in answer


def test_a_ticket_that_reads_like_a_proposal_gets_the_hint(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock)
    resident = bound(app, Chat(wechat, "o_resident"), "16-1-101")
    reply = resident.say("希望在小区里增加几个快递柜，取件太不方便了")
    assert reply is not None and "编号 #1" in reply
    assert reply.endswith("可以发送“提议 内容”把它作为议题提出，邻居可以附议。")
    plain = resident.say("3号楼2单元电梯坏了，有人被困")
    assert plain is not None and "提议" not in plain


def test_another_communitys_item_is_answered_like_a_missing_number(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock)
    with db_of(app).session() as session:
        west = Community(name="西社区", created_at=datetime.now(UTC))
        session.add(west)
        session.flush()
        session.add(Building(name="W1", community_id=west.id))
    east = bound(app, Chat(wechat, "o_east"), "16-1-101")
    west_resident = bound(app, Chat(wechat, "o_west"), "W1-1-101")
    east.say(f"提议 {PROPOSAL}")
    missing = "没有找到编号为 #{n} 的议题，请核对编号。发送“议题”查看社区的议题。"
    assert west_resident.say("议题 1") == missing.format(n=1)
    assert west_resident.say("附议 1") == missing.format(n=1)
    assert west_resident.say("议题") == (
        "社区目前没有进行中的议题。想为小区办件事？发送“提议 内容”。"
    )
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, 1)
        assert item is not None and item.community_id is not None
        assert item.community_id != west.id


def test_without_an_admin_the_level_2_duty_person_hears_of_the_threshold(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock, threshold=2)
    staff(app, "o_supervisor", "李主任", level=2)
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    assert "需要 2 户附议，目前 1 户" in (proposer.say(f"提议 {PROPOSAL}") or "")
    bound(app, Chat(wechat, "o_neighbour"), "16-1-102").say("附议 1")
    told = pushes_to(app, "o_supervisor", "agenda.threshold")
    assert len(told) == 1 and "已有 2 户附议（门槛 2 户）" in told[0]


def test_a_share_threshold_is_fixed_from_the_households_when_proposed(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock, threshold=0.5)
    with db_of(app).session() as session:
        building = session.scalars(select(Building).where(Building.name == "16")).one()
        session.add_all(
            [
                Household(building_id=building.id, unit="1", room=str(r), listed=True)
                for r in range(7)
            ]
        )
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    filed = proposer.say(f"提议 {PROPOSAL}")  # 8 households now (7 listed + the proposer's)
    assert filed is not None and "需要 4 户附议，目前 1 户" in filed


def test_backing_by_person_counts_each_member_of_a_household(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock, unit="person")
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    assert "需要 3 人附议，目前 1 人（您已算作第一人）" in (proposer.say(f"提议 {PROPOSAL}") or "")
    spouse = bound(app, Chat(wechat, "o_spouse"), "16-1-101")
    assert "目前 2/3 人附议。" in (spouse.say("附议 1") or "")
    assert spouse.say("附议 1") == "您已附议 #1，无需重复。目前 2/3 人附议。"

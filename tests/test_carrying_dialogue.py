"""落实 · 评议 · 回头看 by chat, on a fixed clock: a decided 议题 is given to an owner, who
reports progress to the people who took part; late work is warned and goes up the ladder
once per level; 完成 asks those people to rate it, and 30 days later whether it held — the
answers stay on the 议题, and no ticket is ever made of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest
from carrying_desk import NOW, FixedClock, assigned, said, sweep, told, world_of
from carrying_world import STAFF, TOOK_PART
from desk import Desk
from sqlalchemy import func, select

from bot.config import Settings
from models import Ticket
from models.agenda import AgendaRating, agenda_by_number, timeline
from models.agenda_json import agenda_json


@pytest.fixture
def fixed() -> FixedClock:
    return FixedClock()


@pytest.fixture
def desk(settings: Settings, fixed: FixedClock) -> Iterator[Desk]:
    found = Desk(settings, fixed)
    yield found
    found.close()


def tickets(desk: Desk) -> int:
    with desk.db.session(read_only=True) as s:
        return int(s.scalar(select(func.count(Ticket.id))) or 0)


def test_a_decision_is_carried_out_reported_escalated_completed_rated_and_reviewed(
    desk: Desk, fixed: FixedClock, settings: Settings
) -> None:
    world = world_of(desk)
    n = world.number
    assigned(desk, world, owner="物业公司", answerable="王芳")
    # The staff member answerable hears of it: the decision, the date, how to report.
    (task,) = told(desk, "o_wang")
    assert f"议题 #{n}" in task and "年内在北门空地安装" in task and "物业公司" in task
    assert "12月21日 23:59" in task
    assert f"进展 {n} 内容" in task and f"完成 {n} 结果" in task

    assert said(desk, "o_wang", f"进展 #{n} 器材已订购，下周进场") == (
        f"已记录议题 #{n} 的落实进展，并告知 3 位参与的居民。"
    )
    for openid in ("o_prop", "o_back", "o_vote"):  # proposer, backer, voter: once each
        assert told(desk, openid) == [f"【落实进展】议题 #{n}「{_title()}」：器材已订购，下周进场"]
    assert told(desk, "o_meet") == told(desk, "o_other") == []

    # Past the due date: the owner is warned once; 48 hours later the community's supervisor
    # (level 2) is told, 48 more the street's (level 3) — each exactly once.
    fixed.advance(days=15)
    for _ in range(2):
        sweep(desk, settings)
    assert len(told(desk, "o_wang", "agenda.overdue")) == 1
    assert told(desk, "o_li") == told(desk, "o_zhao") == []
    fixed.advance(hours=48)
    for _ in range(2):
        sweep(desk, settings)
    (pressed,) = told(desk, "o_li")
    assert "落实督办·社区" in pressed and "物业公司（王芳负责）" in pressed
    assert told(desk, "o_zhao") == []
    fixed.advance(hours=48)
    for _ in range(3):
        sweep(desk, settings)
    assert len(told(desk, "o_li")) == 1
    assert "落实督办·街道" in told(desk, "o_zhao")[0]
    assert len(told(desk, "o_wang", "agenda.overdue")) == 1

    # 完成: those who took part are asked, once each; a bare digit answers.
    assert said(desk, "o_wang", f"完成 {n} 健身器材已安装并验收") == (
        f"议题 #{n} 已落实完成，结果已记录。已请 4 位参与的居民评议；30 天后将请他们回头看。"
    )
    for openid in TOOK_PART:
        (asked,) = told(desk, openid, "agenda.rate")
        assert "健身器材已安装并验收" in asked and "1 满意  2 基本满意  3 不满意" in asked
    assert told(desk, "o_other") == []
    before = tickets(desk)
    assert said(desk, "o_prop", "1") == f"感谢您的评议！议题 #{n}「{_title()}」：满意。"
    assert said(desk, "o_back", "２") == f"感谢您的评议！议题 #{n}「{_title()}」：基本满意。"
    assert said(desk, "o_vote", "3").endswith("不满意。")
    assert said(desk, "o_meet", "4") == "请回复数字：1 满意  2 基本满意  3 不满意"
    assert said(desk, "o_meet", f"评议 #{n} 1").endswith("满意。")
    data = _json(desk, n)
    assert data["ratings"] == {"1": 2, "2": 1, "3": 1}
    assert data["stage"] == "done" and data["result"] == "健身器材已安装并验收"

    # 30 days later the 回头看, once; a digit with words after it keeps the words.
    fixed.advance(days=30)
    for _ in range(2):
        sweep(desk, settings)
    for openid in TOOK_PART:
        (review,) = told(desk, openid, "agenda.review")
        assert "【回头看】" in review and "1 仍在落实、效果良好  2 没有坚持、出现反复" in review
    assert (
        said(desk, "o_prop", "1") == f"感谢您的反馈！已记录：议题 #{n} 的决定仍在落实、效果良好。"
    )
    not_held = said(desk, "o_back", "2 器材坏了一个月没人修")
    assert not_held.startswith(f"感谢您的反馈！已记录：议题 #{n} 的决定没有坚持、出现反复。")
    assert said(desk, "o_vote", "效果不错").startswith("感谢您的反馈")
    assert tickets(desk) == before  # the answers are the 议题's, not new requests
    data = _json(desk, n)
    assert data["review"] == {"held": 2, "not_held": 1}
    assert data["ratings"] == {"1": 2, "2": 1, "3": 1}  # the review left the ratings alone
    with desk.db.session(read_only=True) as s:
        notes = {r.review_note for r in s.scalars(select(AgendaRating))}
        kinds = [e.kind for e in timeline(s, world.item_id)]
    assert "器材坏了一个月没人修" in notes
    assert kinds[-8:] == [
        "carrying_out", "assigned", "progress", "overdue", "overdue", "overdue", "done", "review",
    ]  # fmt: skip


def _title() -> str:
    return "我提议在小区北门空地增加一组健身器材，方便老人锻炼。"


def _json(desk: Desk, number: int) -> dict[str, object]:
    with desk.db.session(read_only=True) as s:
        item = agenda_by_number(s, number)
        assert item is not None
        return agenda_json(s, item, UTC)


def test_only_the_answerable_staff_or_those_above_report_on_it(desk: Desk) -> None:
    world = world_of(desk)
    n = world.number
    assigned(desk, world)
    with desk.db.session() as s:
        from models.staff import add_staff

        add_staff(s, "o_sun", "孙师傅", (), (), None, 1, NOW)
    assert said(desk, "o_sun", f"进展 {n} 我来报") == (
        f"抱歉，议题 #{n} 的落实不由您负责。如需报告进展，请联系负责人或社区管理员。"
    )
    assert said(desk, "o_prop", f"完成 {n} 好了") == "抱歉，该指令仅限社区工作人员使用。"
    # The supervisor may report for the owner; the reporter is not told of their own report.
    assert said(desk, "o_li", f"进展 {n} 已催促物业").startswith(f"已记录议题 #{n}")
    assert said(desk, "o_wang", f"进展 {n}") == (
        "请按格式回复：进展 议题编号 进展内容，例如：进展 7 器材已订购，下周进场"
    )
    assert said(desk, "o_wang", "进展 99 有进展") == "没有找到议题 #99。"
    assert said(desk, "o_wang", f"进展 {n} " + "长" * 1001) == (
        "内容太长了（最多 1000 字），请精简后再发。"
    )


def test_progress_and_completion_wait_for_the_work_to_be_assigned(desk: Desk) -> None:
    world = world_of(desk)
    n = world.number
    assert said(desk, "o_wang", f"进展 {n} 提前准备") == (
        f"议题 #{n} 现在不在落实阶段，无法报告进展。"
    )
    assert said(desk, "o_prop", f"评议 {n} 1") == (f"议题 #{n} 还没有落实完成，完成后会请您评议。")


def test_a_bystander_is_not_asked_and_a_later_rating_replaces_the_first(desk: Desk) -> None:
    world = world_of(desk)
    n = world.number
    assigned(desk, world)
    said(desk, "o_wang", f"完成 {n} 已安装")
    assert said(desk, "o_other", f"评议 {n} 3") == (
        f"议题 #{n} 由提议、附议、参与表决或议事会的居民评议。感谢您的关注！"
    )
    assert said(desk, "o_other", "3") != "请回复数字：1 满意  2 基本满意  3 不满意"
    assert said(desk, "o_prop", "3").endswith("不满意。")
    assert said(desk, "o_prop", f"评议 {n} 2") == (
        f"已更新您的评议：议题 #{n}「{_title()}」：基本满意。"
    )
    assert said(desk, "o_prop", f"评议 {n}") == (
        "请按格式回复：评议 议题编号 数字（1 满意 2 基本满意 3 不满意），例如：评议 7 1"
    )
    assert _json(desk, n)["ratings"] == {"1": 0, "2": 1, "3": 0}


def test_a_review_answer_must_say_which_way_it_went(
    desk: Desk, fixed: FixedClock, settings: Settings
) -> None:
    world = world_of(desk)
    n = world.number
    assigned(desk, world)
    said(desk, "o_wang", f"完成 {n} 已安装")
    fixed.advance(days=31)
    sweep(desk, settings)
    assert said(desk, "o_prop", "3") == (
        "请回复数字：1 仍在落实、效果良好  2 没有坚持、出现反复（可在数字后写下具体情况）"
    )
    assert not said(desk, "o_prop", "好的").startswith("感谢您的反馈")  # an acknowledgement
    bad = said(desk, "o_prop", "又坏了，不好用")
    assert bad.startswith(f"感谢您的反馈！已记录：议题 #{n} 的决定没有坚持")
    assert _json(desk, n)["review"] == {"held": 0, "not_held": 1}


def test_the_ladder_reaches_the_owners_supervisor_not_the_owner_again(
    desk: Desk, fixed: FixedClock, settings: Settings
) -> None:
    """The owner is the level-2 supervisor themself: the street is told instead."""
    world = world_of(desk)
    assigned(desk, world, owner="李主任", days=1)
    fixed.advance(days=2)
    sweep(desk, settings)
    assert len(told(desk, "o_li", "agenda.overdue")) == 1
    fixed.advance(hours=49)
    assert sweep(desk, settings) == ["agenda items: 1 escalated", None]
    assert sweep(desk, settings) == [None, None]
    assert told(desk, "o_li", "agenda.escalated") == []
    assert "落实督办·街道" in told(desk, "o_zhao")[0]
    assert set(STAFF) == {"o_wang", "o_li", "o_zhao"}


def test_staff_help_still_fits_one_reply_with_every_staff_command_explained(desk: Desk) -> None:
    world_of(desk)
    help_text = said(desk, "o_wang", "帮助")
    assert len(help_text) <= 600 and not help_text.endswith("…")
    assert "· 进展 议题编号 内容：报告议题的落实进展（工作人员）" in help_text
    assert "· 评议 议题编号 数字" in help_text  # a resident's command: its usage
    resident = said(desk, "o_prop", "帮助")
    assert "· 评议 议题编号 数字：评议议题的落实结果（1 满意 2 基本满意 3 不满意）" in resident
    assert "进展" not in resident

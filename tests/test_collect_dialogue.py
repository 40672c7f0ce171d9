"""集 collect, as a resident sees it: requests become numbered tickets under a topic.

Most cases talk to the conversation service directly (tests/desk.py, no HTTP); the ones
whose message kinds the webhook parses (photos, locations, voice) and the run on both
databases go through the signed webhook.
"""

from __future__ import annotations

import re

import pytest
from conftest import Chat, Clock, WeChat, make_app
from desk import Desk, Resident
from flask import Flask

from bot.config import Settings
from bot.db import Database
from handlers import texts
from models import Person, Role, ticket_by_number


@pytest.fixture
def resident(desk: Desk) -> Resident:
    return desk.chat("o_resident")


def number_in(reply: str | None) -> int:
    found = re.search(r"#(\d+)", reply or "")
    assert found, reply
    return int(found.group(1))


def ticket(where: Flask | Desk, number: int) -> tuple[str | None, bool, str]:
    db: Database = where.db if isinstance(where, Desk) else where.extensions["yishiting"].db
    with db.session(read_only=True) as s:
        t = ticket_by_number(s, number)
        assert t is not None
        return (t.topic.name if t.topic else None, t.topic_confirmed, t.text)


def test_a_lift_fault_is_filed_under_the_lift_topic(resident: Resident, desk: Desk) -> None:
    reply = resident.say("16号楼的电梯又坏了，早上卡在5楼半天才出来")
    assert reply is not None
    assert reply.startswith("已登记您反映的问题，编号 #1，类别：电梯设施。")
    assert "回复【我的】查看进度" in reply
    assert ticket(desk, 1) == ("电梯设施", False, "16号楼的电梯又坏了，早上卡在5楼半天才出来")


def test_tickets_are_numbered_in_order_across_residents(desk: Desk) -> None:
    first = desk.chat("o_li").say("楼上装修天天电钻响，吵得孩子没法睡觉")
    second = desk.chat("o_zhao").say("小区门口的车乱停，把消防通道都堵上了")
    assert (number_in(first), number_in(second)) == (1, 2)


def test_an_unsure_request_is_filed_and_the_resident_picks_the_topic(
    resident: Resident, desk: Desk
) -> None:
    reply = resident.say("那个事情到底什么时候能有个说法啊")
    # Nothing matched and nothing filed yet: the first topics in order, then 更多类别.
    assert reply == (
        "已登记您反映的问题，编号 #1。\n请问属于哪一类？请回复数字或类别名称：\n"
        "1 物业服务\n2 环境卫生\n3 停车交通\n4 更多类别\n"
        "都不是请回复“其他”，由工作人员分类。"
    )
    assert ticket(desk, 1)[0] is None  # filed at once, in triage: never lost

    assert resident.say("2") == "好的，#1 已归入【环境卫生】。回复【我的】查看进度。"
    assert ticket(desk, 1) == ("环境卫生", False, "那个事情到底什么时候能有个说法啊")
    assert resident.say("2") == texts.TOO_SHORT  # the question was answered: a bare 2 is not


def test_choosing_other_leaves_the_ticket_for_staff(resident: Resident, desk: Desk) -> None:
    resident.say("那个事情到底什么时候能有个说法啊")
    assert resident.say("其他") == "好的，#1 已转交工作人员分类处理。回复【我的】查看进度。"
    assert ticket(desk, 1)[0] is None


def test_a_number_out_of_range_is_asked_again(resident: Resident) -> None:
    resident.say("那个事情到底什么时候能有个说法啊")
    assert resident.say("99") == "请回复 1 到 4 之间的数字，或类别名称。"
    assert resident.say("1") == "好的，#1 已归入【物业服务】。回复【我的】查看进度。"


def test_answering_with_something_else_files_it_for_staff_and_handles_the_new_message(
    resident: Resident, desk: Desk
) -> None:
    resident.say("那个事情到底什么时候能有个说法啊")
    reply = resident.say("另外3号楼电梯按钮失灵了")
    assert reply is not None
    assert reply.startswith("您之前反映的 #1 已转交工作人员分类处理。\n\n")
    assert "编号 #2，类别：电梯设施" in reply
    assert ticket(desk, 1)[0] is None


def test_the_most_recent_question_takes_a_bare_number(resident: Resident, desk: Desk) -> None:
    resident.say("那个事情到底什么时候能有个说法啊")
    resident.say("那件事麻烦你们再跟进一下好吗")  # a second unsure request: its own question
    resident.say("1")
    assert ticket(desk, 2)[0] == "物业服务"
    assert ticket(desk, 1)[0] is None


def test_an_unanswered_question_expires(resident: Resident, clock: Clock, desk: Desk) -> None:
    resident.say("那个事情到底什么时候能有个说法啊")
    clock.advance(minutes=31)
    assert resident.say("1") == texts.TOO_SHORT
    assert ticket(desk, 1)[0] is None


def test_the_same_text_again_is_the_same_ticket(resident: Resident, clock: Clock) -> None:
    first = resident.say("3号楼2单元楼道的灯坏了一个星期了")
    again = resident.say("3号楼2单元楼道的灯坏了一个星期了！")
    number = number_in(first)
    assert again == texts.SAME_AGAIN.format(number=number, topic="物业服务")
    assert again.startswith(f"您刚才反映的问题已登记为 #{number}（物业服务），无需重复发送。")
    clock.advance(minutes=11)
    assert number_in(resident.say("3号楼2单元楼道的灯坏了一个星期了")) == 2


def test_greetings_and_too_short_texts_are_not_filed(resident: Resident) -> None:
    assert resident.say("你好！") == texts.GREETING
    assert resident.say("在吗？") == texts.GREETING
    assert resident.say("灯") == texts.TOO_SHORT
    assert resident.say("我的") == texts.MINE_EMPTY


def test_a_photo_sent_before_or_after_a_request_joins_it(
    chat: Chat, clock: Clock, app: Flask
) -> None:
    # Sent first: the usual answer, and it waits for the words (it joins the ticket they file).
    assert chat.send("image", PicUrl="http://x/a.jpg", MediaId="m1") == texts.IMAGE
    number = number_in(chat.say("单元门口的垃圾桶满了好几天没人清运"))
    assert chat.send("image", PicUrl="http://x/b.jpg", MediaId="m2") == (
        f"已将图片补充到诉求 #{number}。"
    )
    assert chat.send("location", Location_X="31.2", Location_Y="121.5", Label="幸福小区") == (
        f"已将位置补充到诉求 #{number}。"
    )
    clock.advance(minutes=11)
    assert chat.send("image", PicUrl="http://x/c.jpg", MediaId="m3") == texts.IMAGE
    assert "附件：3 个" in (chat.say(f"查询 {number}") or "")


def test_a_recognised_voice_message_is_filed_like_text(chat: Chat) -> None:
    reply = chat.send("voice", MediaId="v1", Format="amr", Recognition="楼上天天半夜跺脚吵死了。")
    assert "类别：噪音扰民" in (reply or "")


def test_my_tickets_lists_open_ones_with_status(resident: Resident) -> None:
    resident.say("16号楼的电梯又坏了，早上卡在5楼半天才出来")
    resident.say("小区门口的车乱停，把消防通道都堵上了")
    reply = resident.say("我的")
    assert reply is not None
    lines = reply.splitlines()
    assert lines[0] == "您办理中的诉求："
    assert lines[1].startswith("#2 ") and "· 待受理 ·" in lines[1]
    assert lines[2].startswith("#1 电梯设施 · 待受理 · ")
    assert lines[-1] == "回复“查询 编号”查看详情，如：查询 2"


def test_a_ticket_is_shown_to_its_owner_and_staff_only(desk: Desk) -> None:
    owner, neighbour = desk.chat("o_owner"), desk.chat("o_nosy")
    number = number_in(owner.say("16号楼的电梯又坏了，早上卡在5楼半天才出来"))
    detail = owner.say(f"查询 #{number}")
    assert detail is not None and detail.startswith(f"诉求 #{number}\n类别：电梯设施\n状态：待受理")
    assert neighbour.say(f"查询 {number}") == f"没有找到编号为 #{number} 的诉求，请核对编号。"
    assert neighbour.say("查询 abc") == texts.QUERY_USAGE
    _make(desk, "o_grid_worker", Role.STAFF)
    assert (desk.chat("o_grid_worker").say(f"查询 {number}") or "").startswith(f"诉求 #{number}")


def test_an_admin_asks_the_classifier_to_explain_itself(desk: Desk) -> None:
    _make(desk, "o_admin", Role.ADMIN)
    reply = desk.chat("o_admin").say("分类 電梯又壞了，卡在半空")
    assert reply is not None
    assert "分词：" in reply and "电梯" in reply
    assert reply.splitlines()[-1] == "结果：电梯设施（规则确定）"
    assert desk.chat("o_resident").say("分类 电梯") == texts.NOT_ALLOWED


def _make(where: Flask | Desk, openid: str, role: Role) -> None:
    from datetime import UTC, datetime

    db: Database = where.db if isinstance(where, Desk) else where.extensions["yishiting"].db
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(Person(openid=openid, role=role, first_seen_at=now, last_seen_at=now))


def test_a_disabled_topic_is_never_offered(settings: Settings) -> None:
    app = make_app(settings)
    db: Database = app.extensions["yishiting"].db
    from sqlalchemy import update

    from models import Topic

    with db.session() as s:
        s.execute(update(Topic).where(Topic.name == "物业服务").values(enabled=False))
    reply = Chat(WeChat(app.test_client(), settings), "o_1").say("那个事情到底什么时候能有个说法啊")
    assert "物业服务" not in (reply or "")


def test_filing_and_choosing_a_topic_work_on_both_databases(backend_settings: Settings) -> None:
    app = make_app(backend_settings)
    chat = Chat(WeChat(app.test_client(), backend_settings), "o_both")
    assert "编号 #1，类别：电梯设施" in (
        chat.say("16号楼的电梯又坏了，早上卡在5楼半天才出来") or ""
    )
    asked = chat.say("那个事情到底什么时候能有个说法啊") or ""
    assert asked.startswith("已登记您反映的问题，编号 #2。")
    # The topic filed most lately comes first (the same query on both databases).
    assert "\n1 电梯设施\n2 物业服务\n3 环境卫生\n4 更多类别\n" in asked
    assert chat.say("2") == "好的，#2 已归入【物业服务】。回复【我的】查看进度。"
    assert (chat.say("我的") or "").splitlines()[1].startswith("#2 物业服务 · 待受理")
    app.extensions["yishiting"].db.dispose()

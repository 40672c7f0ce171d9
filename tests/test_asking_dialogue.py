"""Asking well: when the classifier is unsure, the resident is asked short.

The ticket is filed at once (in triage); the question offers the three likeliest topics and
更多类别 as the last number, which shows every topic of the ticket's community. A number or
the topic's name answers ("电梯设施", "电梯", "電梯"); 其他 leaves it for staff; anything
else leaves it for staff too and is handled as the message it is. The resident's pick stays
unconfirmed: only staff confirm a topic.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from accounts import Account
from conftest import Clock, db_of
from desk import Desk, Resident
from flask import Flask
from sqlalchemy import select, update

from bot.classify.training import seed_starter_model
from handlers import texts
from models import Person, Role, drop_state, pending_states, push_state, ticket_by_number
from models.communities import HOME_ID, add_community
from models.community_topics import set_override
from models.staff import add_staff
from models.states import CHOOSE_TOPIC
from models.topic_choice import choice_number, topic_named
from models.topics import topic_by_name

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
LAMP_AND_LIFT = "楼道灯和电梯都坏了"  # the rules rank 物业服务 and 电梯设施, sure of neither
NOTHING = "那个事情到底什么时候能有个说法啊"  # no rule matches anything
OTHERS = "都不是请回复“其他”，由工作人员分类。"
ALL_TOPICS = [
    "物业服务", "环境卫生", "停车交通", "电梯设施", "噪音扰民", "安全隐患",
    "养老助老", "邻里纠纷", "垃圾分类", "绿化园林", "水电气暖", "政策咨询",
]  # fmt: skip


@pytest.fixture
def resident(desk: Desk) -> Resident:
    return desk.chat("o_resident")


def topic_of(desk: Desk, number: int) -> tuple[str | None, bool]:
    """The ticket's topic and whether staff confirmed it."""
    with desk.db.session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        return (found.topic.name if found.topic else None, found.topic_confirmed)


def offered(reply: str | None) -> list[str]:
    """The numbered lines of a question, as "1 物业服务"."""
    return [line for line in (reply or "").splitlines() if line[:1].isdigit()]


def test_an_unsure_report_is_asked_short_and_a_number_picks(resident: Resident, desk: Desk) -> None:
    assert resident.say(LAMP_AND_LIFT) == (
        "已登记您反映的问题，编号 #1。\n请问属于哪一类？请回复数字或类别名称：\n"
        "1 物业服务\n2 电梯设施\n3 环境卫生\n4 更多类别\n" + OTHERS
    )
    assert topic_of(desk, 1) == (None, False)  # filed at once, in triage

    assert resident.say("2") == "好的，#1 已归入【电梯设施】。回复【我的】查看进度。"
    assert topic_of(desk, 1) == ("电梯设施", False)  # the resident's pick: unconfirmed


@pytest.mark.parametrize(
    "answer",
    ["电梯设施", "电梯 设施。", "電梯設施", "电梯", "電梯", "是电梯问题吧", "选2", "第2个", "二"],
)
def test_a_topic_s_name_or_a_near_form_answers_as_its_number_does(
    resident: Resident, desk: Desk, answer: str
) -> None:
    resident.say(LAMP_AND_LIFT)
    assert resident.say(answer) == "好的，#1 已归入【电梯设施】。回复【我的】查看进度。"
    assert topic_of(desk, 1) == ("电梯设施", False)


def test_a_name_answers_even_for_a_topic_the_short_question_did_not_offer(
    resident: Resident, desk: Desk
) -> None:
    resident.say(LAMP_AND_LIFT)
    assert resident.say("噪音") == "好的，#1 已归入【噪音扰民】。回复【我的】查看进度。"


def test_more_topics_shows_the_whole_list_and_a_number_picks_from_it(
    resident: Resident, desk: Desk
) -> None:
    resident.say(LAMP_AND_LIFT)
    shown = resident.say("4")
    assert shown is not None
    assert shown.splitlines()[0] == "#1 可选的全部类别，请回复数字或类别名称："
    assert offered(shown) == [f"{i} {name}" for i, name in enumerate(ALL_TOPICS, start=1)]
    assert shown.splitlines()[-1] == OTHERS

    assert resident.say("13") == "请回复 1 到 12 之间的数字，或类别名称。"
    assert resident.say("11") == "好的，#1 已归入【水电气暖】。回复【我的】查看进度。"
    assert topic_of(desk, 1) == ("水电气暖", False)


@pytest.mark.parametrize("words", ["更多类别", "更多", "全部", "其他类别"])
def test_more_topics_may_be_asked_in_words(resident: Resident, words: str) -> None:
    resident.say(LAMP_AND_LIFT)
    assert len(offered(resident.say(words))) == len(ALL_TOPICS)
    assert resident.say("4") == "好的，#1 已归入【电梯设施】。回复【我的】查看进度。"


def test_a_number_out_of_range_is_asked_again(resident: Resident, desk: Desk) -> None:
    resident.say(LAMP_AND_LIFT)
    assert resident.say("5") == "请回复 1 到 4 之间的数字，或类别名称。"
    assert resident.say("0") == "请回复 1 到 4 之间的数字，或类别名称。"
    assert resident.say("1") == "好的，#1 已归入【物业服务】。回复【我的】查看进度。"


def test_other_leaves_the_ticket_for_staff(resident: Resident, desk: Desk) -> None:
    resident.say(LAMP_AND_LIFT)
    assert resident.say("都不是") == "好的，#1 已转交工作人员分类处理。回复【我的】查看进度。"
    assert topic_of(desk, 1) == (None, False)
    assert resident.say("1") == texts.TOO_SHORT  # no question any more


def test_words_that_name_no_topic_leave_it_for_staff_and_are_handled_as_they_are(
    resident: Resident, desk: Desk
) -> None:
    resident.say(LAMP_AND_LIFT)
    reply = resident.say("另外小区门口的车乱停，把消防通道都堵上了")
    assert reply is not None
    assert reply.startswith(
        "您之前反映的 #1 已转交工作人员分类处理。\n\n已登记您反映的问题，编号 #2"
    )
    assert topic_of(desk, 1) == (None, False)
    assert topic_of(desk, 2)[0] == "停车交通"


def test_a_command_in_between_is_answered_and_the_question_stays(
    resident: Resident, desk: Desk
) -> None:
    resident.say(LAMP_AND_LIFT)
    mine = resident.say("我的")
    assert mine is not None and mine.startswith("您办理中的诉求：\n#1 待分类 · 待受理")
    assert resident.say("电梯") == "好的，#1 已归入【电梯设施】。回复【我的】查看进度。"


def test_an_unanswered_question_expires_as_before(
    resident: Resident, desk: Desk, clock: Clock
) -> None:
    resident.say(LAMP_AND_LIFT)
    clock.advance(minutes=31)  # [intake] choice_minutes is 30
    assert resident.say("2") == texts.TOO_SHORT
    assert topic_of(desk, 1) == (None, False)


def test_a_recognised_voice_answer_counts(resident: Resident, desk: Desk) -> None:
    resident.say(LAMP_AND_LIFT)
    reply = desk.send("o_resident", "voice", text="电梯。", details={"media_id": "v1"})
    assert reply == "好的，#1 已归入【电梯设施】。回复【我的】查看进度。"


def test_staff_who_took_the_ticket_meanwhile_keep_it(resident: Resident, desk: Desk) -> None:
    with desk.db.session() as session:
        add_staff(session, "o_wang", "王网格", (), (), None, 1, NOW)
    resident.say(LAMP_AND_LIFT)
    assert (desk.chat("o_wang").say("接单 1") or "").startswith("已接单 #1")

    assert resident.say("电梯设施") == (
        "#1 已由工作人员受理（待分类），无需再选择类别。回复【我的】查看进度。"
    )
    assert topic_of(desk, 1) == (None, False)


@pytest.mark.parametrize("text", ["部𨋢又壞咗", "the lift is broken again", NOTHING])
def test_messages_no_rule_reads_are_asked_the_same_short_question(
    resident: Resident, text: str
) -> None:
    reply = resident.say(text)
    assert reply is not None and reply.startswith("已登记您反映的问题，编号 #1。\n请问属于哪一类？")
    lines = offered(reply)
    assert len(lines) == 4 and lines[-1] == "4 更多类别"  # never the 13-line menu


def test_with_nothing_ranked_the_topics_filed_most_lately_come_first(desk: Desk) -> None:
    # Two noise reports and one about parking, each filed by the rules (sure of them).
    for openid, text in (
        ("o_1", "楼上装修天天电钻响，吵得孩子没法睡觉"),
        ("o_2", "隔壁半夜唱卡拉OK噪音太大了"),
        ("o_3", "小区门口的车乱停，把消防通道都堵上了"),
    ):
        assert "类别：" in (desk.chat(openid).say(text) or "")
    # A resident's own pick is not counted: it would keep first what was offered first.
    picker = desk.chat("o_4")
    picker.say(NOTHING)
    assert picker.say("政策咨询") == "好的，#4 已归入【政策咨询】。回复【我的】查看进度。"

    asked = desk.chat("o_5").say(NOTHING)
    assert offered(asked) == ["1 噪音扰民", "2 停车交通", "3 物业服务", "4 更多类别"]


@pytest.fixture
def two(desk: Desk) -> Iterator[tuple[Desk, int]]:
    """The desk with a second community, 幸福社区, which switched off 电梯设施 and 物业服务."""
    with desk.db.session() as session:
        community, _ = add_community(session, "幸福社区", NOW)
        b = community.id
        for name in ("电梯设施", "物业服务"):
            topic = topic_by_name(session, name)
            assert topic is not None
            set_override(session, b, topic, enabled=False, sla_hours=None, actor="t", now=NOW)
    for openid, community_id in (("o_a", HOME_ID), ("o_b", b)):
        desk.chat(openid).follow()
        with desk.db.session() as session:
            session.execute(
                update(Person).where(Person.openid == openid).values(community_id=community_id)
            )
    yield desk, b


def test_only_the_ticket_s_community_s_topics_are_offered_or_taken(
    two: tuple[Desk, int],
) -> None:
    desk, _ = two
    here = desk.chat("o_b")
    asked = here.say(LAMP_AND_LIFT)
    # Both ranked topics are off in 幸福社区: its first topics instead.
    assert offered(asked) == ["1 环境卫生", "2 停车交通", "3 噪音扰民", "4 更多类别"]
    every = offered(here.say("更多类别"))
    assert len(every) == 10 and not any("电梯设施" in o or "物业服务" in o for o in every)
    reply = here.say("电梯设施")  # not a topic here: left for staff, handled as a message
    assert reply is not None and reply.startswith("您之前反映的 #1 已转交工作人员分类处理。")
    assert topic_of(desk, 1) == (None, False)

    # In the first community the same words are asked with its own topics.
    assert offered(desk.chat("o_a").say(LAMP_AND_LIFT))[:2] == ["1 物业服务", "2 电梯设施"]


@pytest.fixture
def street(multi_app: Flask) -> Iterator[Flask]:
    with db_of(multi_app).session() as session:
        for name in ("东社区", "西社区"):
            community, _ = add_community(session, name, NOW)
            if name == "西社区":
                topic = topic_by_name(session, "物业服务")
                assert topic is not None
                set_override(
                    session, community.id, topic, enabled=False, sla_hours=None, actor="t", now=NOW
                )
    yield multi_app


def test_a_report_that_waited_for_the_community_is_asked_short_in_that_community(
    street: Flask,
) -> None:
    hall = Account(street.test_client(), "street")
    asked = hall.say("/wechat/street", "o_new", NOTHING)
    assert asked is not None and asked.endswith("\n1 本社区\n2 东社区\n3 西社区")

    chosen = hall.say("/wechat/street", "o_new", "3")
    assert chosen == (
        "好的，已记下您是西社区的居民。\n已登记您反映的问题，编号 #1。\n"
        "请问属于哪一类？请回复数字或类别名称：\n"
        "1 环境卫生\n2 停车交通\n3 电梯设施\n4 更多类别\n" + OTHERS
    )
    assert hall.say("/wechat/street", "o_new", "停车") == (
        "好的，#1 已归入【停车交通】。回复【我的】查看进度。"
    )


def test_a_question_asked_before_the_short_form_is_still_answered(
    resident: Resident, desk: Desk
) -> None:
    """Asked by the old code just before an upgrade: the topics, then 其他 as the last number."""
    resident.say(LAMP_AND_LIFT)
    now = desk.clock()
    with desk.db.session() as session:
        person = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        [state] = pending_states(session, person.id, now)
        drop_state(session, state)
        old = {"ticket": 1, "options": ["物业服务", "电梯设施"]}
        push_state(session, person.id, CHOOSE_TOPIC, old, now=now, ttl=timedelta(minutes=30))
    assert resident.say("3") == "好的，#1 已转交工作人员分类处理。回复【我的】查看进度。"


def test_a_community_with_every_topic_switched_off_is_not_asked(two: tuple[Desk, int]) -> None:
    desk, b = two
    with desk.db.session() as session:
        for name in ALL_TOPICS:
            topic = topic_by_name(session, name)
            assert topic is not None
            set_override(session, b, topic, enabled=False, sla_hours=None, actor="t", now=NOW)
    assert desk.chat("o_b").say(NOTHING) == (
        "已登记您反映的问题，编号 #1，工作人员会为您分类处理。回复【我的】查看进度。"
    )


def test_how_loose_a_name_may_be() -> None:
    names = ["物业服务", "家政服务", "电梯设施", "水电气暖"]
    assert topic_named("电梯设施", names) == "电梯设施"
    assert topic_named("应该是电梯方面的问题吧", names) == "电梯设施"
    assert topic_named("ＷＵ", ["wu"]) == "wu"  # width and case fold
    assert topic_named("服务", names) is None  # a part of two names: not a choice
    assert topic_named("电", names) is None  # one character is too little
    assert topic_named("电梯坏了", names) is None  # words about the problem are not a choice
    assert topic_named("其他问题", names) is None
    assert choice_number("３") == 3 and choice_number("我选三") == 3
    assert choice_number("3号楼") is None


@pytest.mark.parametrize(
    "alone",
    [
        "13800138000",
        "3号楼2单元",
        "三栋二单元 13800138000",
        "我住3号楼2单元501",
        "联系电话：13800138000",
        "1号楼 12层",
    ],
)
def test_a_phone_number_or_a_place_alone_asks_for_more_and_files_nothing(
    desk: Desk, alone: str
) -> None:
    """On a new deployment (init's starter model), a resident who sends only their phone
    number or only where (a follow-up to what they wrote, often) is asked to say more, as
    for a too short text: the model filed 13800138000 under 电梯设施 and 3号楼2单元 under
    物业服务 and pushed them to staff."""
    with desk.db.session() as session:
        seed_starter_model(session, datetime.now(UTC))
    desk.conversation.rulebook.refresh()
    resident = desk.chat("o_resident")
    assert resident.say(alone) == texts.TOO_SHORT
    filed = resident.say("3号楼漏水") or ""  # a place and a word is a report
    assert filed.startswith("已登记您反映的问题，编号 #1，类别：水电气暖。")


def test_the_model_does_not_decide_a_text_of_digits_alone(desk: Desk) -> None:
    """Where a number alone reaches the classifier (分类, `classify`, a ticket staff file),
    the model's prior for digits (49 % 电梯设施) decides nothing: nobody is sure."""
    with desk.db.session() as session:
        seed_starter_model(session, datetime.now(UTC))
        session.add(Person(openid="o_admin", role=Role.ADMIN, first_seen_at=NOW, last_seen_at=NOW))
    desk.conversation.rulebook.refresh()
    lines = (desk.chat("o_admin").say("分类 13800138000") or "").splitlines()
    [model_line] = [line for line in lines if line.startswith("模型：")]
    assert model_line.endswith("（只有数字或符号，模型不作判断）")
    assert lines[-1].startswith("结果：不确定：请居民在 ")
    sure = (desk.chat("o_admin").say("分类 电梯又坏了，卡在半空") or "").splitlines()
    assert sure[-1] == "结果：电梯设施（规则确定）"

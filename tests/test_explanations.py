"""Why a text gets its topic, as an admin reads it: the chat's 分类, the console's 试一试 and
a ticket's 为什么是这个类别 show the rule hits, and when the rules were unsure the model's
likeliest topics and the n-grams that weighed most, and who decided."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from conftest import Chat, WeChat, console_login, csrf_token_of, db_of, make_account, make_app
from desk import Desk
from flask import Flask
from flask.testing import FlaskClient
from small_model import BY_MODEL, NOBODY_SURE, use_model
from werkzeug.test import TestResponse

from bot.config import ClassifierSettings, Settings
from models import Person, Role, Ticket, ticket_by_number, topic_by_name

LIFT = "电梯又坏了，卡在半空"
_TUNING = ClassifierSettings()
# What the model needs to decide, as the explanation says it (the default [classifier]).
NEEDS = f"（需 ≥{_TUNING.model_threshold:.0%} 且领先 {_TUNING.model_margin:.0%}）"


def admin_on_desk(desk: Desk, openid: str = "o_admin") -> None:
    now = datetime.now(UTC)
    with desk.db.session() as s:
        s.add(Person(openid=openid, role=Role.ADMIN, first_seen_at=now, last_seen_at=now))


def shown(response: TestResponse) -> str:
    """A page's text as a person reads it: no tags, one space between words."""
    assert response.status_code == 200
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def section(page: str, title: str, until: str) -> str:
    """The part of a page's text from `title` up to `until`."""
    start = page.index(title)
    return page[start : page.index(until, start)]


def rulebook(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["yishiting"].rulebook


# --- the chat: 分类 ----------------------------------------------------------------------------


def test_the_chat_explains_who_decided_with_the_models_topics_and_ngrams(desk: Desk) -> None:
    admin_on_desk(desk)
    admin = desk.chat("o_admin")
    before = admin.say(f"分类 {BY_MODEL}") or ""
    assert before.splitlines()[-1] == "结果：无匹配，进入待分类"  # no model yet
    assert "模型" not in before

    use_model(desk.db, desk.conversation.rulebook)
    reply = admin.say(f"分类 {BY_MODEL}") or ""
    lines = reply.splitlines()
    assert lines[:2] == ["分词：楼下 / 的 / 狗 / 天天 / 叫", "命中：（无）"]
    assert re.fullmatch(r"模型：噪音扰民 \d+%，\S+ \d+%，\S+ \d+%", lines[2])
    assert lines[3].startswith("模型依据（噪音扰民）：") and "狗 +0." in lines[3]
    assert re.fullmatch(r"结果：噪音扰民（规则无匹配，模型判断 \d+%）", lines[-1])

    sure = admin.say(f"分类 {LIFT}") or ""
    assert "命中：电梯→电梯设施(+3)" in sure and "模型" not in sure  # the rules decided alone
    assert sure.splitlines()[-1] == "结果：电梯设施（规则确定）"

    unsure = (admin.say(f"分类 {NOBODY_SURE}") or "").splitlines()
    [model_line] = [line for line in unsure if line.startswith("模型：")]
    assert model_line.endswith(NEEDS)
    assert re.fullmatch(r"结果：不确定：请居民在 \S+/\S+/\S+ 中选择", unsure[-1])


def test_rules_that_are_unsure_say_what_they_needed_and_the_model_breaks_the_tie(
    desk: Desk,
) -> None:
    admin_on_desk(desk)
    use_model(desk.db, desk.conversation.rulebook)
    lines = (desk.chat("o_admin").say("分类 楼上在装修") or "").splitlines()
    assert lines[1] == "命中：楼上→邻里纠纷(+1)，装修→噪音扰民(+1)"
    # A tie: the rules' best (噪音扰民 comes first among the topics) is named first.
    assert lines[2] == "得分：噪音扰民 1，邻里纠纷 1（规则需 ≥2 且领先 1）"
    assert lines[3].startswith("模型：")
    assert lines[4].startswith("模型依据（")
    assert lines[-1].startswith("结果：")


# --- the console: 试一试 -----------------------------------------------------------------------


def test_the_try_box_gives_the_models_ranking_and_ngrams_when_the_rules_are_unsure(
    app: Flask, admin_client: FlaskClient
) -> None:
    use_model(db_of(app), rulebook(app))
    data = admin_client.get("/admin/rules/try", query_string={"text": BY_MODEL}).get_json()
    assert data["by"] == "model" and data["topic"] == "噪音扰民"
    assert re.fullmatch(r"噪音扰民（规则无匹配，模型判断 \d+%）", data["verdict"])
    model = data["model"]
    assert model["ranked"][0]["topic"] == "噪音扰民" and model["ranked"][0]["p"] > 0.5
    assert model["for"] == "噪音扰民" and "狗" in [t["term"] for t in model["terms"]]

    sure = admin_client.get("/admin/rules/try", query_string={"text": LIFT}).get_json()
    assert sure["by"] == "rules" and sure["model"] is None
    assert sure["verdict"] == "电梯设施（规则确定）"

    unsure = admin_client.get("/admin/rules/try", query_string={"text": NOBODY_SURE}).get_json()
    assert unsure["by"] is None and len(unsure["candidates"]) == 3
    assert unsure["verdict"] == f"不确定：请居民在 {'/'.join(unsure['candidates'])} 中选择"
    assert unsure["model"]["words"] is True  # the page says what the model would have needed

    digits = admin_client.get("/admin/rules/try", query_string={"text": "13800138000"}).get_json()
    assert digits["by"] is None and digits["model"]["words"] is False  # 只有数字或符号


def test_the_backtest_of_an_unsaved_rule_judges_with_the_model_too(
    settings: Settings, chat: Chat, app: Flask
) -> None:
    """A pending rule is measured as the chat would file: with the model deciding what the
    rules leave unsure — even in a console process that has classified nothing yet."""
    chat.say(BY_MODEL)  # no rule matches: unsure, no topic
    with db_of(app).session() as s:
        ticket = s.query(Ticket).one()
        noise = topic_by_name(s, "噪音扰民")
        assert noise is not None and ticket.topic is None
        ticket.topic, ticket.topic_confirmed = noise, True  # staff put it there
        noise_id = noise.id
    use_model(db_of(app))
    boss = console(make_app(settings))  # another process: its RuleBook has read nothing yet
    token = csrf_token_of(boss.get(f"/admin/rules/topic/{noise_id}"))
    answer = boss.post(
        "/admin/rules/backtest",
        json={"topic_id": noise_id, "keyword": "装修", "weight": "1", "kind": "include"},
        headers={"X-CSRFToken": token},
    ).get_json()
    assert answer["sample"] == 1
    assert answer["before"]["accuracy"] == 1.0  # the model's verdict counted


# --- the console: a ticket's 为什么是这个类别 --------------------------------------------------


def console(app: Flask) -> FlaskClient:
    make_account(app, "boss", "admin")
    client = app.test_client()
    assert console_login(client, "boss").status_code == 303
    return client


def test_a_ticket_the_model_filed_says_so_with_todays_explanation(app: Flask, chat: Chat) -> None:
    use_model(db_of(app), rulebook(app))
    assert "类别：噪音扰民" in (chat.say(BY_MODEL) or "")
    assert "类别：电梯设施" in (chat.say(LIFT) or "")
    boss = console(app)

    page = shown(boss.get("/admin/tickets/1"))
    why = section(page, "为什么是这个类别", "办理记录")
    assert "类别来源： 模型" in why
    assert "登记时关键词规则不确定，由模型判断为“噪音扰民”" in why
    assert "按当前规则与模型" in why
    assert re.search(r"结果： 噪音扰民（规则无匹配，模型判断 \d+%）", why)
    assert "没有命中任何关键词" in why
    assert re.search(r"模型： 噪音扰民 \d+%", why)
    assert re.search(r"模型依据 （噪音扰民，数值越大越像该类）： .*狗 \+0\.\d\d", why)

    lift = section(shown(boss.get("/admin/tickets/2")), "为什么是这个类别", "办理记录")
    assert "类别来源： 规则" in lift and "登记时由关键词规则确定为“电梯设施”" in lift
    assert "电梯设施： 电梯（+3）" in lift and "规则已确定，未询问模型" in lift
    assert "模型依据" not in lift


def test_an_unsure_ticket_shows_the_residents_choice_then_staffs_move(
    app: Flask, wechat: WeChat
) -> None:
    use_model(db_of(app), rulebook(app))
    resident = Chat(wechat, "o_resident")
    question = resident.say(NOBODY_SURE) or ""
    first = re.search(r"^1 (\S+)$", question, re.M)
    assert first, question
    resident.say("1")
    boss = console(app)
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "类别来源： 不确定 → 居民选择" in why
    assert "登记时未能自动确定类别，请居民选择" in why
    assert f"居民选择 · 居民：未分类 → {first.group(1)}" in why
    assert re.search(r"结果： 不确定：请居民在 \S+/\S+/\S+ 中选择", why)
    assert NEEDS in why

    with db_of(app).session() as s:
        cleaning = topic_by_name(s, "环境卫生")
        assert cleaning is not None
        target = f"topic-{cleaning.id}"
    token = csrf_token_of(boss.get("/admin/tickets/1"))
    boss.post("/admin/tickets/1/reassign", data={"csrf_token": token, "target": target})
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "类别来源： 不确定 → 居民选择 → 工作人员改派" in why
    assert f"工作人员改派 · 系统：{first.group(1)} → 环境卫生" in why


def test_a_staff_confirmation_and_a_ticket_filed_before_the_model_read_right(
    settings: Settings,
) -> None:
    app = make_app(settings)
    chat = Chat(WeChat(app.test_client(), settings), "o_1")
    chat.say(LIFT)
    with db_of(app).session() as s:
        ticket = ticket_by_number(s, 1)
        assert ticket is not None
        ticket.topic_by = None  # as filed before #19: only the rules filed under a topic
        lift = topic_by_name(s, "电梯设施")
        assert lift is not None
        target = f"topic-{lift.id}"
    boss = console(app)
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "类别来源： 规则" in why and "未使用模型" not in why

    token = csrf_token_of(boss.get("/admin/tickets/1"))
    boss.post("/admin/tickets/1/reassign", data={"csrf_token": token, "target": target})
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "类别来源： 规则 → 工作人员确认" in why
    assert "工作人员确认 · 系统：电梯设施 → 电梯设施" in why


# --- the console: the list marks what the model filed ---------------------------------------


def model_marks(client: FlaskClient) -> list[int]:
    """The numbers of the tickets the list marks 模型."""
    page = client.get("/admin/tickets").get_data(as_text=True)
    rows = re.findall(r'href="/admin/tickets/(\d+)"((?:(?!</tr>).)*)</tr>', page, re.S)
    assert rows
    return [int(number) for number, row in rows if ">模型</span>" in row]


def test_the_list_marks_what_the_model_filed_and_the_dashboard_counts_who_filed_what(
    backend_settings: Settings,
) -> None:
    app = make_app(backend_settings)
    use_model(db_of(app), rulebook(app))
    chat = Chat(WeChat(app.test_client(), backend_settings), "o_1")
    chat.say(BY_MODEL)  # #1: the model's
    chat.say(LIFT)  # #2: the rules'
    chat.say(NOBODY_SURE)  # #3: nobody's, the resident is asked
    boss = console(app)
    assert model_marks(boss) == [1]

    with db_of(app).session() as s:
        noise = topic_by_name(s, "噪音扰民")
        assert noise is not None
        target = f"topic-{noise.id}"
    token = csrf_token_of(boss.get("/admin/tickets/1"))
    boss.post("/admin/tickets/1/reassign", data={"csrf_token": token, "target": target})
    assert model_marks(boss) == []  # a person confirmed it: nothing left to check
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "类别来源： 模型 → 工作人员确认" in why

    dashboard = shown(boss.get("/admin"))
    table = section(dashboard, "自动分类", "规则不确定时由模型判断")
    assert "规则确定 1 33% 0" in table
    assert "模型判断 1 33% 1" in table  # and staff confirmed it since
    assert "不确定，请居民选择 1 33% 0" in table
    assert "类别未启用" not in table  # none: the row is left out
    app.extensions["yishiting"].db.dispose()


def test_a_ticket_of_digits_alone_says_the_model_does_not_decide_it(app: Flask) -> None:
    """A ticket staff filed with only a phone number (or filed so before): its page says why
    the model, whatever its percentage, did not decide."""
    use_model(db_of(app), rulebook(app))
    boss = console(app)
    token = csrf_token_of(boss.get("/admin/tickets/new"))
    boss.post(
        "/admin/tickets/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "phone": "13900001111",
            "text": "13800138000",
        },
    )
    why = section(shown(boss.get("/admin/tickets/1")), "为什么是这个类别", "办理记录")
    assert "（只有数字或符号，模型不作判断）" in why and "（需 ≥" not in why


def test_the_chat_explains_a_long_text_down_to_its_verdict(desk: Desk) -> None:
    """A chat reply is cut at 600 characters: a long text's words are shown in part, so that
    the hits and 结果 still arrive."""
    admin_on_desk(desk)
    reply = desk.chat("o_admin").say("分类 " + "楼上装修吵" * 400) or ""
    lines = reply.splitlines()
    assert lines[0].endswith(" …（共 1200 个词）")
    assert lines[-1].startswith("结果：") and len(reply) < 600

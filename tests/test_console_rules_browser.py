"""In a real Chromium: an admin tries a message, changes a keyword rule, and sees the
try-a-message result change."""

from __future__ import annotations

import re
from typing import Any

from conftest import Chat, LiveServer, browser_login, db_of, make_account
from flask import Flask
from small_model import BY_MODEL, NOBODY_SURE, use_model
from sqlalchemy import select

from bot.config import ClassifierSettings
from models import Topic
from models.tickets import Ticket, set_topic


def try_message(page: Any, text: str) -> None:
    page.fill("#try-text", text)
    page.click("#try-go")
    page.wait_for_selector("#try-result:not([hidden])")


def verdict_says(page: Any, topic: str) -> None:
    """Wait until the try box's verdict names `topic` (the answer arrives by fetch)."""
    page.wait_for_function(
        "t => document.querySelector('#try-result [data-field=verdict]').textContent.includes(t)",
        arg=topic,
    )


def test_changing_a_keyword_rule_changes_the_try_a_message_result(
    app: Flask, page: Any, chat: Chat
) -> None:
    make_account(app, "boss", "admin")
    # Staff have confirmed that piled-up clutter is 环境卫生, so the backtest has data.
    for text in ("楼道里堆满了杂物", "单元门口的杂物没人清理"):
        assert chat.say(text)
    with db_of(app).session() as db:
        hygiene = db.scalar(select(Topic).where(Topic.name == "环境卫生"))
        for ticket in db.scalars(select(Ticket)):
            set_topic(db, ticket, hygiene, confirmed=True, now=ticket.created_at)
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.click("nav.mainnav >> text=分类规则")
        try_message(page, "楼道里堆了很多杂物")
        verdict = page.locator('#try-result [data-field="verdict"]')
        verdict_says(page, "安全隐患")
        assert "安全隐患（规则确定）" in verdict.inner_text()
        assert "杂物" in page.locator('#try-result [data-field="tokens"]').inner_text()

        page.click("table >> text=环境卫生")
        page.fill("#rule-filter", "粪便")
        assert page.locator("#rules tbody tr:visible").count() == 1
        page.fill("#new-rule input[name=keyword]", "杂物")
        page.fill("#new-rule input[name=weight]", "5")
        page.click("#new-rule button[data-backtest]")
        recall = page.locator("#backtest-result tr", has_text="平均召回率")
        recall.wait_for()
        assert "+" in recall.inner_text()  # the pending keyword raises recall, unsaved
        page.click("#new-rule button[type=submit]")
        page.wait_for_selector("text=已添加关键词“杂物”到“环境卫生”")

        try_message(page, "楼道里堆了很多杂物")
        verdict_says(page, "环境卫生")
        assert "环境卫生（规则确定）" in verdict.inner_text()
        scores = page.locator('#try-result [data-field="scores"]').inner_text()
        assert scores.index("环境卫生") < scores.index("安全隐患")


def test_the_try_box_shows_the_models_ranking_its_ngrams_and_who_decided(
    app: Flask, page: Any
) -> None:
    make_account(app, "boss", "admin")
    use_model(db_of(app), app.extensions["yishiting"].rulebook)
    field = lambda name: page.locator(f'#try-result [data-field="{name}"]')  # noqa: E731
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.click("nav.mainnav >> text=分类规则")
        try_message(page, BY_MODEL)
        verdict_says(page, "模型判断")
        assert re.fullmatch(r"噪音扰民（规则无匹配，模型判断 \d+%）", field("verdict").inner_text())
        assert "没有命中任何关键词" in field("matches").inner_text()
        assert field("model").is_visible()
        assert re.match(r"噪音扰民 \d+%，", field("model-ranked").inner_text())
        assert field("model-for").inner_text() == "噪音扰民"
        terms = field("model-terms").locator(".badge").all_inner_texts()
        assert any(re.fullmatch(r"狗 \+0\.\d\d", t) for t in terms), terms

        try_message(page, NOBODY_SURE)
        verdict_says(page, "请居民在")
        tuning = ClassifierSettings()
        need = f"需 ≥{tuning.model_threshold:.0%} 且领先 {tuning.model_margin:.0%}"
        assert need in field("model-need").inner_text()

        try_message(page, "电梯又坏了，卡在半空")
        verdict_says(page, "电梯设施（规则确定）")
        assert not field("model").is_visible()
        assert field("model-none").inner_text() == "规则已确定，未询问模型。"

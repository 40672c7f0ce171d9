"""In a real Chromium: an admin tries a message, changes a keyword rule, and sees the
try-a-message result change."""

from __future__ import annotations

from typing import Any

from conftest import Chat, LiveServer, browser_login, db_of, make_account
from flask import Flask
from sqlalchemy import select

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

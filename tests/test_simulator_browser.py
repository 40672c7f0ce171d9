"""The simulator in a real browser (Debian's Chromium, headless): a resident reports, the
demo staff member accepts, the resident's push appears in the panel and in their chat."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from conftest import LiveServer, db_of
from flask import Flask

from devtools.demo import RESIDENTS, STAFF_NAME, STAFF_OPENID, add_demo_data

RESIDENT = RESIDENTS[0][0]


def test_report_accept_and_see_the_push_in_the_simulator(app: Flask, page: Any) -> None:
    with db_of(app).session() as session:
        add_demo_data(session, datetime.now(UTC))
    with LiveServer(app) as server:
        page.goto(f"{server.url}/simulator")
        page.select_option("#person-select", RESIDENT)
        page.fill("#message-input", "1号楼电梯坏了，困住了一个老人")
        page.click("#send-button")
        reply = page.locator(".wx-row.bot .wx-bubble").last
        reply.wait_for()
        match = re.search(r"#(\d+)", reply.inner_text())
        assert match, reply.inner_text()
        number = match.group(1)
        # The resident's own words, green, on the right.
        assert "困住了一个老人" in page.locator(".wx-row.me .wx-bubble").last.inner_text()

        page.select_option("#person-select", STAFF_OPENID)
        assert f"{STAFF_NAME}（工作人员）" in page.inner_text("#chat-who")
        assert page.locator(".wx-row.me").count() == 0  # his own (empty) conversation
        # The new ticket reached him as a push, in the panel and in his chat.
        page.locator("#pushes .sim-push", has_text=f"接单 {number}").first.wait_for()
        page.fill("#message-input", f"接单 {number}")
        page.press("#message-input", "Enter")
        page.locator(".wx-row.bot .wx-bubble", has_text=f"已接单 #{number}").wait_for()

        page.select_option("#person-select", RESIDENT)
        push = page.locator("#pushes .sim-push", has_text="已由社区工作人员受理")
        push.wait_for()
        assert RESIDENT in push.inner_text()
        # As WeChat shows a customer-service message: in the resident's conversation too,
        # after what they said before the switch.
        page.locator(".wx-row.bot .wx-bubble", has_text="已由社区工作人员受理").wait_for()
        assert "困住了一个老人" in page.inner_text("#chat")

        # 我的诉求 in the menu bar answers as 我的 does.
        page.click(".wx-menu button:has-text('我的诉求')")
        page.locator(".wx-row.bot .wx-bubble", has_text=f"#{number}").last.wait_for()
        page.locator(".wx-note", has_text="点击了菜单「我的诉求」").wait_for()


def test_any_openid_can_be_typed_and_bad_ones_are_explained(app: Flask, page: Any) -> None:
    with LiveServer(app) as server:
        page.goto(f"{server.url}/simulator")
        page.fill("#openid-input", "not an openid!")
        page.click("#openid-form button")
        page.locator("#who-error", has_text="openid").wait_for()
        page.fill("#openid-input", "o_brand_new")
        page.click("#openid-form button")
        page.click("#follow-button")
        page.locator(".wx-row.bot .wx-bubble", has_text="欢迎关注议事厅").wait_for()
        assert "o_brand_new" in page.inner_text("#chat-who")
        page.select_option("#push-filter", "all")
        assert page.locator("#who-error").is_hidden()

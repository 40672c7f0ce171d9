"""Whole journeys across the console and the simulator, in Debian's headless Chromium:
what an admin does at /admin reaches the resident in the (simulated) chat, and back."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from conftest import LiveServer, browser_login, db_of, make_account
from flask import Flask

from devtools.demo import RESIDENTS, STAFF_OPENID, add_demo_data

RESIDENT = RESIDENTS[0][0]


def _demo(app: Flask) -> None:
    with db_of(app).session() as session:
        add_demo_data(session, datetime.now(UTC))


def _say_in_simulator(sim: Any, openid: str, text: str) -> str:
    """Act as `openid` in the simulator, send `text`, return the bot's reply bubble."""
    sim.select_option("#person-select", openid)
    before = sim.locator(".wx-row.bot .wx-bubble").count()
    sim.fill("#message-input", text)
    sim.click("#send-button")
    sim.wait_for_function(f"document.querySelectorAll('.wx-row.bot .wx-bubble').length > {before}")
    return str(sim.locator(".wx-row.bot .wx-bubble").last.inner_text())


def test_a_ticket_resolved_in_the_console_reaches_the_resident_in_the_simulator(
    app: Flask, page: Any
) -> None:
    _demo(app)
    make_account(app, "wangshifu", "staff", openid=STAFF_OPENID)
    with LiveServer(app) as server:
        sim = page.context.new_page()
        sim.goto(f"{server.url}/simulator")
        reply = _say_in_simulator(sim, RESIDENT, "2号楼楼道的灯坏了好几天，晚上很黑")
        number = re.search(r"#(\d+)", reply)
        assert number, reply

        # 王师傅 logs in to the console in the same browser (a new session, so a new CSRF
        # token: the simulator tab opened before must keep working), accepts and resolves.
        browser_login(page, server.url, "wangshifu")
        page.goto(f"{server.url}/admin/tickets/{number.group(1)}")
        assert "楼道的灯坏了" in page.inner_text("main")
        page.click("button[value=accept]")
        page.wait_for_selector(".flash.ok")
        page.fill("textarea[name=outcome]", "已更换楼道灯泡，今晚恢复照明")
        page.click("button[value=resolve]")
        page.wait_for_selector("#ticket-status [data-status=resolved]")

        # The resident, in the simulator, sees the outcome arrive as a push: in the side
        # panel and in their own conversation, as WeChat shows a customer-service message.
        sim.bring_to_front()
        sim.select_option("#person-select", RESIDENT)
        sim.locator("#pushes .sim-push", has_text="已更换楼道灯泡").first.wait_for()
        sim.locator(".wx-row.bot .wx-bubble", has_text="已更换楼道灯泡").first.wait_for()
        sim.screenshot(path=str(_artifact("journey_resolved_push_in_simulator.png")))
        # The rating question came with it: the resident answers 1 (满意) in the chat.
        assert "感谢您的评价" in _say_in_simulator(sim, RESIDENT, "1")


def test_a_poll_created_in_the_console_is_voted_in_from_the_simulator(
    app: Flask, page: Any
) -> None:
    _demo(app)
    make_account(app, "boss", "admin")
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.goto(f"{server.url}/admin/polls/new")
        page.fill("input[name=title]", "小区南门是否增设快递柜")
        page.fill("textarea[name=options]", "同意\n不同意")
        page.fill("input[name=closes_at]", "2099-06-01T20:00")
        page.click('button:has-text("创建投票")')
        page.wait_for_url(re.compile(r".*/admin/polls/\d+$"))
        number = page.url.rsplit("/", 1)[1]
        assert page.text_content("#tally-ballots") == "0"

        sim = page.context.new_page()
        sim.goto(f"{server.url}/simulator")
        listing = _say_in_simulator(sim, RESIDENT, "投票")
        assert "增设快递柜" in listing
        receipt = _say_in_simulator(sim, RESIDENT, f"投票 {number} A")
        assert f"#{number}" in receipt and "A" in receipt
        sim.screenshot(path=str(_artifact("journey_vote_in_simulator.png")))

        # Back at the console the open poll page counts the ballot without a reload.
        page.bring_to_front()
        page.wait_for_function(
            "document.getElementById('tally-ballots').textContent === '1'", timeout=10_000
        )
        assert page.text_content('[data-count="A"]') == "1"


def _artifact(name: str) -> Any:
    from conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name

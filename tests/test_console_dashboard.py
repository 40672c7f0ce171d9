"""工作台: the figures a person at the console reads, after residents report things by chat."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import (
    Chat,
    Clock,
    LiveServer,
    WeChat,
    browser_login,
    console_login,
    db_of,
    make_account,
    make_app,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from bot.config import Settings
from models import Ticket
from models.staff import add_staff


def tiles(html: str) -> dict[str, str]:
    """The stat tiles as a person reads them: label → figure."""
    found = re.findall(r"<b>\s*([^<]*?)\s*</b><span>([^<]+)</span>", html)
    return {label: value for value, label in found}


def tile_links(html: str) -> dict[str, str]:
    found = re.findall(
        r'<a class="stat[^"]*" href="([^"]+)"[^>]*>\s*<b>[^<]*</b><span>([^<]+)', html
    )
    return {label: url for url, label in found}


def chart_data(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="dashboard-data">(.*?)</script>', html, re.S
    )
    assert match, "the page carries no chart data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def dashboard(client: FlaskClient) -> str:
    response = client.get("/admin")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def set_tickets(app: Flask, number: int, **values: Any) -> None:
    with db_of(app).session() as session:
        session.execute(update(Ticket).where(Ticket.number == number).values(**values))


def test_an_empty_database_shows_zeros_and_dashes_not_errors(admin_client: FlaskClient) -> None:
    html = dashboard(admin_client)
    figures = tiles(html)
    assert (figures["今日新增"], figures["待处理"], figures["已超时"]) == ("0", "0", "0")
    assert (figures["解决率"], figures["满意率"], figures["按时率"]) == ("—", "—", "—")
    data = chart_data(html)
    assert data["created"] == [0] * 30 and data["topics"] == [] and data["grids"] == []


def test_a_report_by_chat_shows_up_today_open_and_in_its_topic(
    app: Flask, admin_client: FlaskClient, chat: Chat
) -> None:
    assert "#1" in (chat.say("3号楼电梯坏了，困住了两个老人") or "")
    html = dashboard(admin_client)
    figures = tiles(html)
    assert (figures["今日新增"], figures["待处理"], figures["已超时"]) == ("1", "1", "0")
    data = chart_data(html)
    assert data["created"][-1] == 1 and sum(data["created"]) == 1
    [topic] = data["topics"]
    assert (topic["name"], topic["tickets"], topic["open"]) == ("电梯设施", 1, 1)
    assert re.fullmatch(r"/admin/tickets\?topic=\d+", topic["url"])
    [grid] = data["grids"]
    assert (grid["name"], grid["url"]) == ("（未分网格）", None)


def test_a_ticket_past_its_deadline_counts_as_overdue_and_links_to_the_list(
    app: Flask, admin_client: FlaskClient, chat: Chat
) -> None:
    chat.say("小区门口路灯不亮了")
    chat.say("垃圾桶满了没人清理，味道很大")
    set_tickets(app, 1, due_at=datetime.now(UTC) - timedelta(hours=1))
    html = dashboard(admin_client)
    assert tiles(html)["已超时"] == "1"
    assert tiles(html)["待处理"] == "2"
    links = tile_links(html)
    assert links["已超时"] == "/admin/tickets?overdue=1"
    assert links["待处理"] == "/admin/tickets?status=open"
    for url in links.values():  # every tile opens a list the tickets page understands
        answer = admin_client.get(url.replace("&amp;", "&"))
        assert answer.status_code == 200 and "无效，已忽略" not in answer.get_data(as_text=True)
    # The 待处理 tile's list holds exactly the open tickets it counts.
    listed = admin_client.get("/admin/tickets?status=open").get_data(as_text=True)
    assert "共 2 件" in listed


def test_resolved_and_rated_tickets_give_the_rates_and_the_trend(
    app: Flask, admin_client: FlaskClient, wechat: WeChat
) -> None:
    with db_of(app).session() as session:
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("5号楼电梯按钮失灵了")
    resident.say("6号楼电梯门关不上")
    wang.say("接单 1")
    wang.say("办结 1 已维修")
    resident.say("评价 1 1")
    html = dashboard(admin_client)
    figures = tiles(html)
    # 1 of 2 resolved; the one rated was satisfied; the one resolved was on time.
    assert (figures["解决率"], figures["满意率"], figures["按时率"]) == ("50%", "100%", "100%")
    assert figures["待处理"] == "1"
    data = chart_data(html)
    assert (data["created"][-1], data["resolved"][-1]) == (2, 1)


def test_days_are_cut_at_local_midnight_not_utc(
    app: Flask, admin_client: FlaskClient, chat: Chat, clock: Clock
) -> None:
    # Noon in Shanghai (the default [app] timezone) is 04:00 UTC.
    noon = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    clock.advance(seconds=(noon - clock()).total_seconds())
    chat.say("楼道灯坏了")
    chat.say("小区门口路灯不亮了")
    set_tickets(app, 1, created_at=datetime(2026, 11, 19, 23, 30, tzinfo=UTC))  # 07:30 today
    set_tickets(app, 2, created_at=datetime(2026, 11, 19, 15, 59, tzinfo=UTC))  # 23:59 before
    html = dashboard(admin_client)
    data = chart_data(html)
    assert (data["days"][-1], data["created"][-1]) == ("11/20", 1)
    assert (data["days"][-2], data["created"][-2]) == ("11/19", 1)
    assert tiles(html)["今日新增"] == "1"


def test_days_in_a_zone_a_half_hour_off_utc(settings: Settings, clock: Clock) -> None:
    # Kolkata is UTC+5:30: 18:29 and 18:30 UTC share an hour but not a local day.
    kolkata = settings.replace(app={"timezone": "Asia/Kolkata"})
    app = make_app(kolkata, clock=clock)
    noon = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    clock.advance(seconds=(noon - clock()).total_seconds())
    make_account(app, "boss")
    client = app.test_client()
    console_login(client, "boss")
    resident = Chat(WeChat(app.test_client(), kolkata), "o_resident")
    resident.say("楼道灯坏了")
    resident.say("小区门口路灯不亮了")
    set_tickets(app, 1, created_at=datetime(2026, 11, 19, 18, 30, tzinfo=UTC))  # 00:00 today
    set_tickets(app, 2, created_at=datetime(2026, 11, 19, 18, 29, tzinfo=UTC))  # 23:59 before
    data = chart_data(dashboard(client))
    assert (data["days"][-1], data["created"][-1]) == ("11/20", 1)
    assert (data["days"][-2], data["created"][-2]) == ("11/19", 1)
    db_of(app).dispose()


def test_a_staff_member_sees_their_own_open_tickets(
    app: Flask, client: FlaskClient, wechat: WeChat
) -> None:
    with db_of(app).session() as session:
        wang = add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
        wang_id = wang.id
    Chat(wechat, "o_resident").say("5号楼电梯按钮失灵了")
    make_account(app, "wang", "staff", openid="o_wang")
    console_login(client, "wang")
    html = dashboard(client)
    assert tiles(html)["我的待办"] == "1"
    assert tile_links(html)["我的待办"] == f"/admin/tickets?status=open&amp;assignee={wang_id}"


def test_an_account_without_a_person_has_no_todo_tile(admin_client: FlaskClient) -> None:
    assert "我的待办" not in dashboard(admin_client)


def test_a_viewer_may_read_the_dashboard(app: Flask, client: FlaskClient) -> None:
    make_account(app, "guest", "viewer")
    console_login(client, "guest")
    assert "今日新增" in dashboard(client)


def test_the_dashboard_on_both_databases(backend_settings: Settings, clock: Clock) -> None:
    app = make_app(backend_settings, clock=clock)
    try:
        make_account(app, "boss")
        client = app.test_client()
        console_login(client, "boss")
        Chat(WeChat(app.test_client(), backend_settings), "o_resident").say("5号楼电梯按钮失灵了")
        html = dashboard(client)
        assert tiles(html)["今日新增"] == "1"
        data = chart_data(html)
        assert data["created"][-1] == 1 and data["topics"][0]["name"] == "电梯设施"
    finally:
        db_of(app).dispose()


def test_the_browser_draws_the_charts_and_a_tile_opens_the_list(
    app: Flask, chat: Chat, page: Any
) -> None:
    chat.say("3号楼电梯坏了，困住了两个老人")
    chat.say("小区门口路灯不亮了")
    make_account(app, "boss")
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.wait_for_function("window.yskCharts && window.yskCharts['topic-chart']")
        drawn = page.evaluate(
            "() => window.yskCharts['topic-chart'].data.labels.length"
            " + window.yskCharts.trend.data.datasets[0].data.reduce((a, b) => a + b, 0)"
        )
        assert drawn >= 3  # two topics (or one) plus two tickets in the trend
        assert page.locator("#today .stat", has_text="今日新增").inner_text().startswith("2")
        page.screenshot(path="tests/artifacts/console_dashboard.png", full_page=True)
        page.click("#today .stat:has-text('已超时')")
        page.wait_for_url(f"{server.url}/admin/tickets?overdue=1")

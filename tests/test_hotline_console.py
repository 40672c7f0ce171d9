"""12345 in the console: the list and a ticket's page mark a platform's work order 【12345工单】
with its order number and deadline, the list filters by source (微信 / 12345 / 代居民登记 /
网格平台 / 其他平台), and the timeline of a 12345 order sent back reads 退单."""

from __future__ import annotations

import re

import pytest
from conftest import Chat, WeChat, console_login, csrf_token_of, db_of, make_account, staff
from flask import Flask
from flask.testing import FlaskClient
from hotline_orders import ORDER_NO, send_order
from werkzeug.test import TestResponse

from models import ticket_by_number
from models.staff import LEVEL_COMMUNITY


def numbers(page: TestResponse) -> list[int]:
    assert page.status_code == 200
    return [int(n) for n in re.findall(r'href="/admin/tickets/(\d+)"', page.get_data(as_text=True))]


@pytest.fixture
def desk_of_orders(app: Flask, wechat: WeChat) -> WeChat:
    """#1 by WeChat, #2 a 12345 order, #3 a grid platform's, #4 another platform's, #5 taken
    down by staff from a phone call."""
    staff(app, "o_wang", "王主任", level=LEVEL_COMMUNITY)  # holds whatever no one else does
    Chat(wechat, "o_resident").say("3号楼电梯坏了，困住了两个老人")
    assert send_order(app) == 2
    assert send_order(app, "grid", "WG-0042", text="小区门口垃圾堆积无人清运") == 3
    assert send_order(app, "city-ops", "C-9", text="人行道地砖松动") == 4
    Chat(wechat, "o_other").say("5号楼楼道灯坏了，晚上一片漆黑")
    with db_of(app).session() as session:
        phoned = ticket_by_number(session, 5)
        assert phoned is not None
        phoned.channel = "phone"  # as 代居民登记 files it
    return wechat


def test_the_list_marks_a_12345_order_with_its_number_and_deadline(
    desk_of_orders: WeChat, admin_client: FlaskClient
) -> None:
    html = admin_client.get("/admin/tickets").get_data(as_text=True)
    row = html[html.index('href="/admin/tickets/2"') : html.index('href="/admin/tickets/1"')]
    assert "【12345工单】" in row and f"工单号 {ORDER_NO}" in row
    assert "办理时限 12月7日 18:00" in row
    assert "【网格平台工单】" in html and "工单号 WG-0042" in html
    assert "【平台工单】" in html and "工单号 C-9" in html
    assert html.count("【12345工单】") == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [("wechat", [1]), ("12345", [2]), ("grid", [3]), ("other", [4]), ("on_behalf", [5])],
)
def test_the_list_filters_by_source(
    desk_of_orders: WeChat, admin_client: FlaskClient, source: str, expected: list[int]
) -> None:
    page = admin_client.get(f"/admin/tickets?source={source}")
    assert numbers(page) == expected
    html = page.get_data(as_text=True)
    assert f'<option value="{source}" selected>' in html


def test_a_bad_source_filter_is_named(desk_of_orders: WeChat, admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/tickets?source=fax")
    assert "筛选条件“来源”无效" in page.get_data(as_text=True)
    assert numbers(page) == [5, 4, 3, 2, 1]


def test_a_12345_orders_page_shows_the_order_and_its_refusal_reads_tuidan(
    desk_of_orders: WeChat, admin_client: FlaskClient
) -> None:
    html = admin_client.get("/admin/tickets/2").get_data(as_text=True)
    order = html[html.index('id="ticket-order"') :]
    assert order.index("【12345工单】") < order.index(f"工单号 {ORDER_NO}")
    assert "办理时限 12月7日 18:00" in order
    assert "12345派单" in html[html.index('id="timeline"') :]

    wang = Chat(desk_of_orders, "o_wang")
    wang.say("接单 2")
    assert (wang.say("退回 2 该路段由邻街社区管辖") or "").startswith("#2 已退单（不属于本社区）")
    timeline = admin_client.get("/admin/tickets/2").get_data(as_text=True)
    timeline = timeline[timeline.index('id="timeline"') :]
    assert "退单（不属于本社区）" in timeline and "该路段由邻街社区管辖" in timeline


def test_a_wechat_tickets_page_has_no_order_mark(
    desk_of_orders: WeChat, admin_client: FlaskClient
) -> None:
    html = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert 'id="ticket-order"' not in html and "工单号" not in html


def test_the_dashboard_counts_tickets_by_source_and_links_each_to_its_list(
    desk_of_orders: WeChat, admin_client: FlaskClient
) -> None:
    html = admin_client.get("/admin").get_data(as_text=True)
    table = html[
        html.index('id="source-table"') : html.index("</table>", html.index("source-table"))
    ]
    rows = re.findall(
        r'<a href="/admin/tickets\?source=(\w+)">([^<]+)</a></td><td>(\d+)</td>', table
    )
    assert rows == [
        ("wechat", "微信", "1"),
        ("12345", "12345", "1"),
        ("on_behalf", "代居民登记", "1"),
        ("grid", "网格平台", "1"),
        ("other", "其他平台", "1"),
    ]


def test_a_12345_order_is_refused_from_the_console_with_a_reason_only(
    app: Flask, desk_of_orders: WeChat
) -> None:
    make_account(app, "wang", "staff", openid="o_wang")
    client = app.test_client()
    assert console_login(client, "wang").status_code == 303
    page = client.get("/admin/tickets/2").get_data(as_text=True)
    assert "退单理由（不属于本社区的原因，将反馈12345热线重新派单）" in page
    Chat(desk_of_orders, "o_wang").say("接单 2")

    token = csrf_token_of(client.get("/admin/tickets/2"))
    answer = client.post("/admin/tickets/2/reject", data={"csrf_token": token, "reason": " "})
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "请填写退单理由（为何不属于本社区），理由将反馈派单平台。" in shown
    with db_of(app).session(read_only=True) as session:
        ticket = ticket_by_number(session, 2)
        assert ticket is not None and ticket.status == "accepted"

    token = csrf_token_of(client.get("/admin/tickets/2"))
    answer = client.post(
        "/admin/tickets/2/reject", data={"csrf_token": token, "reason": "该路段由邻街社区管辖"}
    )
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "#2 已退单（不属于本社区），将连同理由反馈12345热线重新派单。" in shown

"""The issue's “done when”, end to end: a fake 12345 platform sends a work order over HTTP, the
grid worker handles it by chat, and the platform receives the signed result by webhook —
办理结果 and 办结时间 for an order done, 退单 with the reason for one sent back. The platform
is a real local HTTP server (tests/city_platform.py) that checks every signature; the outbox
worker delivers, as `yishiting serve` does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_keys import bearer, make_key
from city_platform import CityPlatform
from conftest import Clock, db_of, make_app, pushes_to, staff
from desk import Desk
from flask import Flask
from sqlalchemy import select
from test_webhooks import SECRET, drain, fast

from bot.config import Settings
from models.places import Building, Grid

ORDER = {
    "text": "16号楼门口路灯不亮了，晚上老人出门看不见",
    "source": "12345",
    "external_id": "GD2026120600123",
    "building": "16",
    "due_at": "2026-12-09T18:00:00+08:00",
}


@pytest.fixture
def street(settings: Settings, clock: Clock) -> Iterator[Flask]:
    """第一网格 with building 16 and its worker 赵网格员; deliveries retried quickly."""
    app = make_app(fast(settings), clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    zhao = staff(app, "o_zhao", "赵网格员", grids=("第一网格",))
    with db_of(app).session() as session:
        session.scalars(select(Grid)).one().worker_id = zhao
    yield app
    db_of(app).dispose()


def received(platform: CityPlatform, kind: str) -> list[dict[str, Any]]:
    return [body["data"] for body in platform.processed if body["type"] == kind]


def test_a_12345_order_is_handled_by_chat_and_its_result_reaches_the_platform_signed(
    street: Flask, settings: Settings, clock: Clock
) -> None:
    client, desk = street.test_client(), Desk(fast(settings), clock)
    key = make_key(street, "tickets:read,tickets:write", name="12345热线平台")
    try:
        with CityPlatform(SECRET, fail_share=0) as platform:
            hooks = {"url": platform.url, "secret": SECRET}
            events = ["ticket.accepted", "ticket.resolved", "ticket.rejected"]
            subscribed = client.post(
                "/api/v1/subscriptions", json={**hooks, "events": events}, headers=bearer(key)
            )
            assert subscribed.status_code == 201

            # 12345 派单: the order is filed, routed to the building's grid worker.
            sent = client.post("/api/v1/tickets", json=ORDER, headers=bearer(key))
            assert sent.status_code == 201
            number = sent.json["number"]
            assert sent.json["assignee"]["name"] == "赵网格员"
            assert sent.json["due_at"].startswith("2026-12-09T10:00:00")  # the order's own
            again = client.post("/api/v1/tickets", json=ORDER, headers=bearer(key))
            assert (again.status_code, again.json["number"]) == (200, number)
            [pushed] = pushes_to(street, "o_zhao", "ticket.assigned")
            assert pushed.startswith(f"【12345工单】#{number} 工单号 GD2026120600123")

            # The grid worker, by chat.
            zhao = desk.chat("o_zhao")
            assert (zhao.say(f"接单 {number}") or "").startswith(f"已接单 #{number}")
            zhao.say(f"办结 {number} 已更换路灯灯头，恢复照明")

            # A second order that is not the community's: 退回 is 退单, with the reason.
            other = {**ORDER, "external_id": "GD2026120600124", "text": "市政道路井盖缺失"}
            second = client.post("/api/v1/tickets", json=other, headers=bearer(key))
            returned = zhao.say(f"退回 {second.json['number']} 属市政道路，不属于本社区")
            assert "退单" in (returned or "")

            drain(fast(settings), workers=2)
            assert platform.bad == []  # every delivery carried a valid signature
            [accepted] = received(platform, "ticket.accepted")
            [resolved] = received(platform, "ticket.resolved")
            done = resolved["ticket"]
            assert (done["external_id"], done["status"]) == ("GD2026120600123", "resolved")
            assert done["outcome"] == "已更换路灯灯头，恢复照明"  # 办理结果, as written
            assert done["resolved_at"] is not None  # 办结时间
            assert accepted["ticket"]["number"] == number
            [rejected] = received(platform, "ticket.rejected")
            assert rejected["ticket"]["external_id"] == "GD2026120600124"
            assert (rejected["result"], rejected["reason"]) == ("退单", "属市政道路，不属于本社区")
    finally:
        desk.close()

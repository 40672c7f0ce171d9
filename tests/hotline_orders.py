"""A city platform's work order filed as the API files it (models/api/orders.py `file_order`),
for the tests of how staff, the console and the KPIs see 12345 and grid-platform orders."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import db_of
from flask import Flask

from bot.filing import policy_from
from models.api.orders import HOTLINE, Order, file_order

DUE = datetime(2030, 12, 7, 10, 0, tzinfo=UTC)  # 12月7日 18:00 in the community (UTC+8)
ORDER_NO = "GD2026120600123"
LAMP = "16号楼门口路灯不亮，晚上很黑"


def send_order(
    app: Flask,
    source: str = HOTLINE,
    number: str = ORDER_NO,
    *,
    text: str = LAMP,
    phone: str | None = None,
    building: str | None = None,
    due_at: datetime | None = DUE,
    now: datetime | None = None,
    community_id: int | None = None,
) -> int:
    """The platform sends a work order; the number of its ticket."""
    ys = app.extensions["yishiting"]
    with db_of(app).session() as session:
        filed = file_order(
            session,
            Order(
                text=text,
                source=source,
                external_id=number,
                now=now or datetime.now(UTC),
                phone=phone,
                building=building,
                community_id=community_id,
                due_at=due_at,
            ),
            policy_from(ys.settings),
            ys.rulebook.current().classify,
        )
    return filed.number

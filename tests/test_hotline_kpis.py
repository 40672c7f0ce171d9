"""KPIs by source, and the 12345 三率 the city ranks streets by — computed on a fixed clock from
known orders, on SQLite and PostgreSQL (the response window is each dialect's own date
arithmetic; the source groups a CASE).

May 2024 in Shanghai; the response window is [tickets] triage_hours = 4 h; "now" is T0 + 2 days.
东湖社区's five 12345 orders:
  #1 accepted after 1 h, closed after being resolved, 满意        responded, due, resolved
  #2 accepted after 10 h, resolved, 不满意                       due, resolved (late answer)
  #3 accepted after 2 h, in progress, deadline T0 + 1 day       responded, due (past), open
  #4 退单 (accepted after 1 h, then sent back)                   counted in no rate
  #5 never accepted, deadline far ahead                         not due yet
西山社区: one 12345 order answered in 30 min, resolved, 基本满意; a grid platform's order
(resolved, 不满意), another platform's, a WeChat ticket and a phone call — none of them 12345.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Clock, console_login, db_of, make_account, make_app, write_config
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from models import Ticket
from models.communities import add_community
from models.kpi import breakdown, kpis
from models.kpi_communities import standings

T0 = datetime(2024, 5, 10, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
MAY = datetime(2024, 5, 1).date()
LATER = datetime(2099, 1, 1, tzinfo=UTC)


def _ticket(
    session: Session,
    numbers: Iterator[int],
    community: int,
    *,
    accepted_after: float | None = None,
    channel: str = "api",
    source: str | None = "12345",
    **fields: Any,
) -> None:
    number = next(numbers)
    session.add(
        Ticket(
            number=number,
            text=f"工单 {number}",
            text_key=f"k{number}",
            community_id=community,
            created_at=T0,
            updated_at=T0,
            channel=channel,
            source=source if channel == "api" else None,
            external_id=f"GD{number}" if channel == "api" else None,
            accepted_at=None if accepted_after is None else T0 + timedelta(hours=accepted_after),
            **fields,
        )
    )


def seed(app: Flask) -> tuple[int, int]:
    numbers, done = count(1), T0 + timedelta(days=1)
    with db_of(app).session() as session:
        east, west = (add_community(session, name, T0)[0].id for name in ("东湖社区", "西山社区"))
        _ticket(session, numbers, east, accepted_after=1, status="closed", resolved_at=done,
                rating=1, due_at=done)  # fmt: skip
        _ticket(session, numbers, east, accepted_after=10, status="resolved", resolved_at=done,
                rating=3, due_at=done)  # fmt: skip
        _ticket(session, numbers, east, accepted_after=2, status="in_progress", due_at=done)
        _ticket(session, numbers, east, accepted_after=1, status="rejected", due_at=done)
        _ticket(session, numbers, east, due_at=LATER)
        _ticket(session, numbers, west, accepted_after=0.5, status="closed", resolved_at=done,
                rating=2, due_at=done)  # fmt: skip
        _ticket(session, numbers, west, source="grid", accepted_after=1, status="closed",
                resolved_at=done, rating=3, due_at=done)  # fmt: skip
        _ticket(session, numbers, west, source="city-ops", due_at=LATER)
        _ticket(session, numbers, west, channel="wechat", due_at=LATER)
        _ticket(session, numbers, west, channel="phone", due_at=LATER)
    return east, west


@pytest.fixture
def street(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(backend_settings, clock=clock)
    yield app
    db_of(app).dispose()


def rates_of(app: Flask, now: datetime) -> dict[str, tuple[Any, ...]]:
    tz = app.extensions["yishiting"].settings.tz
    with db_of(app).session(read_only=True) as session:
        rows = standings(session, MAY, tz, now=now, response_hours=4)
    found = {}
    for row in rows:
        h = row.hotline
        assert h is not None
        found[row.community] = (
            h.orders,
            h.refused,
            h.response_rate,
            h.resolution_rate,
            h.satisfaction_rate,
        )
    return found


def test_the_three_12345_rates_per_community(street: Flask) -> None:
    seed(street)
    rates = rates_of(street, NOW)
    assert rates["东湖社区"] == (5, 1, 2 / 4, 2 / 3, 1 / 2)
    assert rates["西山社区"] == (1, 0, 1.0, 1.0, 1.0)  # the grid order counts in none
    assert rates["本社区"] == (0, 0, None, None, None)  # no orders: undefined, not 0


def test_an_open_order_before_its_deadline_is_not_yet_counted_unresolved(street: Flask) -> None:
    seed(street)
    # Half a day in: #3's deadline is still ahead, so only the two resolved orders are due.
    assert rates_of(street, T0 + timedelta(hours=12))["东湖社区"][3] == 1.0


def test_tickets_split_by_source_with_their_rates(street: Flask) -> None:
    seed(street)
    with db_of(street).session(read_only=True) as session:
        period = breakdown(session, since=T0 - timedelta(days=1), until=NOW)
        by_source = kpis(session, since=T0 - timedelta(days=1), until=NOW, by="source")
    shares = {s.key: (s.name, s.tickets, s.open) for s in period.sources}
    assert shares == {
        "wechat": ("微信", 1, 1),
        "12345": ("12345", 6, 2),
        "on_behalf": ("代居民登记", 1, 1),
        "grid": ("网格平台", 1, 0),
        "other": ("其他平台", 1, 1),
    }
    hotline = next(s for s in period.sources if s.key == "12345")
    assert hotline.resolution_rate == 3 / 5 and hotline.satisfaction_rate == 2 / 3
    assert [(r.group, r.tickets) for r in by_source] == [
        ("12345", 6),
        ("代居民登记", 1),
        ("其他平台", 1),
        ("微信", 1),
        ("网格平台", 1),
        ("合计", 10),
    ]


def test_the_report_command_splits_by_source(street: Flask, tmp_path: Path) -> None:
    seed(street)
    settings = street.extensions["yishiting"].settings
    config = write_config(tmp_path / "report.toml", app={"database_url": settings.app.database_url})
    done = CliRunner().invoke(
        main,
        ["report", "--config", str(config), "--by", "source", "--month", "2024-05", "--json"],
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["by"] == "source"
    assert {row["group"]: row["tickets"] for row in data["rows"]} == {
        "12345": 6,
        "代居民登记": 1,
        "其他平台": 1,
        "微信": 1,
        "网格平台": 1,
    }


def _table(html: str, table_id: str) -> list[list[str]]:
    import re

    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr data-community[^>]*>(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]


def test_the_street_dashboard_and_its_workbook_show_the_12345_rates(street: Flask) -> None:
    seed(street)
    make_account(street, "street-boss", "admin")
    client = street.test_client()
    assert console_login(client, "street-boss").status_code == 303
    html = client.get("/admin/street?month=2024-05").get_data(as_text=True)
    assert _table(html, "street-hotline") == [
        ["东湖社区", "5", "1", "50.0%", "66.7%", "50.0%"],
        ["西山社区", "1", "0", "100.0%", "100.0%", "100.0%"],
        ["本社区", "0", "0", "—", "—", "—"],
        ["全街道", "6", "1", "60.0%", "75.0%", "66.7%"],
    ]
    assert "4 小时（认领时限）内接单" in html

    book = load_workbook(io.BytesIO(client.get("/admin/street.xlsx?month=2024-05").get_data()))
    sheet = book["12345三率"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == ["社区", "12345工单", "退单", "响应率", "解决率", "满意率"]
    assert rows[-1] == ["全街道", 6, 1, 0.6, 0.75, 0.6667]
    assert rows[0] == ["东湖社区", 5, 1, 0.5, 0.6667, 0.5]

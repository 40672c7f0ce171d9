"""街道看板: each community's 接诉即办 rates for a month, ranked — by `report --by community`,
on the console's street page and in its CSV and XLSX exports — and a community's own 工作台."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import (
    Clock,
    LiveServer,
    browser_login,
    console_login,
    db_of,
    make_account,
    make_app,
)
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from models import ConsoleAccount, Ticket
from models.communities import add_community

# 2024-05 in Shanghai: from 2024-04-30 16:00 to 2024-05-31 16:00 UTC.
T0 = datetime(2024, 5, 10, 2, 0, tzinfo=UTC)
FIRST_LOCAL_HOUR_OF_MAY = datetime(2024, 4, 30, 16, 30, tzinfo=UTC)
FIRST_LOCAL_HOUR_OF_JUNE = datetime(2024, 5, 31, 16, 30, tzinfo=UTC)


@dataclass
class Street:
    east: int  # 东湖社区: four tickets, every rate 50 %
    west: int  # 西山社区: three tickets, one of them rejected
    south: int  # 南岭社区: no tickets


def _ticket(
    session: Session,
    numbers: Iterator[int],
    community: int,
    created: datetime = T0,
    accepted_after: float | None = None,
    **fields: Any,
) -> None:
    number = next(numbers)
    session.add(
        Ticket(
            number=number,
            text=f"诉求 {number}",
            text_key=f"k{number}",
            community_id=community,
            created_at=created,
            updated_at=created,
            accepted_at=None
            if accepted_after is None
            else created + timedelta(hours=accepted_after),
            **fields,
        )
    )


def seed_street(app: Flask) -> Street:
    """Three communities besides the first (本社区, no tickets) and May 2024's tickets."""
    numbers = count(1)
    done = T0 + timedelta(days=1)
    with db_of(app).session() as session:
        east, west, south = (
            add_community(session, name, T0)[0].id for name in ("东湖社区", "西山社区", "南岭社区")
        )
        # 东湖: answered in 1 h and 2 h (inside the 4 h window), 10 h (outside), never.
        _ticket(session, numbers, east, accepted_after=1, status="closed", resolved_at=done,
                on_time=True, rating=1)  # fmt: skip
        _ticket(session, numbers, east, accepted_after=2, status="closed", resolved_at=done,
                on_time=False, rating=3)  # fmt: skip
        _ticket(session, numbers, east, accepted_after=10, status="in_progress", due_at=done)
        _ticket(session, numbers, east)
        # Just after midnight of 1 June in Shanghai: June's, not May's.
        _ticket(session, numbers, east, created=FIRST_LOCAL_HOUR_OF_JUNE)
        # 西山: answered in time, resolved on time, 基本满意; a rejected one; and one filed
        # just after midnight of 1 May in Shanghai (still 30 April in UTC): May's.
        _ticket(session, numbers, west, accepted_after=0.5, status="closed", resolved_at=done,
                on_time=True, rating=2)  # fmt: skip
        _ticket(session, numbers, west, status="rejected")
        _ticket(session, numbers, west, created=FIRST_LOCAL_HOUR_OF_MAY)
    return Street(east, west, south)


EXPECTED = [
    # 西山: response 1/2, resolution 1/2, satisfaction 1/1, on time 1/1 → 5 + 22.5 + 45
    {"community": "西山社区", "tickets": 3, "open": 1, "overdue": 0, "response_rate": 0.5,
     "resolution_rate": 0.5, "satisfaction_rate": 1.0, "on_time_rate": 1.0, "score": 72.5,
     "rank": 1},
    # 东湖: every rate 2/4 or 1/2
    {"community": "东湖社区", "tickets": 4, "open": 2, "overdue": 1, "response_rate": 0.5,
     "resolution_rate": 0.5, "satisfaction_rate": 0.5, "on_time_rate": 0.5, "score": 50.0,
     "rank": 2},
    # No tickets: every rate undefined; ranked after, by name.
    {"community": "南岭社区", "tickets": 0, "open": 0, "overdue": 0, "response_rate": None,
     "resolution_rate": None, "satisfaction_rate": None, "on_time_rate": None, "score": None,
     "rank": 3},
    {"community": "本社区", "tickets": 0, "open": 0, "overdue": 0, "response_rate": None,
     "resolution_rate": None, "satisfaction_rate": None, "on_time_rate": None, "score": None,
     "rank": 4},
]  # fmt: skip


@pytest.fixture
def street_app(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(backend_settings, clock=clock)
    yield app
    db_of(app).dispose()


def report(config_path: Path, settings: Settings, *args: str) -> Result:
    """`yishiting report` on the test's database (PostgreSQL's named by the environment)."""
    env = {"YISHITING_APP_DATABASE_URL": settings.app.database_url}
    return CliRunner().invoke(main, ["report", "--config", str(config_path), *args], env=env)


def json_lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def signed_in(app: Flask, username: str, community: int | None = None) -> FlaskClient:
    make_account(app, username, "admin")
    if community is not None:
        with db_of(app).session() as session:
            session.execute(
                update(ConsoleAccount)
                .where(ConsoleAccount.username == username)
                .values(community_id=community)
            )
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def street_table(html: str) -> list[list[str]]:
    body = html.split('id="street-table"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr data-community[^>]*>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def as_page(row: dict[str, Any]) -> list[str]:
    """A JSON line as the page and the CSV write it."""

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate * 100:.1f}%"

    rates = [pct(row[k]) for k in ("response_rate", "resolution_rate", "satisfaction_rate",
                                   "on_time_rate")]  # fmt: skip
    score = "—" if row["score"] is None else f"{row['score']:.1f}"
    counts = [str(row[k]) for k in ("tickets", "open", "overdue")]
    return [str(row["rank"]), row["community"], *counts, *rates, score]


def test_report_by_community_ranks_the_month_with_undefined_rates_as_null(
    street_app: Flask, backend_settings: Settings, config_path: Path
) -> None:
    seed_street(street_app)
    lines = json_lines(report(config_path, backend_settings, "--by", "community", "--json",
                              "--month", "2024-05"))  # fmt: skip
    assert [{k: v for k, v in line.items() if k != "month"} for line in lines] == EXPECTED
    assert {line["month"] for line in lines} == {"2024-05"}

    # June has only 东湖's ticket filed after local midnight: one ticket, nobody answered it.
    june = json_lines(report(config_path, backend_settings, "--by", "community", "--json",
                             "--month", "2024-06"))  # fmt: skip
    assert june[0]["community"] == "东湖社区" and june[0]["tickets"] == 1
    assert june[0]["response_rate"] == 0.0 and june[0]["satisfaction_rate"] is None

    # A community's own figures, with its place among all.
    own = json_lines(report(config_path, backend_settings, "--by", "community", "--json",
                            "--month", "2024-05", "--community", "东湖社区"))  # fmt: skip
    assert [(o["community"], o["rank"], o["tickets"]) for o in own] == [("东湖社区", 2, 4)]


def test_the_street_page_and_its_exports_show_the_same_ranking(
    street_app: Flask, backend_settings: Settings, config_path: Path
) -> None:
    seed_street(street_app)
    lines = json_lines(report(config_path, backend_settings, "--by", "community", "--json",
                              "--month", "2024-05"))  # fmt: skip
    client = signed_in(street_app, "street-boss")

    page = client.get("/admin/street?month=2024-05")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert street_table(html) == [as_page(line) for line in lines]
    assert 'href="/admin/street"' in html  # the street account's menu has the page
    trend = client.get("/admin/street/trend?month=2024-05").get_data(as_text=True)
    assert 'data-src="/admin/street/trend?month=2024-05"' in html  # the page fetches it
    months = re.findall(r'<th class="num">(\d{4}-\d\d)</th>', trend)
    assert months == ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert re.findall(r'<tr data-community="([^"]+)"', trend) == [x["community"] for x in lines]
    assert '72.5 <small class="muted">第1</small>' in trend  # 西山 in May

    answer = client.get("/admin/street.csv?month=2024-05")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "street-2024-05.csv" in answer.headers["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert header[:3] == ["排名", "社区", "诉求数"] and "满意率" in header
    assert rows == [[c.replace("—", "") for c in as_page(line)] for line in lines]

    answer = client.get("/admin/street.xlsx?month=2024-05")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    assert sheet is not None and sheet.title == "2024-05"
    header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:2] == ["排名", "社区"]
    keys = ("rank", "community", "tickets", "open", "overdue", "response_rate",
            "resolution_rate", "satisfaction_rate", "on_time_rate", "score")  # fmt: skip
    assert cells == [[line[k] for k in keys] for line in lines]


def test_each_community_drills_down_to_its_own_dashboard(street_app: Flask) -> None:
    street = seed_street(street_app)
    with db_of(street_app).session() as session:  # today: two in 东湖, one in 西山
        numbers = count(100)
        now = datetime.now(UTC)
        for community in (street.east, street.east, street.west):
            _ticket(session, numbers, community, created=now)
    client = signed_in(street_app, "street-boss")
    html = client.get("/admin/street").get_data(as_text=True)
    assert f'href="/admin?community={street.east}"' in html

    east = client.get(f"/admin?community={street.east}").get_data(as_text=True)
    assert "工作台 · 东湖社区" in east and _today_new(east) == 2
    assert _today_new(client.get("/admin").get_data(as_text=True)) == 3  # the whole street
    assert client.get("/admin?community=9999").status_code == 404


def test_a_community_admin_sees_only_their_community_and_not_the_street_page(
    street_app: Flask,
) -> None:
    street = seed_street(street_app)
    with db_of(street_app).session() as session:
        numbers = count(100)
        now = datetime.now(UTC)
        for community in (street.east, street.west, street.west):
            _ticket(session, numbers, community, created=now)
    client = signed_in(street_app, "east-admin", community=street.east)

    assert client.get("/admin/street").status_code == 403
    assert client.get("/admin/street.csv").status_code == 403
    assert client.get("/admin/street.xlsx").status_code == 403
    assert client.get("/admin/street/trend").status_code == 403
    html = client.get("/admin").get_data(as_text=True)
    assert _today_new(html) == 1 and "工作台 · 东湖社区" in html
    assert 'href="/admin/street"' not in html  # no menu entry for a page it may not open
    assert client.get(f"/admin?community={street.west}").status_code == 403
    assert _today_new(client.get(f"/admin?community={street.east}").get_data(as_text=True)) == 1


def _today_new(html: str) -> int:
    match = re.search(r"<b>(\d+)</b><span>今日新增</span>", html)
    assert match, "no 今日新增 tile"
    return int(match.group(1))


def test_a_bad_month_is_refused_in_one_line(config_path: Path, settings: Settings) -> None:
    result = report(config_path, settings, "--by", "community", "--json", "--month", "2024-13")
    assert result.exit_code == 2
    assert "--month: '2024-13' is not a month: write it as YYYY-MM" in result.output
    assert result.stdout.count("Error") <= 1


def test_without_a_month_the_report_is_of_this_month(
    config_path: Path, settings: Settings, app: Flask
) -> None:
    with db_of(app).session() as session:
        _ticket(session, count(1), 1, created=datetime.now(UTC), accepted_after=0.1,
                status="accepted")  # fmt: skip
    lines = json_lines(report(config_path, settings, "--by", "community", "--json"))
    this_month = datetime.now(UTC).astimezone(settings.tz).strftime("%Y-%m")
    assert lines == [
        {"month": this_month, "community": "本社区", "tickets": 1, "open": 1, "overdue": 0,
         "response_rate": 1.0, "resolution_rate": 0.0, "satisfaction_rate": None,
         "on_time_rate": None, "score": 18.18, "rank": 1}
    ]  # fmt: skip
    text = report(config_path, settings, "--by", "community").stdout.splitlines()
    assert text[0] == f"社区排名 {this_month}"
    # The columns of the console page and its exports, in their order.
    assert text[1].split() == ["排名", "社区", "诉求数", "未办结", "超时", "响应率", "解决率",
                               "满意率", "按时率", "综合得分"]  # fmt: skip
    assert text[2].split() == ["1", "本社区", "1", "1", "0", "100.0%", "0.0%", "—", "—", "18.2"]


def test_month_and_community_narrow_the_other_reports_too(
    app: Flask, settings: Settings, config_path: Path
) -> None:
    seed_street(app)
    whole = json.loads(report(config_path, settings, "--by", "all", "--json", "--month",
                              "2024-05").stdout)  # fmt: skip
    assert (whole["from"], whole["to"], whole["total"]["tickets"]) == (
        "2024-05-01",
        "2024-05-31",
        7,
    )
    east = json.loads(report(config_path, settings, "--by", "all", "--json", "--month",
                             "2024-05", "--community", "东湖社区").stdout)  # fmt: skip
    assert east["total"]["tickets"] == 4 and east["total"]["resolution_rate"] == 0.5

    unknown = report(config_path, settings, "--by", "all", "--community", "无此社区")
    assert unknown.exit_code == 1 and "no community named '无此社区'" in unknown.output
    both = report(config_path, settings, "--month", "2024-05", "--from", "2024-05-01")
    assert both.exit_code == 2 and "--month replaces --from and --to" in both.output


def test_the_browser_shows_the_ranking_then_the_trend_and_drills_down(
    app: Flask, page: Any
) -> None:
    street = seed_street(app)
    make_account(app, "street-boss")
    with LiveServer(app) as server:
        browser_login(page, server.url, "street-boss")
        page.click("nav.mainnav >> text=街道看板")
        page.fill("input[name=month]", "2024-05")
        page.click("form[aria-label=选择月份] button[type=submit]")
        page.wait_for_selector("#street-trend-table")  # fetched after the page
        first = page.locator("#street-table tbody tr").first
        assert first.get_attribute("data-community") == "西山社区"
        assert page.locator("#street-trend-table tbody tr").count() == 4
        page.screenshot(path="tests/artifacts/console_street.png", full_page=True)
        page.click("#street-table >> text=东湖社区")
        page.wait_for_url(f"{server.url}/admin?community={street.east}")
        assert "东湖社区" in page.locator("h1").inner_text()

"""Key figures: every rate, the undefined cases, grouping, the period's edges, `report`."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Grid, Person, Ticket, topic_by_name
from models.kpi import NO_GRID, NO_TOPIC, TOTAL, KpiRow, kpis

T0 = datetime(2024, 5, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
MAY = {"since": datetime(2024, 5, 1, tzinfo=UTC), "until": datetime(2024, 6, 1, tzinfo=UTC)}


class Tickets:
    """Builds tickets in known states directly with the ORM."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.numbers = count(1)
        self.resident = Person(openid="o_resident", first_seen_at=T0, last_seen_at=T0)
        session.add(self.resident)
        session.flush()

    def add(
        self,
        *,
        created: datetime = T0,
        topic: str | None = None,
        grid: Grid | None = None,
        accepted_after: float | None = None,
        **fields: Any,
    ) -> Ticket:
        number = next(self.numbers)
        ticket = Ticket(
            number=number,
            person_id=self.resident.id,
            text=f"诉求 {number}",
            text_key=f"k{number}",
            topic=topic_by_name(self.session, topic) if topic else None,
            grid_id=grid.id if grid else None,
            created_at=created,
            updated_at=created,
            accepted_at=(
                created + timedelta(hours=accepted_after) if accepted_after is not None else None
            ),
            **fields,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket


def _seed_month(session: Session) -> None:
    """10 tickets in May: 7 物业服务, 1 电梯设施, 2 without a topic (see the figures below)."""
    one, two = Grid(name="一网格"), Grid(name="二网格")
    session.add_all([one, two])
    session.flush()
    t = Tickets(session)
    done = T0 + timedelta(days=1)
    # 物业服务
    t.add(topic="物业服务", grid=one)  # new, never answered
    t.add(topic="物业服务", grid=one, accepted_after=2, status="in_progress")
    t.add(
        topic="物业服务",
        grid=one,
        accepted_after=4,
        status="resolved",
        resolved_at=done,
        on_time=True,
        rating=1,
    )
    t.add(  # resolved late, rated 不满意, reopened, resolved again, closed
        topic="物业服务",
        grid=one,
        accepted_after=6,
        status="closed",
        resolved_at=done,
        closed_at=done,
        on_time=False,
        rating=3,
        reopen_count=1,
    )
    t.add(topic="物业服务", grid=two, status="rejected")
    t.add(topic="物业服务", grid=two, status="closed", closed_at=done)  # closed, not resolved
    # Reopened after a 基本满意: resolved once (resolved_at cleared), no on-time verdict now.
    t.add(
        topic="物业服务",
        grid=two,
        accepted_after=10,
        status="reopened",
        rating=2,
        reopen_count=1,
    )
    # 电梯设施: one new ticket, nothing to measure but its resolution (0 of 1).
    t.add(topic="电梯设施", grid=one)
    # No topic, no grid: both rejected, one answered first.
    t.add(status="rejected")
    t.add(status="rejected", accepted_after=1)


def _by_group(rows: list[KpiRow]) -> dict[str, KpiRow]:
    return {row.group: row for row in rows}


def test_every_figure_per_topic_with_undefined_rates_as_none(backend_settings: Settings) -> None:
    db = Database(backend_settings)
    try:
        with db.session() as session:
            _seed_month(session)
        with db.session(read_only=True) as session:
            rows = kpis(session, **MAY, by="topic")
    finally:
        db.dispose()
    assert [r.group for r in rows] == ["物业服务", NO_TOPIC, "电梯设施", TOTAL]
    assert [r.total for r in rows] == [False, False, False, True]
    groups = _by_group(rows)
    assert asdict(groups["物业服务"]) == dict(
        group="物业服务",
        tickets=7,
        responded=4,
        mean_response_hours=5.5,  # 2, 4, 6, 10 hours
        median_response_hours=5.0,
        resolved=2,  # the resolved one and the one closed after resolution
        resolution_rate=pytest.approx(2 / 6),  # the rejected ticket does not count
        on_time_rate=0.5,
        satisfaction_rate=pytest.approx(2 / 3),  # 满意 and 基本满意 of three ratings
        reopen_rate=pytest.approx(2 / 3),  # two reopened of three ever resolved
        rejected=1,
        total=False,
    )
    assert groups["电梯设施"] == KpiRow(
        group="电梯设施",
        tickets=1,
        responded=0,
        mean_response_hours=None,
        median_response_hours=None,
        resolved=0,
        resolution_rate=0.0,  # defined: 0 of 1
        on_time_rate=None,
        satisfaction_rate=None,
        reopen_rate=None,
        rejected=0,
    )
    unclassified = groups[NO_TOPIC]
    assert (unclassified.tickets, unclassified.rejected, unclassified.responded) == (2, 2, 1)
    assert unclassified.resolution_rate is None  # every ticket rejected: 0 / 0
    assert unclassified.mean_response_hours == unclassified.median_response_hours == 1.0
    total = groups[TOTAL]
    assert (total.tickets, total.responded, total.resolved, total.rejected) == (10, 5, 2, 3)
    assert total.mean_response_hours == pytest.approx(4.6)  # 1, 2, 4, 6, 10
    assert total.median_response_hours == 4.0
    assert total.resolution_rate == pytest.approx(2 / 7)
    assert total.on_time_rate == 0.5
    assert total.satisfaction_rate == pytest.approx(2 / 3)
    assert total.reopen_rate == pytest.approx(2 / 3)


def test_grouping_by_grid_and_all(backend_settings: Settings) -> None:
    db = Database(backend_settings)
    try:
        with db.session() as session:
            _seed_month(session)
        with db.session(read_only=True) as session:
            by_grid = kpis(session, **MAY, by="grid")
            overall = kpis(session, **MAY, by="all")
            with pytest.raises(ValueError, match="by must be one of"):
                kpis(session, **MAY, by="building")
    finally:
        db.dispose()
    assert [r.group for r in by_grid] == ["一网格", "二网格", NO_GRID, TOTAL]
    groups = _by_group(by_grid)
    one, two = groups["一网格"], groups["二网格"]
    assert (one.tickets, one.responded, one.resolved, one.rejected) == (5, 3, 2, 0)
    assert one.resolution_rate == pytest.approx(2 / 5)
    assert one.median_response_hours == 4.0
    assert (two.tickets, two.resolved, two.rejected) == (3, 0, 1)
    assert two.resolution_rate == 0.0
    assert two.reopen_rate == 1.0  # its one reopened ticket was resolved once
    assert two.on_time_rate is None
    assert groups[NO_GRID].tickets == 2
    assert overall == [by_grid[-1]]  # the total alone


def test_the_period_includes_since_and_excludes_until(settings: Settings) -> None:
    since, until = datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 8, tzinfo=UTC)
    db = Database(settings)
    try:
        with db.session() as session:
            t = Tickets(session)
            for created in (
                since - timedelta(microseconds=1),
                since,
                until - timedelta(microseconds=1),
                until,
            ):
                t.add(created=created, topic="噪音扰民")
        with db.session(read_only=True) as session:
            rows = kpis(session, since=since, until=until)
            empty = kpis(session, since=until + timedelta(days=1), until=until + timedelta(days=2))
    finally:
        db.dispose()
    assert [(r.group, r.tickets) for r in rows] == [("噪音扰民", 2), (TOTAL, 2)]
    assert [r.group for r in empty] == [TOTAL]
    assert empty[0].tickets == 0
    assert empty[0].resolution_rate is None and empty[0].mean_response_hours is None


def _report(config_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["report", "--config", str(config_path), *args])
    assert result.exit_code == 0, result.output
    return result


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_report_json_and_text(settings: Settings, config_path: Path) -> None:
    db = Database(settings)
    with db.session() as session:
        _seed_month(session)
    db.dispose()
    result = _report(config_path, "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    data = json.loads(result.stdout)  # nothing else on stdout
    assert (data["from"], data["to"], data["by"]) == ("2024-05-01", "2024-05-31", "topic")
    assert [r["group"] for r in data["rows"]] == ["物业服务", NO_TOPIC, "电梯设施"]
    assert data["rows"][0] == {
        "group": "物业服务",
        "tickets": 7,
        "responded": 4,
        "mean_response_hours": 5.5,
        "median_response_hours": 5.0,
        "resolved": 2,
        "resolution_rate": 0.3333,
        "on_time_rate": 0.5,
        "satisfaction_rate": 0.6667,
        "reopen_rate": 0.6667,
        "rejected": 1,
    }
    assert data["rows"][2]["on_time_rate"] is None
    assert data["total"]["group"] == TOTAL and data["total"]["tickets"] == 10

    text = _report(config_path, "--from", "2024-05-01", "--to", "2024-05-31").stdout
    title, header, *lines = text.splitlines()
    assert title == "诉求统计 2024-05-01 至 2024-05-31"
    assert header.split() == [
        "类别",
        "诉求数",
        "响应",
        "平均响应(小时)",
        "解决率",
        "按时率",
        "满意率",
        "重开率",
        "退回",
    ]
    assert lines[0].split() == [
        "物业服务",
        "7",
        "4",
        "5.5",
        "33.3%",
        "50.0%",
        "66.7%",
        "66.7%",
        "1",
    ]
    assert lines[2].split() == ["电梯设施", "1", "0", "—", "0.0%", "—", "—", "—", "0"]
    assert lines[-1].split()[0:2] == [TOTAL, "10"]
    assert len({_width(line) for line in [header, *lines]}) == 1  # aligned

    by_grid = _report(config_path, "--from", "2024-05-01", "--to", "2024-05-31", "--by", "grid")
    assert by_grid.stdout.splitlines()[1].split()[0] == "网格"
    overall = json.loads(
        _report(
            config_path, "--from", "2024-05-01", "--to", "2024-05-31", "--by", "all", "--json"
        ).stdout
    )
    assert overall["rows"] == [] and overall["total"]["tickets"] == 10


def test_report_days_are_local_and_to_is_inclusive(settings: Settings, config_path: Path) -> None:
    # Asia/Shanghai is UTC+8: 2024-05-01 00:00 local is 2024-04-30 16:00 UTC.
    start = datetime(2024, 4, 30, 16, 0, tzinfo=UTC)
    end = datetime(2024, 5, 31, 16, 0, tzinfo=UTC)  # 2024-06-01 00:00 local
    db = Database(settings)
    with db.session() as session:
        t = Tickets(session)
        for created in (start - timedelta(seconds=1), start, end - timedelta(seconds=1), end):
            t.add(created=created)
    db.dispose()
    result = _report(config_path, "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    assert json.loads(result.stdout)["total"]["tickets"] == 2
    one_day = _report(config_path, "--from", "2024-05-31", "--to", "2024-05-31", "--json")
    assert json.loads(one_day.stdout)["total"]["tickets"] == 1


def test_report_defaults_to_the_last_30_days(settings: Settings, config_path: Path) -> None:
    now = datetime.now(UTC)
    db = Database(settings)
    with db.session() as session:
        t = Tickets(session)
        t.add(created=now - timedelta(days=1), topic="停车交通")
        t.add(created=now - timedelta(days=40), topic="停车交通")
    db.dispose()
    data = json.loads(_report(config_path, "--json").stdout)
    today = now.astimezone(settings.tz).date()
    assert data["to"] == today.isoformat()
    assert data["from"] == (today - timedelta(days=29)).isoformat()
    assert [(r["group"], r["tickets"]) for r in data["rows"]] == [("停车交通", 1)]


def test_report_refuses_a_backwards_period(config_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["report", "--config", str(config_path), "--from", "2024-05-02", "--to", "2024-05-01"],
    )
    assert result.exit_code == 2 and "is after" in result.stderr

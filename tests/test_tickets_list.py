"""`tickets list` and its filters, `tickets show` with assignee and timeline, the digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Grid, OutboxMessage, Person, Ticket, TicketEvent, topic_by_name
from models.digest import queue_morning_digest

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _person(session: Session, openid: str, now: datetime, **fields: Any) -> Person:
    person = Person(openid=openid, first_seen_at=now, last_seen_at=now, **fields)
    session.add(person)
    session.flush()
    return person


def _ticket(
    session: Session,
    number: int,
    now: datetime,
    *,
    topic: str | None = None,
    grid: Grid | None = None,
    assignee: Person | None = None,
    due_in_hours: float | None = None,
    **fields: Any,
) -> Ticket:
    resident = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
    ticket = Ticket(
        number=number,
        person_id=resident.id,
        text=f"第{number}件事：楼道里的灯坏了好几天了，晚上回家一片漆黑，老人上下楼很危险",
        text_key=f"k{number}",
        topic=topic_by_name(session, topic) if topic else None,
        grid_id=grid.id if grid else None,
        assignee_id=assignee.id if assignee else None,
        due_at=now + timedelta(hours=due_in_hours) if due_in_hours is not None else None,
        created_at=now - timedelta(days=3),
        updated_at=now,
        **fields,
    )
    session.add(ticket)
    session.flush()
    return ticket


def _seed(settings: Settings, now: datetime) -> None:
    """Five tickets: #1 and #5 overdue and open, #3 past due but resolved."""
    db = Database(settings)
    with db.session() as session:
        _person(session, "o_resident", now)
        li = _person(session, "o_staff_li", now, name="李网格", staff_level=1)
        zhao = _person(session, "o_staff_zhao", now, name="赵主任", staff_level=2)
        _person(session, "o_staff_idle", now, name="王闲", staff_level=1)
        one, two = Grid(name="一网格"), Grid(name="二网格")
        session.add_all([one, two])
        session.flush()
        first = _ticket(
            session,
            1,
            now,
            topic="物业服务",
            grid=one,
            assignee=li,
            due_in_hours=-2,
            status="accepted",
            assigned_reason="grid",
            place="16-2-501",
            level=1,
        )
        created = first.created_at
        session.add_all(
            [
                TicketEvent(ticket_id=first.id, at=created, action="filed", to_status="new"),
                TicketEvent(ticket_id=first.id, at=created, action="assigned", note="李网格"),
                TicketEvent(
                    ticket_id=first.id,
                    at=datetime(2024, 5, 10, 1, 30, tzinfo=UTC),  # 09:30 in Shanghai
                    actor_id=li.id,
                    action="accepted",
                    from_status="new",
                    to_status="accepted",
                    note="明天上午去看",
                ),
            ]
        )
        _ticket(session, 2, now, topic="电梯设施", grid=two, assignee=li, due_in_hours=24)
        _ticket(
            session,
            3,
            now,
            topic="物业服务",
            grid=one,
            assignee=zhao,
            due_in_hours=-24,
            status="resolved",
            outcome="已更换灯泡",
            rating=1,
        )
        _ticket(session, 4, now)
        _ticket(
            session,
            5,
            now,
            topic="噪音扰民",
            grid=two,
            assignee=zhao,
            due_in_hours=-1,
            status="escalated",
            level=2,
        )
    db.dispose()


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    _seed(settings, datetime.now(UTC))
    return settings


def _run(config_path: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        main, ["tickets", *args[:1], "--config", str(config_path), *args[1:]]
    )
    assert result.exit_code == 0, result.output
    return result


def _numbers(config_path: Path, *args: str) -> list[int]:
    result = _run(config_path, "list", "--json", *args)
    return [json.loads(line)["number"] for line in result.stdout.splitlines()]


def test_list_filters(seeded: Settings, config_path: Path) -> None:
    assert _numbers(config_path) == [5, 4, 3, 2, 1]  # newest first
    assert _numbers(config_path, "--status", "new") == [4, 2]
    assert _numbers(config_path, "--status", "new", "--status", "escalated") == [5, 4, 2]
    assert _numbers(config_path, "--topic", "物业服务") == [3, 1]
    assert _numbers(config_path, "--grid", "二网格") == [5, 2]
    assert _numbers(config_path, "--assignee", "o_staff_li") == [2, 1]
    assert _numbers(config_path, "--overdue") == [1, 5]  # open and past due; oldest first
    assert _numbers(config_path, "--overdue", "--grid", "一网格") == [1]
    assert _numbers(config_path, "--limit", "2") == [5, 4]


def test_list_json_lines_have_show_keys_without_events(seeded: Settings, config_path: Path) -> None:
    [line] = _run(
        config_path, "list", "--json", "--assignee", "o_staff_li", "--overdue"
    ).stdout.splitlines()
    data = json.loads(line)
    shown = json.loads(_run(config_path, "show", "1", "--json").stdout)
    assert set(data) == set(shown) - {"events"}
    assert data["assignee"] == {"openid": "o_staff_li", "name": "李网格"}
    assert (data["assigned_reason"], data["place"], data["level"]) == ("grid", "16-2-501", 1)


def test_list_text_is_one_line_per_ticket(seeded: Settings, config_path: Path) -> None:
    lines = _run(config_path, "list").stdout.splitlines()
    assert len(lines) == 5
    fields = lines[-1].split("  ")
    assert fields[:4] == ["#1", "accepted", "物业服务", "李网格"]
    assert len(fields[-1]) == 30 and fields[-1].startswith("第1件事")
    assert lines[1].split("  ")[:5] == ["#4", "new", "(triage)", "-", "-"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--topic", "没有这类", "no topic named"),
        ("--grid", "九网格", "no grid named"),
        ("--assignee", "o_nobody", "no person with openid"),
    ],
)
def test_list_refuses_unknown_names(
    seeded: Settings, config_path: Path, option: str, value: str, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["tickets", "list", "--config", str(config_path), option, value]
    )
    assert result.exit_code == 1 and message in result.stderr


def test_show_json_has_assignee_and_timeline(seeded: Settings, config_path: Path) -> None:
    data = json.loads(_run(config_path, "show", "1", "--json").stdout)
    # The keys other tools read stay.
    assert (data["number"], data["status"], data["topic"], data["topic_confirmed"]) == (
        1,
        "accepted",
        "物业服务",
        False,
    )
    assert {"text", "created_at", "updated_at", "attachments", "score", "unsure"} <= set(data)
    assert data["assignee"] == {"openid": "o_staff_li", "name": "李网格"}
    assert data["due_at"] is not None and data["outcome"] is None and data["rating"] is None
    assert [e["action"] for e in data["events"]] == ["filed", "assigned", "accepted"]
    assert data["events"][0]["actor"] is None
    assert data["events"][2] == {
        "at": "2024-05-10T01:30:00+00:00",
        "actor": "o_staff_li",
        "action": "accepted",
        "from": "new",
        "to": "accepted",
        "note": "明天上午去看",
    }
    unassigned = json.loads(_run(config_path, "show", "4", "--json").stdout)
    assert unassigned["assignee"] is None and unassigned["events"] == []
    resolved = json.loads(_run(config_path, "show", "3", "--json").stdout)
    assert (resolved["outcome"], resolved["rating"]) == ("已更换灯泡", 1)


def test_show_text_prints_the_timeline_in_local_time(seeded: Settings, config_path: Path) -> None:
    text = _run(config_path, "show", "1").stdout
    assert text.startswith("#1  物业服务  accepted\n")
    assert "assignee: 李网格 o_staff_li (grid)" in text
    assert "  2024-05-10 09:30  accepted  o_staff_li  new→accepted  明天上午去看" in text
    assert "filed  system  →new" in text


def _digests(settings: Settings) -> dict[str, dict[str, Any]]:
    """The queued digests by their recipient's openid, each with its dedupe key."""
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            rows = session.execute(
                select(Person.openid, OutboxMessage.payload, OutboxMessage.dedupe_key)
                .join(Person, Person.id == OutboxMessage.person_id)
                .where(OutboxMessage.kind == "staff.digest")
            ).all()
            return {openid: {**payload, "key": key} for openid, payload, key in rows}
    finally:
        db.dispose()


def _queue(settings: Settings, now: datetime) -> int:
    db = Database(settings)
    try:
        with db.session() as session:
            return queue_morning_digest(session, now, SHANGHAI)
    finally:
        db.dispose()


def test_digest_is_queued_once_a_day_per_staff_member(backend_settings: Settings) -> None:
    settings = backend_settings
    now = datetime(2024, 5, 10, 23, 30, tzinfo=UTC)  # 07:30 on 11 May in Shanghai
    _seed(settings, now)
    assert _queue(settings, now) == 2
    assert _queue(settings, now + timedelta(hours=3)) == 0  # same local day
    digests = _digests(settings)
    assert set(digests) == {"o_staff_li", "o_staff_zhao"}  # not the idle one
    li = digests["o_staff_li"]
    assert li["key"] == f"staff.digest:2024-05-11:{_person_id(settings, 'o_staff_li')}"
    assert (li["date"], li["open"], li["overdue"]) == ("2024-05-11", 2, 1)
    assert li["tickets"] == [
        {"number": 1, "topic": "物业服务", "due_at": "2024-05-10T21:30:00+00:00", "overdue": True},
        {"number": 2, "topic": "电梯设施", "due_at": "2024-05-11T23:30:00+00:00", "overdue": False},
    ]
    zhao = digests["o_staff_zhao"]
    assert (zhao["open"], zhao["overdue"]) == (1, 1)  # the resolved #3 is not open
    assert [t["number"] for t in zhao["tickets"]] == [5]
    assert _queue(settings, now + timedelta(days=1)) == 2  # the next morning


def _person_id(settings: Settings, openid: str) -> int:
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            return session.scalars(select(Person.id).where(Person.openid == openid)).one()
    finally:
        db.dispose()


def test_digest_lists_ten_tickets_oldest_deadline_first(settings: Settings) -> None:
    now = datetime(2024, 5, 11, 0, 0, tzinfo=UTC)
    db = Database(settings)
    with db.session() as session:
        _person(session, "o_resident", now)
        li = _person(session, "o_staff_li", now, name="李网格", staff_level=1)
        resident_helper = _person(session, "o_helper", now)  # not staff: no digest
        for number in range(1, 13):
            due = None if number in (1, 2) else 20 - number  # #12 due soonest, #3 latest
            _ticket(session, number, now, assignee=li, due_in_hours=due)
        _ticket(session, 13, now, assignee=resident_helper, due_in_hours=-5)
    db.dispose()
    assert _queue(settings, now) == 1
    digest = _digests(settings)["o_staff_li"]
    assert (digest["open"], digest["overdue"]) == (12, 0)
    assert [t["number"] for t in digest["tickets"]] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert all(t["topic"] is None for t in digest["tickets"])

"""`residents export|erase OPENID`: a resident's rights of access and erasure under PIPL,
audited, with the committee's figures (KPIs, poll tallies) unchanged by an erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, Clock, WeChat, db_of, make_app
from flask import Flask
from sqlalchemy import select, text

from bot.cli import main
from bot.config import Settings
from models import Base, Person, Ticket
from models.kpi import kpis
from models.places import Building, Grid, approve_binding
from models.polls import Poll, PollSpec, create_poll, tally
from models.privacy import ERASED_TEXT, PrivacyAudit
from models.privacy_export import COVERED, person_references
from models.staff import add_staff

OPENID = "o_resident_wang"
REPORT = "16号楼2单元楼道的灯坏了好几天了，晚上很黑"
PHONE = "13812345678"


def run(config_path: Path, command: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(
        main, ["residents", command, "--config", str(config_path), *args], input=stdin
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Flask:
    """A grid with building 16, a person-unit poll on it; 王 binds (with a phone), reports
    a problem that gets resolved and rated, and votes; 李 votes too."""
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
        spec = PollSpec(
            title="16号楼前道路重铺",
            options=["沥青", "水泥"],
            closes_at=datetime.now(UTC) + timedelta(days=3),
            scope="buildings",
            buildings=["16"],
        )
        create_poll(session, spec, datetime.now(UTC))
    wechat = WeChat(app.test_client(), settings)
    for openid, room, choice in ((OPENID, "16-2-501", "A"), ("o_resident_li", "16-1-101", "B")):
        resident = Chat(wechat, openid)
        resident.say(f"绑定 {room} {PHONE if openid == OPENID else ''}".strip())
        with db_of(app).session() as session:
            person = session.scalars(select(Person).where(Person.openid == openid)).one()
            approve_binding(session, person.id, "test", datetime.now(UTC))
        assert "已记录" in (resident.say(f"投票 1 {choice}") or "")
    assert "已登记" in (Chat(wechat, OPENID).say(REPORT) or "")
    with db_of(app).session() as session:  # handled and rated, so every KPI has a value
        ticket = session.scalars(select(Ticket)).one()
        now = datetime.now(UTC)
        ticket.accepted_at, ticket.resolved_at, ticket.closed_at = now, now, now
        ticket.status, ticket.on_time, ticket.rating = "closed", True, 1
    return app


def figures(app: Flask) -> tuple[Any, ...]:
    """What the committee reports: the key figures and the poll's tally."""
    with db_of(app).session(read_only=True) as session:
        since, until = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
        poll = session.scalars(select(Poll)).one()
        return (kpis(session, since=since, until=until, by="topic"), tally(session, poll))


def everything_stored(app: Flask) -> str:
    """Every row of every table, as one text."""
    with db_of(app).engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(text(f"SELECT * FROM {table.name}"))
        )


def test_export_holds_everything_about_the_person_as_json(app: Flask, config_path: Path) -> None:
    result = run(config_path, "export", OPENID, "--actor", "张主任")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert data["person"]["openid"] == OPENID
    assert data["binding"]["household"] == "16-2-501" and data["binding"]["phone"] == PHONE
    [ticket] = data["tickets"]
    assert ticket["text"] == REPORT and ticket["rating"] == 1
    assert [e["action"] for e in ticket["events"]][0] == "filed"
    assert [b["choices"] for b in data["ballots"]] == ["A"]
    assert any(m["content"] == REPORT for m in data["inbound_messages"])
    assert data["console_accounts"] == [] and data["staff"]["tickets_held"] == []
    assert "o_resident_li" not in result.stdout  # nobody else's data
    assert "楼道的灯" in result.stdout  # UTF-8, not \\u escapes
    with db_of(app).session(read_only=True) as session:
        [entry] = session.scalars(select(PrivacyAudit)).all()
    assert (entry.action, entry.actor) == ("export", "张主任")
    assert json.loads(entry.counts)["tickets"] == 1
    assert REPORT not in entry.counts and PHONE not in entry.counts


def test_erase_leaves_no_trace_and_the_figures_unchanged(app: Flask, config_path: Path) -> None:
    before = figures(app)
    assert REPORT in everything_stored(app) and PHONE in everything_stored(app)
    result = run(config_path, "erase", OPENID, "--yes", "--actor", "张主任")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"erased: {OPENID} is now erased:")
    stored = everything_stored(app)
    for trace in (OPENID, PHONE, REPORT, "16-2-501", "好几天了，晚上很黑"):
        assert trace not in stored, trace
    assert figures(app) == before
    with db_of(app).session(read_only=True) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.text == ERASED_TEXT and ticket.rating == 1
        [entry] = session.scalars(select(PrivacyAudit)).all()
    assert (entry.action, entry.actor) == ("erase", "张主任")
    assert json.loads(entry.counts)["tickets"] == 1
    # Unknown from now on; the same WeChat user writing again is a new person.
    assert run(config_path, "export", OPENID).exit_code == 1
    again = Chat(WeChat(app.test_client(), app.extensions["yishiting"].settings), OPENID)
    assert "已登记" in (again.say(REPORT) or "")


def test_erase_asks_first_and_a_no_changes_nothing(app: Flask, config_path: Path) -> None:
    result = run(config_path, "erase", OPENID, stdin="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert PHONE in everything_stored(app)


def test_an_unknown_openid_is_a_clear_error(app: Flask, config_path: Path) -> None:
    for args in (["export"], ["erase", "--yes"]):
        result = run(config_path, *args, "o_nobody")
        assert result.exit_code == 1
        assert "no one with openid o_nobody has written to the account" in result.output
        assert "Traceback" not in result.output


def test_staff_are_handed_over_before_they_are_erased(app: Flask, config_path: Path) -> None:
    with db_of(app).session() as session:
        add_staff(session, "o_worker_li", "李", [], [], None, 1, datetime.now(UTC))
    result = run(config_path, "erase", "o_worker_li", "--yes")
    assert result.exit_code == 1 and "staff remove" in result.output
    exported = json.loads(run(config_path, "export", "o_worker_li").stdout)
    assert exported["person"]["name"] == "李" and exported["staff"]["topics"] == []


def test_every_table_that_names_a_person_is_exported() -> None:
    """A table added later is exported whole under "other"; the known ones have sections."""
    references = person_references()
    assert COVERED <= set(references)
    assert ("ticket", "person_id") in references

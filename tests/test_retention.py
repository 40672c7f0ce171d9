"""Retention: the daily housekeeping redacts what residents wrote once it is older than
`[privacy] retain_days`; and logs at INFO never hold what residents wrote or their phones."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app
from flask import Flask
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import Worker
from bot.schedule import jobs
from models import InboundMessage, JobRun, Ticket
from models.kpi import kpis
from models.places import Building, Grid, approve_binding
from models.privacy import EXPIRED_TEXT, PrivacyAudit
from models.staff import add_staff

OLD = "3号楼楼道的灯坏了好几天了，晚上很黑"
RECENT = "小区东门的路灯不亮了，请尽快修理"
PHONE = "13812345678"


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(settings, clock=clock)
    yield app
    db_of(app).dispose()


def report(app: Flask, settings: Settings, text: str) -> None:
    assert "已登记" in (Chat(WeChat(app.test_client(), settings), "o_resident").say(text) or "")


def close_ticket(app: Flask, text: str, at: datetime) -> None:
    with db_of(app).session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.text == text)).one()
        ticket.status, ticket.accepted_at, ticket.resolved_at = "closed", at, at
        ticket.closed_at, ticket.rating, ticket.on_time = at, 1, True


def housekeeping(
    app: Flask, settings: Settings, at: datetime, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run the daily job as the scheduler does at `at`; its recorded summary."""
    db = db_of(app)
    monkeypatch.setattr(jobs, "RUNTIME", jobs.Runtime(settings, db, lambda: at))
    jobs.housekeeping()
    with db.session(read_only=True) as session:
        run = session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(1)).one()
    return run.summary or ""


def texts(app: Flask) -> tuple[list[str], list[str | None]]:
    with db_of(app).session(read_only=True) as session:
        tickets = list(session.scalars(select(Ticket.text).order_by(Ticket.id)))
        inbound = list(session.scalars(select(InboundMessage.content)))
    return tickets, inbound


def key_figures(app: Flask, now: datetime) -> Any:
    with db_of(app).session(read_only=True) as session:
        return kpis(session, since=now - timedelta(days=30), until=now + timedelta(days=1))


def test_old_closed_tickets_and_messages_are_redacted_once(
    app: Flask, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    report(app, settings, OLD)
    report(app, settings, RECENT)
    close_ticket(app, OLD, now)
    figures = key_figures(app, now)

    year_later = now + timedelta(days=366)
    summary = housekeeping(app, settings, year_later, monkeypatch)
    assert "redacted 1 ticket texts" in summary and "older than 365 days" in summary
    tickets, inbound = texts(app)
    assert tickets == [EXPIRED_TEXT, RECENT]  # the open ticket keeps its text
    assert all(content is None for content in inbound)  # every message is a year old
    assert key_figures(app, now) == figures

    again = housekeeping(app, settings, year_later + timedelta(days=1), monkeypatch)
    assert "redacted 0 ticket texts, 0 notes, 0 messages" in again  # idempotent
    with db_of(app).session(read_only=True) as session:
        [entry] = session.scalars(select(PrivacyAudit)).all()
    assert (entry.action, entry.actor) == ("retention", "scheduler")
    assert json.loads(entry.counts)["tickets"] == 1


def test_nothing_younger_than_the_period_is_touched(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    report(app, settings, OLD)
    close_ticket(app, OLD, now)
    summary = housekeeping(app, settings, now + timedelta(days=364), monkeypatch)
    assert "redacted 0 ticket texts" in summary
    tickets, inbound = texts(app)
    assert tickets == [OLD] and OLD in inbound

    forever = settings.replace(privacy={"retain_days": 0})
    housekeeping(app, forever, now + timedelta(days=3650), monkeypatch)
    assert texts(app)[0] == [OLD]


def test_logs_at_info_never_hold_what_residents_wrote_or_their_phones(
    settings: Settings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A report and a binding with a phone, their pushes delivered (console channel)."""
    app = make_app(settings, clock=clock)
    db = db_of(app)
    with db.session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="3", grid_id=grid.id))
        worker = add_staff(session, "o_worker", "李", [], ["第一网格"], None, 1, datetime.now(UTC))
        grid.worker_id = worker.id  # binding requests and the grid's tickets go to 李
    resident = Chat(WeChat(app.test_client(), settings), "o_resident")
    caplog.set_level(logging.INFO)
    resident.say(f"绑定 3-1-101 {PHONE}")
    with db.session() as session:
        from models import Person

        person = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
    assert "已登记" in (resident.say(OLD) or "")
    assert Worker(settings, db).run_once().sent >= 3  # to 李: binding, ticket; to 王: approval
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "push ticket" in logged  # the console channel did log the pushes
    for secret in (OLD, "灯坏了", PHONE, PHONE[-4:] + "\n", "138****5678"):
        assert secret not in logged, secret
    db.dispose()

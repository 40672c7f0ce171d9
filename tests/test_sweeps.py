"""The scheduler's sweeps queue each push once, however often they run: the row records what
was done, and even when that record is lost (two schedulers that read the same rows, a run
replayed) the push's dedupe key names the event, so the outbox keeps one row."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import select, update

from bot.config import Settings
from bot.schedule.polls import open_and_close
from bot.schedule.tickets import policy
from models import OutboxMessage, Ticket, ticket_by_number
from models.polls import Poll, PollSpec, create_poll
from models.staff import LEVEL_COMMUNITY, add_staff
from models.sweeps import ask_followups, remind_ratings, triage_unassigned, watch_deadlines

UNSURE = "我家门口这个事情拖了很久了，想请社区帮忙看看"


def queued(app: Flask) -> Counter[tuple[str, int | None]]:
    with db_of(app).session(read_only=True) as session:
        rows = session.execute(select(OutboxMessage.kind, OutboxMessage.person_id)).all()
    return Counter((kind, person) for kind, person in rows)


def sweep_twice(app: Flask, settings: Settings, at: datetime, forget: str) -> None:
    """Every ticket sweep at `at`, then the record of `forget` lost, then every sweep again."""
    rules = policy(settings)
    for run in range(2):
        with db_of(app).session() as session:
            triage_unassigned(session, at, rules)
            watch_deadlines(session, at, rules)
            remind_ratings(session, at, rules)
            ask_followups(session, at)
            if run == 0:
                session.execute(update(Ticket).values({forget: None}))


def due_of(app: Flask, number: int, column: str) -> datetime:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        value = getattr(found, column)
    assert isinstance(value, datetime)
    return value


@pytest.fixture
def community(backend_settings: Settings, clock: Clock) -> Any:
    """On SQLite and on PostgreSQL: the outbox's insert that keeps the first row differs."""
    app = make_app(backend_settings, clock=clock)
    with db_of(app).session() as session:
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    yield app, WeChat(app.test_client(), backend_settings)
    db_of(app).dispose()


def test_each_ticket_sweep_queues_its_push_once_even_when_it_forgets_it_did(
    community: Any, backend_settings: Settings, clock: Clock
) -> None:
    settings = backend_settings
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    assert "#1" in (resident.say("3号楼电梯坏了") or "")
    assert "#2" in (Chat(wechat, "o_other").say(UNSURE) or "")  # nobody holds it
    with db_of(app).session() as session:
        add_staff(session, "o_li", "李主任", (), (), None, LEVEL_COMMUNITY, datetime.now(UTC))
    before = queued(app)

    sweep_twice(app, settings, clock() + timedelta(hours=4, minutes=1), "triage_pushed_at")
    assert sum("无人认领" in p for p in pushes_to(app, "o_li")) == 1

    sweep_twice(app, settings, due_of(app, 1, "due_at") - timedelta(hours=1), "warned_at")
    assert sum("即将到期" in p for p in pushes_to(app, "o_wang")) == 1

    assert wang.say("接单 1") and wang.say("办结 1 已更换门机控制板")
    resolved = due_of(app, 1, "resolved_at")
    sweep_twice(app, settings, resolved + timedelta(days=3, minutes=1), "rating_reminded_at")
    assert sum("还没收到您的评价" in p for p in pushes_to(app, "o_resident")) == 1

    sweep_twice(app, settings, resolved + timedelta(days=6, minutes=2), "warned_at")  # closes
    sweep_twice(app, settings, resolved + timedelta(days=28, minutes=1), "followup_asked_at")
    assert sum("问题还有吗" in p for p in pushes_to(app, "o_resident")) == 1

    new = queued(app) - before
    assert all(count == 1 for count in new.values()), new
    assert {kind for kind, _ in new} >= {
        "ticket.unassigned",
        "ticket.due_soon",
        "ticket.rating_reminder",
        "ticket.followup",
    }


def test_the_poll_sweep_announces_a_poll_once_even_when_it_forgets_it_did(
    community: Any, backend_settings: Settings
) -> None:
    settings = backend_settings
    app, wechat = community
    for openid in ("o_a", "o_b"):
        Chat(wechat, openid).say("你好")
    now = datetime.now(UTC)
    spec = PollSpec(
        title="小区门口加装减速带",
        options=["同意", "不同意"],
        closes_at=now + timedelta(days=3),
        eligibility="followers",
    )
    with db_of(app).session() as session:
        create_poll(session, spec, now)
    for _ in range(2):
        with db_of(app).session() as session:
            open_and_close(session, now, settings)
            session.execute(update(Poll).values(announced_at=None))
    told = pushes_to(app, "o_a", "poll.")
    assert len(told) == 1 and "A 同意\nB 不同意" in told[0]
    opened = [n for (kind, _), n in queued(app).items() if kind == "poll.opened"]
    assert len(opened) >= 2 and set(opened) == {1}  # each follower once

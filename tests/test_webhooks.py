"""Outbound webhooks: a key subscribes (POST /api/v1/subscriptions), the domain records each
event in its own transaction, the outbox workers deliver it signed, retried, in order per
ticket — to a fake city platform that fails 30 % of deliveries (tests/city_platform.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_keys import bearer, make_key
from city_platform import CityPlatform, verify
from click.testing import CliRunner
from conftest import CONSOLE_PASSWORD, Clock, console_login, csrf_token_of, db_of, make_app, staff
from desk import Desk
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from bot.delivery.webhooks import signature
from bot.delivery.worker import Worker
from bot.extension import yishiting
from bot.filing import policy_from
from models import OutboxMessage, Ticket
from models.api.orders import HOTLINE, Order, file_order
from models.api.webhooks import WEBHOOK
from models.lifecycle import SYSTEM, accept, resolve
from models.outbox import DEAD, PENDING, SENDING, SENT, claim_due
from models.ratings import rate

SECRET = "platform-secret-0123456789"
TICKET_EVENTS = ["ticket.created", "ticket.accepted", "ticket.resolved", "ticket.rejected"]


def fast(settings: Settings) -> Settings:
    """Deliveries tried again quickly, and a short timeout, so a test runs in seconds."""
    return settings.replace(
        api={"webhook_timeout_seconds": 1.5, "webhook_retry_max_seconds": 0.3},
        delivery={"retry_base_seconds": 0.05, "poll_seconds": 0.05, "batch_size": 10},
    )


def json_of(answer: TestResponse) -> Any:
    """An answer's JSON body (a problem's too)."""
    return json.loads(answer.get_data(as_text=True))


def subscribe(client: FlaskClient, key: str, url: str, events: list[str]) -> dict[str, object]:
    answer = client.post(
        "/api/v1/subscriptions",
        json={"url": url, "events": events, "secret": SECRET},
        headers=bearer(key),
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return dict(answer.json or {})


def send_order(
    app: Flask, client: FlaskClient, platform: CityPlatform, key: str, **order: str
) -> int:
    """The platform posts a work order through POST /api/v1/tickets."""
    return int(platform.send_order(client, key, **order)["number"])


def file_directly(app: Flask, text: str, source: str, external_id: str | None) -> int:
    """A work order filed through the domain operation the API calls; its ticket's number."""
    ys = yishiting(app)
    with ys.db.session() as db:
        order = Order(text, source, external_id, ys.conversation.clock())
        return file_order(db, order, policy_from(ys.settings), ys.rulebook).number


def unsent_webhooks(db: Database) -> int:
    with db.session(read_only=True) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == WEBHOOK, OutboxMessage.status.in_((PENDING, SENDING)))
            )
            or 0
        )


def drain(settings: Settings, workers: int = 2, seconds: float = 60) -> list[Worker]:
    """Run `workers` outbox workers (each with its own database pool, as separate processes
    would) until no webhook delivery is pending."""
    running = [Worker(settings, Database(settings), name=f"w{n}") for n in range(workers)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in running]
    for thread in threads:
        thread.start()
    probe = Database(settings)
    deadline = time.monotonic() + seconds
    try:
        while unsent_webhooks(probe) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for worker in running:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
        for worker in running:
            worker.db.dispose()
        probe.dispose()
    return running


@pytest.fixture
def webhook_app(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(fast(backend_settings), clock=clock)
    yield app
    db_of(app).dispose()


def rows_of(app: Flask) -> list[OutboxMessage]:
    with db_of(app).session(read_only=True) as session:
        found = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == WEBHOOK).order_by(OutboxMessage.id)
        )
        return list(found)


# -- delivery: signed, retried, in order, to the fake city platform --------------------------


def test_a_city_platform_gets_every_event_signed_in_order_none_lost(
    webhook_app: Flask, backend_settings: Settings, clock: Clock
) -> None:
    app, client = webhook_app, webhook_app.test_client()
    settings = fast(backend_settings)
    staff(app, "o_staff_li", "李主任", level=2)
    key = make_key(app, "tickets:read,tickets:write")
    desk = Desk(settings, clock)
    try:
        with CityPlatform(SECRET, fail_share=0.3, late_seconds=2.0) as platform:
            subscribe(client, key, platform.url, [*TICKET_EVENTS, "ticket.rated"])
            numbers = [
                send_order(
                    app,
                    client,
                    platform,
                    key,
                    text=f"{n}号楼门口路灯不亮了",
                    source=src,
                    external_id=f"{src}-{n}",
                )
                for n, src in enumerate([HOTLINE, "grid"] * 4, start=1)
            ]
            li = desk.chat("o_staff_li")
            for number in numbers[:6]:
                assert li.say(f"接单 {number}") is not None
            for number in numbers[:3]:
                li.say(f"办结 {number} 已更换灯泡")
            li.say(f"退回 {numbers[3]} 不属于本社区，属市政路灯所")
            ys = yishiting(app)
            with ys.db.session() as db:  # through the lifecycle, as the console does
                ticket = db.scalars(select(Ticket).where(Ticket.number == numbers[6])).one()
                accept(db, ticket, SYSTEM, clock())
                resolve(db, ticket, SYSTEM, "已修复", clock(), rating_days=3, followup_days=30)
                rate(db, ticket, None, 1, clock(), UTC, sla_hours=48, actor=SYSTEM)
            drain(settings, workers=2)
            expected = _expected(app)
            assert platform.bad == []
            got = platform.events()
            assert set(got) == set(expected)  # every event arrived
            once = list(dict.fromkeys(got))
            for number in numbers:  # per ticket, in the order they happened
                of_ticket = [e for e in expected if expected[e] == number]
                assert [e for e in once if e in of_ticket] == of_ticket
            twice = {e for e in got if got.count(e) > 1}
            assert twice <= platform.lost  # duplicates only where the answer was lost
            assert platform.refused or platform.lost  # the platform did fail some deliveries
            for headers in platform.headers:
                assert headers["content-type"] == "application/json"
    finally:
        desk.close()
    with db_of(app).session(read_only=True) as db:
        statuses = db.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == WEBHOOK))
        assert set(statuses) == {SENT}


def _expected(app: Flask) -> dict[str, int]:
    """Every event recorded (its id → its ticket's number), in the order it was recorded."""
    found: dict[str, int] = {}
    for row in rows_of(app):
        body = json.loads(row.payload["body"])
        found[body["id"]] = body["data"]["ticket"]["number"]
    return found


def test_a_delivery_waits_while_an_older_one_of_its_ticket_is_being_sent(
    webhook_app: Flask, backend_settings: Settings
) -> None:
    app, client = webhook_app, webhook_app.test_client()
    settings = fast(backend_settings)
    key = make_key(app, "tickets:read,tickets:write")
    with CityPlatform(SECRET, fail_share=0) as platform:
        subscribe(client, key, platform.url, TICKET_EVENTS)
        number = send_order(
            app, client, platform, key, text="路灯不亮", source="grid", external_id="W1"
        )
        ys = yishiting(app)
        with ys.db.session() as db:
            accept(
                db,
                db.scalars(select(Ticket).where(Ticket.number == number)).one(),
                SYSTEM,
                ys.conversation.clock(),
            )
        first, second = rows_of(app)
        now = datetime.now(UTC)
        with db_of(app).transaction() as conn:  # another worker holds the older delivery
            taken = claim_due(
                conn, now=now, lease_until=now + timedelta(seconds=60), worker="other", limit=1
            )
        assert [t.id for t in taken] == [first.id]
        worker = Worker(settings, Database(settings), name="w")
        stats = worker.run_once()
        worker.db.dispose()
        assert stats.claimed == 1 and stats.sent == 0
        assert platform.events() == []
        after = {r.id: r for r in rows_of(app)}[second.id]
        assert (after.status, after.attempts) == (PENDING, 0)  # no attempt counted
        assert after.next_attempt_at > now


def test_a_refusing_platform_makes_a_dead_delivery_that_outbox_retry_sends_again(
    app: Flask, client: FlaskClient, settings: Settings, config_path: Path
) -> None:
    key = make_key(app, "tickets:read")
    with CityPlatform(SECRET, status=410) as platform:
        subscribe(client, key, platform.url, ["ticket.created"])
        file_directly(app, "路灯不亮", "grid", "W2")
        worker = Worker(fast(settings), Database(settings), name="w")
        worker.run_once()
        [row] = rows_of(app)
        assert (row.status, row.attempts, row.last_error) == (DEAD, 1, "HTTP 410: not retried")
        platform.status, platform.fail_share = None, 0
        done = CliRunner().invoke(
            main, ["outbox", "retry", "--config", str(config_path), str(row.id)]
        )
        assert done.exit_code == 0, done.output
        worker.run_once()
        worker.db.dispose()
        [row] = rows_of(app)
        assert row.status == SENT and row.channel == "webhook"
        assert len(platform.events()) == 1


def test_the_signature_is_hmac_sha256_of_the_timestamp_and_the_body() -> None:
    body = b'{"id":"evt_1","type":"ticket.created"}'
    header = signature(SECRET, 1_765_000_000, body)
    mac = hmac.new(SECRET.encode(), b"1765000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1765000000,v1={mac}"
    assert verify(SECRET, header, body, now=1_765_000_000 + 299)
    assert not verify(SECRET, header, body, now=1_765_000_000 + 301)  # a replay, too late
    assert not verify(SECRET, header, body + b" ", now=1_765_000_000)
    assert not verify("another-secret-0000", header, body, now=1_765_000_000)


# -- the console's 待发消息 and the CLI ----------------------------------------------------------


def test_webhook_rows_show_in_the_outbox_by_the_tickets_community(
    app: Flask, client: FlaskClient, admin_client: FlaskClient, config_path: Path
) -> None:
    from bot.console.auth import hash_password
    from models import ConsoleRole
    from models.accounts import create_account
    from models.communities import add_community

    ys = yishiting(app)
    with ys.db.session() as db:
        west_id = add_community(db, "西社区", datetime.now(UTC))[0].id
        create_account(
            db,
            "west",
            hash_password(CONSOLE_PASSWORD),
            ConsoleRole.ADMIN,
            datetime.now(UTC),
            None,
            west_id,
        )
    subscribe(
        client, make_key(app, "tickets:read"), "https://12345.example/hooks", ["ticket.created"]
    )
    with ys.db.session() as db:
        for text, community in (("西边路灯坏了", west_id), ("东边路灯坏了", None)):
            order = Order(text, "grid", None, ys.conversation.clock(), community_id=community)
            file_order(db, order, policy_from(ys.settings), ys.rulebook)
        db.execute(
            update(OutboxMessage).values(
                status=DEAD, attempts=20, last_error="gave up after 20 tries: HTTP 503"
            )
        )
    west_row, home_row = (r.id for r in rows_of(app))

    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert page.count("平台推送 ticket.created") == 2
    assert "https://12345.example/hooks" in page and "HTTP 503" in page
    west = app.test_client()
    console_login(west, "west")
    page = west.get("/admin/outbox").get_data(as_text=True)
    assert f'data-message="{west_row}"' in page and f'data-message="{home_row}"' not in page
    token = csrf_token_of(west.get("/admin/outbox"))
    assert (
        west.post(f"/admin/outbox/{home_row}/retry", data={"csrf_token": token}).status_code == 404
    )
    assert (
        west.post(f"/admin/outbox/{west_row}/retry", data={"csrf_token": token}).status_code == 303
    )

    runner = CliRunner()
    listed = runner.invoke(
        main, ["outbox", "list", "--config", str(config_path), "--community", "西社区", "--json"]
    )
    assert [json.loads(line)["id"] for line in listed.output.splitlines()] == [west_row]
    refused = runner.invoke(
        main,
        ["outbox", "retry", "--config", str(config_path), "--community", "西社区", str(home_row)],
    )
    assert refused.exit_code == 1
    done = runner.invoke(main, ["outbox", "retry", "--config", str(config_path), str(home_row)])
    assert done.exit_code == 0, done.output
    with db_of(app).session(read_only=True) as db:
        assert set(db.scalars(select(OutboxMessage.status))) == {PENDING}


def test_the_outbox_community_filter_reads_a_webhook_rows_community_on_both_databases(
    webhook_app: Flask,
) -> None:
    from models.communities import add_community
    from models.outbox import counts_by_status, list_outbox, retry_all_dead

    app = webhook_app
    ys = yishiting(app)
    with ys.db.session() as db:
        west_id = add_community(db, "西社区", datetime.now(UTC))[0].id
    subscribe(
        app.test_client(), make_key(app, "tickets:read"), "https://p.example/h", ["ticket.created"]
    )
    with ys.db.session() as db:
        for text, community in (("西边路灯坏了", west_id), ("东边路灯坏了", None)):
            order = Order(text, "grid", None, ys.conversation.clock(), community_id=community)
            file_order(db, order, policy_from(ys.settings), ys.rulebook)
        db.execute(update(OutboxMessage).values(status=DEAD))
    west_row, _ = (r.id for r in rows_of(app))
    with ys.db.session() as db:
        assert [r.id for r in list_outbox(db, community_id=west_id)] == [west_row]
        assert counts_by_status(db, west_id) == {DEAD: 1}
        assert retry_all_dead(db, datetime.now(UTC), west_id) == 1
    assert [r.status for r in rows_of(app)] == [PENDING, DEAD]

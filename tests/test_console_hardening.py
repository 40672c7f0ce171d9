"""Odd input at the console gets a clear answer, never a 500; sessions end when they should.

Found by fuzzing every console route: NUL characters (refused by PostgreSQL), ids too long for
a database integer, digits that are not ASCII, dates at the calendar's edge, a rules file larger
than a WeChat message, an account with no WeChat identity accepting a ticket."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import (
    CONSOLE_PASSWORD,
    Chat,
    WeChat,
    console_login,
    csrf_token_of,
    make_account,
    make_app,
)
from flask import Flask
from flask.testing import FlaskClient

from bot.cli import main
from bot.config import Settings
from models import Ticket, ticket_by_number
from models.staff import add_staff

HUGE = "99999999999999999999"


def test_a_nul_character_is_refused_politely_on_both_databases(
    backend_settings: Settings,
) -> None:
    app = make_app(backend_settings)
    client = app.test_client()
    token = csrf_token_of(client.get("/admin/login"))
    answer = client.post(
        "/admin/login", data={"username": "a\x00b", "password": "x", "csrf_token": token}
    )
    assert answer.status_code == 400
    assert "控制字符" in answer.get_data(as_text=True)
    make_account(app, "boss", "admin")
    console_login(client, "boss")
    assert client.get("/admin/tickets?q=%00").status_code == 400
    app.extensions["yishiting"].db.dispose()


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/polls/{HUGE}",
        f"/admin/polls/{HUGE}/tally.json",
        f"/admin/rules/topic/{HUGE}",
        f"/admin/people/staff/{HUGE}",
        f"/admin/tickets/{HUGE}",
        "/admin/polls/2147483648",
    ],
)
def test_an_id_too_long_for_the_database_is_not_found(admin_client: FlaskClient, url: str) -> None:
    assert admin_client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/outbox?before={HUGE}",
        "/admin/outbox?before=²",
        "/admin/people?page=²",
        f"/admin/polls?page={HUGE}",
        f"/admin/rules/audit?page={HUGE}",
    ],
)
def test_nonsense_numbers_in_the_query_are_ignored(admin_client: FlaskClient, url: str) -> None:
    assert admin_client.get(url).status_code == 200


def test_the_simulator_answers_bad_numbers_and_missing_pages_in_json(client: FlaskClient) -> None:
    answer = client.get(f"/simulator/pushes?after={HUGE}")
    assert answer.status_code == 400 and "after" in answer.get_json()["error"]
    missing = client.get("/simulator/nothing-here")
    assert missing.status_code == 404 and "没有找到" in missing.get_json()["error"]


def test_a_poll_closing_at_the_calendars_edge_is_a_form_error(admin_client: FlaskClient) -> None:
    token = csrf_token_of(admin_client.get("/admin/polls/new"))
    answer = admin_client.post(
        "/admin/polls/new",
        data={
            "csrf_token": token,
            "title": "小区东门加装门禁",
            "options": "同意\n不同意",
            "scope": "all",
            "unit": "person",
            "choices": "1",
            "eligibility": "bound",
            "closes_at": "0001-01-01T00:00",
        },
    )
    assert answer.status_code == 400
    assert admin_client.get("/admin/polls/1").status_code == 404


def test_the_exported_rules_file_imports_again_through_the_console(
    admin_client: FlaskClient,
) -> None:
    exported = admin_client.get("/admin/rules/export").get_data()
    assert len(exported) > 64 * 1024  # larger than any WeChat message may be
    token = csrf_token_of(admin_client.get("/admin/rules/import"))
    from io import BytesIO

    answer = admin_client.post(
        "/admin/rules/import",
        data={"csrf_token": token, "file": (BytesIO(exported), "rules.toml")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert "没有更改" in answer.get_data(as_text=True) or "更改" in answer.get_data(as_text=True)
    applied = admin_client.post(
        "/admin/rules/import",
        data={"csrf_token": token, "apply": "1", "content": exported.decode("utf-8")},
    )
    assert applied.status_code == 303
    assert "没有更改" in admin_client.get(applied.headers["Location"]).get_data(as_text=True)


def test_a_new_password_ends_the_sessions_made_with_the_old_one(
    app: Flask, config_path: Path
) -> None:
    make_account(app, "boss", "admin")
    client = app.test_client()
    console_login(client, "boss")
    assert client.get("/admin").status_code == 200
    changed = CliRunner().invoke(
        main, ["admin", "password", "--config", str(config_path), "boss", "--password", "n3w-pass!"]
    )
    assert changed.exit_code == 0, changed.output
    assert client.get("/admin").status_code == 302  # back to the login form
    assert console_login(client, "boss", "n3w-pass!").status_code == 303


def test_guessing_from_one_address_does_not_lock_the_account_out_elsewhere(app: Flask) -> None:
    make_account(app, "admin", "admin")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(6):
        console_login(attacker, "admin", "guess")
    assert console_login(attacker, "admin").status_code == 429
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert console_login(office, "admin", CONSOLE_PASSWORD).status_code == 303


def test_an_account_without_a_person_cannot_accept_and_leave_the_ticket_with_nobody(
    app: Flask, wechat: WeChat, admin_client: FlaskClient
) -> None:
    from datetime import UTC, datetime

    from conftest import db_of

    with db_of(app).session() as session:
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    Chat(wechat, "o_resident").say("3号楼电梯坏了，困住了一个老人")
    page = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert 'value="accept"' not in page
    token = csrf_token_of(admin_client.get("/admin/tickets/1"))
    answer = admin_client.post("/admin/tickets/1/accept", data={"csrf_token": token})
    shown = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "接单需要由具体的工作人员承办" in shown
    with db_of(app).session(read_only=True) as session:
        ticket = ticket_by_number(session, 1)
        assert isinstance(ticket, Ticket) and ticket.status == "new"
        assert ticket.assignee_id is not None  # still 王师傅's
    assert "#1" in (Chat(wechat, "o_wang").say("待办") or "")

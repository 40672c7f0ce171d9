"""接口 (/admin/api-keys) as admins use it: making a key (shown once, on the page that answers
the form), the list with last use and revocation, revoking, and each key's recent requests;
a community's admin sees and makes its own community's keys only; staff and viewers have no
access."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from api_keys import bearer, make_key
from conftest import (
    CONSOLE_PASSWORD,
    Clock,
    LiveServer,
    browser_login,
    console_login,
    csrf_token_of,
    db_of,
    make_account,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.console.auth import hash_password
from models import ConsoleRole
from models.accounts import create_account
from models.api.keys import SHOWN, ApiKey, key_for
from models.communities import add_community

PAGE = "/admin/api-keys"


def make_key_in_console(client: FlaskClient, **form: object) -> tuple[int, str]:
    token = csrf_token_of(client.get(PAGE))
    return _post(client, {"csrf_token": token, **form})


def _post(client: FlaskClient, form: dict[str, object]) -> tuple[int, str]:
    answer = client.post(PAGE, data=form)
    return answer.status_code, answer.get_data(as_text=True)


def shown_key(page: str) -> str:
    match = re.search(r'<code class="secret" id="new-key">([^<]+)</code>', page)
    assert match, "no new key on the page"
    return match.group(1)


def test_an_admin_makes_a_key_and_sees_it_once(app: Flask, admin_client: FlaskClient) -> None:
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert ">接口</a>" in page and "还没有密钥" in page
    status, page = make_key_in_console(
        admin_client, name="12345平台", scopes=["tickets:read", "tickets:write"]
    )
    assert status == 200
    secret = shown_key(page)
    assert "只显示这一次" in page and "请立即复制" in page
    assert app.test_client().get("/api/v1/topics", headers=bearer(secret)).status_code == 200

    again = admin_client.get(PAGE).get_data(as_text=True)
    assert secret not in again and 'id="new-key"' not in again  # once, and never again
    assert f"{secret[:SHOWN]}…" in again and "12345平台" in again
    with db_of(app).session(read_only=True) as db:
        key = key_for(db, secret)
        assert key is not None
        assert key.created_by == "boss" and key.scopes == "tickets:read,tickets:write"
        assert key.community_id is None


@pytest.mark.parametrize(
    ("form", "said"),
    [
        ({"name": "", "scopes": ["tickets:read"]}, "请填写密钥名称"),
        ({"name": "12345平台"}, "请至少选择一项权限"),
        ({"name": "12345平台", "scopes": ["tickets:delete"]}, "没有“tickets:delete”这项权限"),
        ({"name": "长" * 65, "scopes": ["tickets:read"]}, "最多 64 个字"),
        ({"name": "x", "scopes": ["tickets:read"], "community": "999"}, "没有这个社区"),
    ],
)
def test_a_form_that_cannot_make_a_key_says_why(
    app: Flask, admin_client: FlaskClient, form: dict[str, object], said: str
) -> None:
    status, page = make_key_in_console(admin_client, **form)
    assert status == 400 and said in page
    assert 'id="new-key"' not in page
    with db_of(app).session(read_only=True) as db:
        assert db.scalars(select(ApiKey)).all() == []


def test_creating_or_revoking_needs_the_forms_token(app: Flask, admin_client: FlaskClient) -> None:
    assert _post(admin_client, {"name": "x", "scopes": ["tickets:read"]})[0] == 400
    make_key(app, "tickets:read")
    assert admin_client.post(f"{PAGE}/1/revoke").status_code == 400
    with db_of(app).session(read_only=True) as db:
        assert [k.revoked_at for k in db.scalars(select(ApiKey))] == [None]


def test_a_keys_page_shows_its_recent_requests_and_revoking_ends_it(
    app: Flask, admin_client: FlaskClient, clock: Clock
) -> None:
    secret = make_key(app, "tickets:read", name="网格平台")
    api = app.test_client()
    assert api.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
    listing = admin_client.get(PAGE).get_data(as_text=True)
    assert "从未使用" not in listing and "有效" in listing

    page = admin_client.get(f"{PAGE}/1")
    token = csrf_token_of(page)
    assert "/api/v1/topics" in page.get_data(as_text=True)
    answer = admin_client.post(f"{PAGE}/1/revoke", data={"csrf_token": token})
    assert answer.status_code == 303
    clock.advance(minutes=1)
    assert api.get("/api/v1/topics", headers=bearer(secret)).status_code == 401

    page = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已吊销" in page and "boss" in page
    rows = re.findall(r"<tr data-request=\"\d+\">(.*?)</tr>", page)
    assert len(rows) == 2 and "401" in rows[0] and "200" in rows[1]  # newest first
    assert all("GET" in r and "/api/v1/topics" in r for r in rows)
    assert "已吊销" in admin_client.get(PAGE).get_data(as_text=True)
    again = admin_client.post(f"{PAGE}/1/revoke", data={"csrf_token": token})
    assert "早已吊销" in admin_client.get(again.headers["Location"]).get_data(as_text=True)
    assert admin_client.get(f"{PAGE}/99").status_code == 404


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewers_have_no_access(app: Flask, role: str) -> None:
    make_account(app, "clerk", role)
    make_key(app, "tickets:read")
    client = app.test_client()
    assert console_login(client, "clerk").status_code == 303
    tickets = client.get("/admin/tickets")
    assert ">接口</a>" not in tickets.get_data(as_text=True)
    token = csrf_token_of(tickets)
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/1").status_code == 403
    form = {"csrf_token": token, "name": "x", "scopes": ["tickets:read"]}
    assert client.post(PAGE, data=form).status_code == 403
    assert client.post(f"{PAGE}/1/revoke", data={"csrf_token": token}).status_code == 403
    with db_of(app).session(read_only=True) as db:
        keys = db.scalars(select(ApiKey)).all()
        assert len(keys) == 1 and keys[0].revoked_at is None


def test_a_community_admin_manages_its_own_communitys_keys_only(
    app: Flask, admin_client: FlaskClient
) -> None:
    now = datetime.now(UTC)
    with db_of(app).session() as db:
        east = add_community(db, "东社区", now)[0].id
        west = add_community(db, "西社区", now)[0].id
        create_account(db, "east", hash_password(CONSOLE_PASSWORD), ConsoleRole.ADMIN, now,
                       None, east)  # fmt: skip
    make_key(app, "tickets:read", name="西平台", community_id=west)
    make_key(app, "tickets:read", name="街道平台")
    client = app.test_client()
    assert console_login(client, "east").status_code == 303

    page = client.get(PAGE).get_data(as_text=True)
    assert "西平台" not in page and "街道平台" not in page and "<select" not in page
    status, page = make_key_in_console(
        client, name="东平台", scopes=["tickets:read"], community=str(west)
    )
    assert status == 200 and "东平台" in page and "西平台" not in page
    token = csrf_token_of(client.get(PAGE))
    for key_id in (1, 2):  # 西社区's and the street's: as if there were none
        assert client.get(f"{PAGE}/{key_id}").status_code == 404
        assert client.post(f"{PAGE}/{key_id}/revoke", data={"csrf_token": token}).status_code == 404
    assert client.get(f"{PAGE}/3").status_code == 200
    with db_of(app).session(read_only=True) as db:
        made = db.scalars(select(ApiKey).where(ApiKey.name == "东平台")).one()
        assert made.community_id == east  # whatever the form said
        assert all(k.revoked_at is None for k in db.scalars(select(ApiKey)))

    # The street's admin sees every key, and chooses the community of a new one.
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert all(
        name in page for name in ("东平台", "西平台", "街道平台", "西社区", "街道（全部社区）")
    )
    status, _ = make_key_in_console(
        admin_client, name="西网格", scopes=["agenda:read"], community=str(west)
    )
    assert status == 200
    with db_of(app).session(read_only=True) as db:
        made = db.scalars(select(ApiKey).where(ApiKey.name == "西网格")).one()
        assert made.community_id == west


def test_in_a_browser_the_key_is_shown_once_and_revoked_with_a_click(app: Flask, page: Any) -> None:
    """Headless Chromium: the form, the key on the answering page, gone after a reload."""
    make_account(app, "boss", "admin")
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.click("nav.mainnav >> text=接口")
        page.fill("input[name=name]", "12345平台")
        page.check("input[name=scopes][value='tickets:read']")
        page.click("#new button[type=submit]")
        secret = page.locator("#new-key").inner_text().strip()
        assert secret.startswith("yst_") and "只显示这一次" in page.content()
        page.goto(f"{server.url}{PAGE}")  # as if reloaded: the key is no longer anywhere
        assert secret not in page.content() and f"{secret[:SHOWN]}…" in page.content()
        page.click("text=#1")
        page.click("button.danger")
        page.wait_for_selector("text=已吊销")
    assert app.test_client().get("/api/v1/topics", headers=bearer(secret)).status_code == 401

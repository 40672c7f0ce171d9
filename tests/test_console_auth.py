"""The console's door: login, sessions, CSRF, throttling and roles on every route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import (
    CONSOLE_PASSWORD,
    console_login,
    csrf_token_of,
    make_account,
    make_app,
)
from flask import Flask
from flask.testing import FlaskClient

from bot.cli import main
from bot.config import Settings
from bot.console.access import PUBLIC, REQUIRED_ROLE
from models import ConsoleRole


def test_anonymous_console_page_redirects_to_the_login_form(client: FlaskClient) -> None:
    response = client.get("/admin/tickets")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_login_redirects_and_then_the_dashboard_answers_itself(
    app: Flask, client: FlaskClient
) -> None:
    make_account(app, "zhang", "admin")
    form = client.get("/admin/login")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    for field in ("username", "password", "csrf_token"):
        assert f'name="{field}"' in html
    answer = console_login(client, "zhang")
    assert answer.status_code in (302, 303)
    assert answer.headers["Location"] == "/admin"
    dashboard = client.get("/admin")
    assert dashboard.status_code == 200
    assert "工作台" in dashboard.get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    app: Flask, client: FlaskClient
) -> None:
    make_account(app, "zhang", "admin")
    wrong = console_login(client, "zhang", "not-the-password")
    unknown = console_login(client, "nobody", CONSOLE_PASSWORD)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert "用户名或密码不正确" in answer.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_guessing_is_throttled_even_when_the_next_guess_is_right(
    app: Flask, client: FlaskClient
) -> None:
    make_account(app, "zhang", "admin")
    for _ in range(5):
        assert console_login(client, "zhang", "guess").status_code == 401
    blocked = console_login(client, "zhang")
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_a_login_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    make_account(app, "zhang", "admin")
    answer = client.post("/admin/login", data={"username": "zhang", "password": CONSOLE_PASSWORD})
    assert answer.status_code == 400
    assert "CSRF" in answer.get_data(as_text=True)
    assert client.get("/admin").status_code == 302


def test_a_console_post_without_the_csrf_token_is_refused(admin_client: FlaskClient) -> None:
    assert admin_client.post("/admin/logout").status_code == 400
    assert admin_client.get("/admin").status_code == 200  # still logged in
    token = csrf_token_of(admin_client.get("/admin"))
    assert admin_client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    assert admin_client.get("/admin").status_code == 302


def test_the_webhook_needs_no_csrf_token(wechat: object) -> None:
    from conftest import WeChat

    assert isinstance(wechat, WeChat)
    assert wechat.send("o_someone", "帮助")


def test_login_never_redirects_to_another_site(app: Flask, client: FlaskClient) -> None:
    make_account(app, "zhang", "admin")
    token = csrf_token_of(client.get("/admin/login"))
    answer = client.post(
        "/admin/login?next=//evil.example/x",
        data={"username": "zhang", "password": CONSOLE_PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == "/admin"


def _session_cookie(answer: object) -> str:
    cookies = [v for k, v in answer.headers.items() if k == "Set-Cookie"]  # type: ignore[attr-defined]
    return next(c for c in cookies if c.startswith("session="))


def test_session_cookie_is_httponly_and_samesite_but_not_secure_on_plain_http(
    app: Flask, client: FlaskClient
) -> None:
    make_account(app, "zhang", "admin")
    cookie = _session_cookie(console_login(client, "zhang"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_behind_an_https_proxy(settings: Settings) -> None:
    app = make_app(
        settings.replace(app={"public_url": "https://ysk.example.org"}, web={"trusted_proxies": 1})
    )
    make_account(app, "zhang", "admin")
    client = app.test_client()
    # As the proxy forwards it; a browser on https also sends the page it came from.
    https = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/admin/login"}
    form = client.get("/admin/login", headers=https)
    answer = client.post(
        "/admin/login",
        data={"username": "zhang", "password": CONSOLE_PASSWORD, "csrf_token": csrf_token_of(form)},
        headers=https,
    )
    assert answer.status_code == 303
    assert "Secure" in _session_cookie(answer)
    app.extensions["yishiting"].db.dispose()


# --- roles on every route ------------------------------------------------------------------


def _console_routes(app: Flask) -> list[tuple[str, str, str, object]]:
    """(url, method, endpoint, declared role) for every console route, args filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        url = re.sub(r"<(?:int:)?([a-z_]+)>", "1", rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((url, method, rule.endpoint, getattr(view, REQUIRED_ROLE, None)))
    # Logging out last, so walking the map does not end the session half-way.
    return sorted(routes, key=lambda route: route[2] == "console_auth.logout")


def test_every_console_route_declares_who_may_use_it(app: Flask) -> None:
    routes = _console_routes(app)
    assert len(routes) >= 7
    undeclared = [endpoint for _, _, endpoint, role in routes if role is None]
    assert not undeclared, f"console views without @requires: {undeclared}"
    public = {endpoint for _, _, endpoint, role in routes if role == PUBLIC}
    assert public == {"console_auth.login", "console_auth.csrf_token"}


def test_every_console_route_refuses_an_anonymous_user(app: Flask) -> None:
    client = app.test_client()
    client.get("/admin/login")  # a session with a CSRF token, so POSTs reach the guard
    for url, method, _endpoint, role in _console_routes(app):
        if role == PUBLIC:
            continue
        answer = client.open(url, method=method, data={"csrf_token": _token(client)})
        assert answer.status_code == 302, (method, url, answer.status_code)
        assert answer.headers["Location"].startswith("/admin/login"), (method, url)


def _token(client: FlaskClient) -> str:
    return csrf_token_of(client.get("/admin/login"))


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_every_console_route_refuses_a_too_low_role(app: Flask, role: str) -> None:
    make_account(app, f"someone_{role}", role)
    client = app.test_client()
    assert console_login(client, f"someone_{role}").status_code == 303
    token = csrf_token_of(client.get("/admin"))
    checked = 0
    for url, method, _endpoint, needed in _console_routes(app):
        if needed == PUBLIC or not isinstance(needed, ConsoleRole):
            continue
        answer = client.open(url, method=method, data={"csrf_token": token})
        if needed > ConsoleRole.parse(role):
            checked += 1
            assert answer.status_code == 403, (method, url, answer.status_code)
            assert "没有权限" in answer.get_data(as_text=True)
        else:
            assert answer.status_code not in (401, 403), (method, url, answer.status_code)
            assert "/admin/login?next=" not in answer.headers.get("Location", ""), url
    if role == "viewer":
        assert checked > 0, "no route needs more than a viewer?"


def test_every_console_route_lets_an_admin_in(admin_client: FlaskClient, app: Flask) -> None:
    for url, method, _endpoint, needed in _console_routes(app):
        if method != "GET" or needed == PUBLIC:
            continue
        answer = admin_client.get(url)
        assert answer.status_code in (200, 404), (url, answer.status_code)


# --- the simulator's switch ------------------------------------------------------------------


def test_the_simulator_is_open_in_development_without_login(client: FlaskClient) -> None:
    assert client.get("/simulator").status_code == 200


def test_the_simulator_does_not_exist_in_production(settings: Settings) -> None:
    app = make_app(settings.replace(app={"mode": "production"}))
    assert app.test_client().get("/simulator").status_code == 404
    app.extensions["yishiting"].db.dispose()


# --- accounts from the command line ----------------------------------------------------------


def test_init_prints_the_first_admin_password_once_and_it_logs_in(
    empty_config_path: Path, settings: Settings
) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--config", str(empty_config_path)])
    assert first.exit_code == 0, first.output
    match = re.search(r"console account created: admin / (\S+)", first.output)
    assert match, first.output
    again = runner.invoke(main, ["init", "--config", str(empty_config_path)])
    assert again.exit_code == 0 and "console account created" not in again.output

    from bot.config import load_settings

    app = make_app(load_settings(empty_config_path, environ={}))
    client = app.test_client()
    assert console_login(client, "admin", match.group(1)).status_code == 303
    assert client.get("/admin").status_code == 200
    app.extensions["yishiting"].db.dispose()


def test_admin_create_and_password_manage_accounts(config_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "admin", "create", "--config", str(config_path),
            "--username", "li", "--password", "first-password", "--role", "viewer",
        ],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.output.strip() == "account li (viewer) created"
    twice = runner.invoke(
        main,
        [
            "admin",
            "create",
            "--config",
            str(config_path),
            "--username",
            "li",
            "--password",
            "x" * 9,
        ],
    )
    assert twice.exit_code != 0 and "exists already" in twice.output
    short = runner.invoke(
        main, ["admin", "password", "--config", str(config_path), "li", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least 8" in short.output
    changed = runner.invoke(
        main,
        ["admin", "password", "--config", str(config_path), "li", "--password", "second-password"],
    )
    assert changed.output.strip() == "password changed for li"

    app = make_app(settings)
    client = app.test_client()
    assert console_login(client, "li", "first-password").status_code == 401
    assert console_login(client, "li", "second-password").status_code == 303
    # A viewer reads but cannot act.
    assert client.get("/admin").status_code == 200
    app.extensions["yishiting"].db.dispose()

"""The console's door as an attacker tries it: forwarded addresses, guesses that queue the
database, a session cookie copied before logout, framing; and the site's root."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from conftest import CONSOLE_PASSWORD, console_login, db_of, make_account, make_app
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.security import check_password_hash

from bot.config import Settings
from bot.console import auth

ATTACKER = "203.0.113.9"
OFFICE = "192.0.2.10"
NGINX = "127.0.0.1"  # the proxy: every request reaches the app from it


@pytest.fixture
def proxied_app(settings: Settings) -> Iterator[Flask]:
    """The app as deployed behind one reverse proxy ([web] trusted_proxies = 1)."""
    app = make_app(settings.replace(web={"trusted_proxies": 1}))
    yield app
    db_of(app).dispose()


def through_proxy(app: Flask, client_address: str) -> FlaskClient:
    """A browser at `client_address`, seen through the proxy, which adds X-Forwarded-For."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = NGINX
    client.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
    return client


def test_an_attacker_behind_the_proxy_cannot_lock_the_admin_out(proxied_app: Flask) -> None:
    make_account(proxied_app, "admin", "admin")
    attacker = through_proxy(proxied_app, ATTACKER)
    answers = [console_login(attacker, "admin", f"guess-{n}").status_code for n in range(25)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    office = through_proxy(proxied_app, OFFICE)
    assert console_login(office, "admin").status_code == 303
    assert office.get("/admin").status_code == 200


def test_guesses_spread_over_many_addresses_cannot_lock_the_admin_out(
    proxied_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the per-account limit each new address gets one guess, and an address that has
    not failed (the office's) still gets in."""
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_USERNAME", 8)  # 100 in production
    make_account(proxied_app, "admin", "admin")
    for n in range(4):  # 4 addresses × 2 guesses, under the 5 a pair may make
        bot = through_proxy(proxied_app, f"198.51.100.{n}")
        assert [console_login(bot, "admin", "guess").status_code for _ in range(2)] == [401] * 2
    fresh = through_proxy(proxied_app, "198.51.100.77")
    assert [console_login(fresh, "admin", "guess").status_code for _ in range(2)] == [401, 429]
    assert console_login(through_proxy(proxied_app, OFFICE), "admin").status_code == 303


def test_guessing_many_accounts_from_one_address_is_throttled_for_that_address_only(
    proxied_app: Flask,
) -> None:
    make_account(proxied_app, "admin", "admin")
    attacker = through_proxy(proxied_app, ATTACKER)
    for n in range(20):
        assert console_login(attacker, f"user{n}", "guess").status_code == 401
    assert console_login(attacker, "admin").status_code == 429  # even the right password
    assert console_login(through_proxy(proxied_app, OFFICE), "admin").status_code == 303


def test_without_a_trusted_proxy_a_forged_forwarded_address_changes_nothing(
    app: Flask,
) -> None:
    """[web] trusted_proxies = 0 (serve on its own): a client cannot pick a new address per
    guess by sending its own X-Forwarded-For."""
    make_account(app, "admin", "admin")
    for n in range(5):
        forger = app.test_client()
        forger.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        assert console_login(forger, "admin", "guess").status_code == 401
    forger = app.test_client()
    forger.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.99"
    assert console_login(forger, "admin").status_code == 429


def test_a_failed_login_does_not_hold_the_writer_lock_while_the_password_is_checked(
    app: Flask,
) -> None:
    """Guesses at the console must not queue the database's other writers (the webhook's)
    behind their ~0.1 s password hashes: while bad logins run, a writer still gets its turn
    quickly."""
    from bot.console.auth import hash_password

    make_account(app, "admin", "admin")
    started = time.perf_counter()
    check_password_hash(hash_password("x"), "y")
    hash_seconds = time.perf_counter() - started

    def guess(address: str) -> None:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        for _ in range(4):
            assert console_login(client, "admin", "guess").status_code == 401

    guessers = [threading.Thread(target=guess, args=(f"198.51.100.{n}",)) for n in range(3)]
    for thread in guessers:
        thread.start()
    waits = []
    db = db_of(app)
    while any(thread.is_alive() for thread in guessers):
        asked = time.perf_counter()
        with db.session() as session:  # a writer, as the webhook is
            session.execute(text("SELECT 1"))
        waits.append(time.perf_counter() - asked)
        time.sleep(0.01)
    for thread in guessers:
        thread.join()
    waits.sort()
    # The slowest turns: with the hash inside the write transaction these are whole hashes.
    assert waits[-3] < hash_seconds / 2, (waits[-5:], hash_seconds)


def test_a_session_cookie_copied_before_logout_opens_nothing_after_it(app: Flask) -> None:
    make_account(app, "admin", "admin")
    browser = app.test_client()
    assert console_login(browser, "admin").status_code == 303
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/admin").status_code == 200  # the copy works while the session lasts
    page = browser.get("/admin").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert browser.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    answer = thief.get("/admin")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/admin/login")
    # Logging in again makes a new session; the copied one stays ended.
    assert console_login(browser, "admin", CONSOLE_PASSWORD).status_code == 303
    assert browser.get("/admin").status_code == 200
    assert thief.get("/admin").status_code == 302


def test_logging_out_ends_only_that_session(app: Flask) -> None:
    make_account(app, "admin", "admin")
    office, home = app.test_client(), app.test_client()
    for browser in (office, home):
        assert console_login(browser, "admin").status_code == 303
    page = office.get("/admin").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    office.post("/admin/logout", data={"csrf_token": token})
    assert office.get("/admin").status_code == 302
    assert home.get("/admin").status_code == 200


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize(
    "path",
    ["/admin/login", "/admin", "/simulator", "/healthz", "/wechat", "/no-such-page", "/"],
)
def test_every_response_forbids_framing_and_sniffing(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (path, answer.status_code, name)


def test_the_console_pages_still_run_their_scripts(admin_client: FlaskClient) -> None:
    """Only framing is restricted: no script-src that would stop the pages' own scripts."""
    for path in ("/admin", "/simulator", "/admin/rules"):
        policy = admin_client.get(path).headers["Content-Security-Policy"]
        assert "script-src" not in policy and "default-src" not in policy


def test_the_sites_root_leads_to_the_console(client: FlaskClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/admin"
    assert client.get("/", follow_redirects=True).request.path == "/admin/login"


def test_logging_in_works_on_postgresql_too(backend_settings: Settings) -> None:
    app = make_app(backend_settings)
    make_account(app, "admin", "admin")
    browser = app.test_client()
    assert console_login(browser, "admin", "guess").status_code == 401
    assert console_login(browser, "admin").status_code == 303
    assert browser.get("/admin").status_code == 200
    db_of(app).dispose()


def test_an_https_address_without_trusted_proxies_is_warned_about(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An https public_url used to mean "trust one proxy"; now the proxies are declared."""
    https = {"public_url": "https://ysk.example.org"}
    for proxies in (0, 1):
        caplog.clear()
        app = make_app(settings.replace(app=https, web={"trusted_proxies": proxies}))
        db_of(app).dispose()
        warned = [r.getMessage() for r in caplog.records if "trusted_proxies" in r.getMessage()]
        assert bool(warned) == (proxies == 0), warned

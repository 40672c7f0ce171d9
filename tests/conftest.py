"""Fixtures: `settings` (a temp SQLite database), `app`, `client`, `wechat` (a signed-message
builder posting to the app), `chat` (a resident's side of a conversation), `live_server`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from postgres import Cluster, Unavailable
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from bot import create_app
from bot.classify import seed_default_topics
from bot.config import Settings, load_settings
from bot.db import Database
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import Signer, message_xml
from models import InboundMessage

# tests/desk.py: the fast harness, without HTTP; tests/accounts.py: several accounts.
pytest_plugins = ("desk", "accounts")

TOKEN = "test-token-5f2c"
# A valid 43-character EncodingAESKey (any 32 bytes, base64 without the trailing '=').
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx_test_app_id"


def write_config(path: Path, **sections: dict[str, Any]) -> Path:
    """A TOML config file: `write_config(p, app={"mode": "development"})`."""
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(
                f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"'
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_test_config(folder: Path) -> Path:
    return write_config(
        folder / "config.toml",
        app={
            "database_url": "sqlite:///test.db",
            "secret_key": "s3cret-for-tests",
            "mode": "development",
        },
        wechat={"token": TOKEN, "app_id": APP_ID},
    )


@pytest.fixture(scope="session")
def initialised_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database as `yishiting init` leaves it, built once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    settings = load_settings(_write_test_config(folder), environ={})
    db = Database(settings)
    db.migrate()
    with db.session() as session:
        seed_default_topics(session, datetime.now(UTC))
    db.dispose()
    return folder / "test.db"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    try:
        cluster = Cluster()
        cluster.start()
    except Unavailable as why:
        pytest.skip(f"PostgreSQL unavailable: {why}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test settings on SQLite, then on a fresh PostgreSQL database (migrated, seeded)."""
    if request.param == "sqlite":
        return settings
    cluster: Cluster = request.getfixturevalue("postgres_cluster")
    pg = settings.replace(app={"database_url": cluster.new_database()})
    db = Database(pg)
    db.migrate()
    with db.session() as session:
        seed_default_topics(session, datetime.now(UTC))
    db.dispose()
    return pg


@pytest.fixture
def empty_config_path(tmp_path: Path) -> Path:
    """A config whose database does not exist yet (for tests of `init` itself)."""
    return _write_test_config(tmp_path)


@pytest.fixture
def config_path(tmp_path: Path, initialised_database: Path) -> Path:
    """A config whose database is migrated and seeded (a copy of the session's template)."""
    shutil.copyfile(initialised_database, tmp_path / "test.db")
    return _write_test_config(tmp_path)


@pytest.fixture
def settings(config_path: Path) -> Settings:
    return load_settings(config_path, environ={})


@pytest.fixture
def safe_settings(settings: Settings) -> Settings:
    return settings.replace(wechat={"encoding_aes_key": AES_KEY})


class Clock:
    """The app's clock in tests: real time until a test moves it on."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def make_app(settings: Settings, **kwargs: Any) -> Flask:
    """The app on a migrated database with the default topics seeded, as `init` leaves it."""
    app = create_app(settings, **kwargs)
    db = app.extensions["yishiting"].db
    db.migrate()
    with db.session() as session:
        seed_default_topics(session, datetime.now(UTC))
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(settings, clock=clock)
    yield app
    app.extensions["yishiting"].db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class WeChat:
    """Posts messages to the app exactly as WeChat's servers would, and reads the replies."""

    def __init__(self, client: FlaskClient, settings: Settings) -> None:
        self.client = client
        # Signed with the app's clock (a test may move it on), a fresh nonce each time.
        app_clock = client.application.extensions["yishiting"].conversation.clock
        self.signer = Signer(
            settings.wechat.token,
            settings.wechat.encoding_aes_key,
            settings.wechat.app_id,
            clock=lambda: app_clock().timestamp(),
        )

    def post_xml(self, xml: str, *, encrypt: bool | None = None) -> TestResponse:
        """Sign (and in safe mode encrypt) `xml` and post it."""
        signed = self.signer.sign(xml, encrypt=encrypt)
        return self.client.post(
            "/wechat", query_string=signed.query, data=signed.body, content_type="text/xml"
        )

    def post_raw(self, body: bytes, **query: str) -> TestResponse:
        """Post `body` as it is, with a valid plain-mode signature (extra query args win)."""
        signed = self.signer.sign("", encrypt=False)
        return self.client.post(
            "/wechat", query_string={**signed.query, **query}, data=body, content_type="text/xml"
        )

    def send(self, sender: str, text: str | None = None, **kwargs: Any) -> str | None:
        """Send a message; return the reply text (None for "success")."""
        response = self.post_xml(message_xml(sender, text=text, **kwargs))
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.signer.read_reply(response.get_data())


@pytest.fixture
def wechat(client: FlaskClient, settings: Settings) -> WeChat:
    return WeChat(client, settings)


class Chat:
    """One resident's side of the conversation: `chat.say("帮助")` returns the bot's answer."""

    def __init__(self, wechat: WeChat, openid: str) -> None:
        self.wechat = wechat
        self.openid = openid

    def say(self, text: str) -> str | None:
        return self.wechat.send(self.openid, text)

    def follow(self) -> str | None:
        return self.wechat.send(self.openid, event="subscribe")

    def do(self, event: str, key: str | None = None) -> str | None:
        return self.wechat.send(self.openid, event=event, event_key=key)

    def send(self, msg_type: str, **fields: str) -> str | None:
        return self.wechat.send(self.openid, msg_type=msg_type, fields=fields)


@pytest.fixture
def chat(wechat: WeChat) -> Chat:
    return Chat(wechat, "o_resident_wang")


def count_rows(settings: Settings, model: type) -> int:
    """How many rows `model`'s table holds now."""
    db = Database(settings)
    try:
        with db.session(read_only=True) as s:
            return s.scalar(select(func.count()).select_from(model)) or 0
    finally:
        db.dispose()


def inbound_count(settings: Settings) -> int:
    return count_rows(settings, InboundMessage)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


def staff(
    app: Flask,
    openid: str,
    name: str,
    *,
    topics: tuple[str, ...] = (),
    grids: tuple[str, ...] = (),
    level: int = 1,
) -> int:
    """Add a staff member (for `topics` and `grids`, at escalation `level`); their person id."""
    from models.staff import add_staff

    with db_of(app).session() as session:
        return add_staff(session, openid, name, topics, grids, None, level, datetime.now(UTC)).id


def db_of(app: Flask) -> Database:
    """The app's database."""
    return app.extensions["yishiting"].db  # type: ignore[no-any-return]


def pushes_to(app: Flask, openid: str, kind_prefix: str = "") -> list[str]:
    """What has been pushed (queued) to this person, oldest first, as they would read it:
    the outbox rows rendered with the templates the worker sends."""
    from bot.delivery import render
    from models import OutboxMessage, Person

    with db_of(app).session(read_only=True) as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.payload)
            .join(Person, Person.id == OutboxMessage.person_id)
            .where(Person.openid == openid, OutboxMessage.kind.startswith(kind_prefix))
            .order_by(OutboxMessage.id)
        ).all()
    return [render(kind, payload).text for kind, payload in rows]


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    """A fake WeChat/WeCom API on a local port (devtools/fake_wechat.py)."""
    with FakeWeChat() as server:
        server.slow_seconds = 1.5
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Wait until the server at `url` answers /healthz; fail with its stderr if it exits."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "exited")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not become healthy")


# --- the console -------------------------------------------------------------------------

CONSOLE_PASSWORD = "correct-horse-battery"


def make_account(
    app: Flask, username: str, role: str = "admin", *, openid: str | None = None
) -> None:
    """A console account with CONSOLE_PASSWORD, optionally linked to a person by openid."""
    from bot.console.auth import hash_password
    from models import ConsoleRole, Person
    from models.accounts import create_account

    with db_of(app).session() as session:
        person = None
        if openid is not None:
            person = session.scalar(select(Person).where(Person.openid == openid))
            assert person is not None, f"no person {openid}"
        create_account(
            session,
            username,
            hash_password(CONSOLE_PASSWORD),
            ConsoleRole.parse(role),
            datetime.now(UTC),
            person,
        )


def csrf_token_of(page: TestResponse) -> str:
    """The CSRF token a console page carries (in its <meta> and forms)."""
    import re

    match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


def console_login(
    client: FlaskClient, username: str, password: str = CONSOLE_PASSWORD
) -> TestResponse:
    """Log in through the form, as a person does; returns the answer to the POST."""
    token = csrf_token_of(client.get("/admin/login"))
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
    )


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """A test client logged in to the console as an admin (account `boss`)."""
    make_account(app, "boss", "admin")
    client = app.test_client()
    assert console_login(client, "boss").status_code == 303
    return client


CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (make test installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page (own cookies); a screenshot of it is saved in tests/artifacts/
    when the test ends, whether it passed or not."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    # Generous: CI machines are shared and slow at times; a pass is usually far quicker.
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


def browser_login(tab: Any, base_url: str, username: str) -> None:
    """Log in to the console in the browser, as a person types it."""
    tab.goto(f"{base_url}/admin/login")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", CONSOLE_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{base_url}/admin")

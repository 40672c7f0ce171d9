"""`init` (create or migrate the database) and `serve` (run everything in one process)."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from models.communities import rename_home

from ..classify import seed_default_topics
from ..classify.training import seed_starter_model
from ..config import Settings, UnsafeStart, refuse_unsafe_start
from ..db import Database
from .admin import FIRST_ADMIN, create_first_admin
from .common import config_option, settings_from

log = logging.getLogger(__name__)


@click.command()
@config_option
@click.option(
    "--demo",
    is_flag=True,
    help="Also add demo data: a grid, a staff member, residents, a poll (only with [app] mode = "
    '"development").',
)
def init(config_path: str | None, demo: bool) -> None:
    """Create or migrate the database and seed what is missing. Safe to run again."""
    settings = settings_from(config_path)
    if demo and not settings.development:
        raise click.ClickException(
            "--demo adds made-up people and places, so it runs only with "
            f'[app] mode = "development" (this config is "{settings.app.mode}"); nothing done'
        )
    _private_sqlite_file(settings.app.database_url)
    db = Database(settings)
    db.migrate()
    with db.session() as session:
        rename_home(session, settings.app.community_name)
        seeded = seed_default_topics(session, datetime.now(UTC))
        # A new community has the learned fallback from day one (trained once per machine).
        starter = seed_starter_model(session, datetime.now(UTC))
        starter_examples = starter.examples if starter is not None else 0
        first_password = create_first_admin(session)
    demo_changes = _add_demo(db) if demo else []
    db.dispose()
    if seeded:
        click.echo(f"seeded {len(seeded)} topics with starter keyword rules: {'、'.join(seeded)}")
    if starter_examples:
        click.echo(
            f"learned classifier: the starter model ({starter_examples} labeled examples) is in "
            "use when the rules are unsure; `yishiting model train` adds confirmed tickets"
        )
    if demo:
        for change in demo_changes:
            click.echo(f"demo: {change}")
        click.echo(
            f"demo data: {len(demo_changes)} change(s)" if demo_changes else "demo data: up to date"
        )
    click.echo(f"database ready: {db.url}")
    if first_password:
        again = f"{_invoked_as()} admin password --config {shlex.quote(str(config_path))}"
        click.echo(
            f"console account created: {FIRST_ADMIN} / {first_password}\n"
            f"  (shown this once; change it with `{again} {FIRST_ADMIN}`)"
        )


def _private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by its owner only: it holds what residents
    wrote (SQLite gives its -wal and -shm files the same mode)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database or "")
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _invoked_as() -> str:
    """The program as it was run (`.venv/bin/yishiting` under `make run`), so the hint can be
    pasted as it is; `yishiting` when run some other way (python -m, a test runner)."""
    program = sys.argv[0]
    return shlex.quote(program) if Path(program).name == "yishiting" else "yishiting"


def _add_demo(db: Database) -> list[str]:
    from devtools.demo import add_demo_data

    with db.session() as session:
        return add_demo_data(session, datetime.now(UTC))


@click.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--web-only",
    is_flag=True,
    help="Do not run the outbox worker and the scheduler here (they run elsewhere).",
)
def serve(config_path: str | None, host: str, port: int, threads: int, web_only: bool) -> None:
    """Run everything in this process: the web server (waitress), the outbox worker(s) and the
    scheduler, as threads. The embedded default set-up. SIGTERM or Ctrl-C stops it."""
    from .. import create_app
    from ..delivery.worker import Worker, run_workers
    from ..schedule import Timekeeper
    from .serving import Server, listen

    settings = settings_from(config_path)
    safe_start(settings, web=False)  # create_app itself warns about cookies without HTTPS
    sock = listen(host, port)  # first: a port in use starts nothing (exit status 2)
    app = create_app(settings)
    db = app.extensions["yishiting"].db
    db.migrate()  # a server never runs on an older schema than its code expects
    server = Server(app, sock, threads)
    server.stop_on_signals()
    workers: list[Worker] = []
    worker_threads: list[threading.Thread] = []
    keeper: Timekeeper | None = None
    if not web_only:
        workers, worker_threads = run_workers(settings, db, settings.delivery.serve_workers)
        keeper = Timekeeper(settings, db)
        keeper.start()
    _announce(settings, host, port)
    try:
        server.run()
    finally:
        for worker in workers:
            worker.stop()
        for thread in worker_threads:
            thread.join(timeout=10)
        if keeper is not None:
            keeper.stop()
        db.dispose()
    log.info("stopped")


def _announce(settings: Settings, host: str, port: int) -> None:
    if settings.console_pushes:
        log.info("no [wechat] app_secret: pushes go to the console channel (their texts at DEBUG)")
    log.info("serving on http://%s:%d (mode %s)", host, port, settings.app.mode)
    base = _browser_url(host, port)
    log.info("console: %s/admin", base)
    if settings.development:
        log.info("simulator (development mode): %s/simulator", base)


def _browser_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server (0.0.0.0 is no address to visit)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def safe_start(settings: Settings, *, web: bool = True) -> None:
    """Production mode refuses the example secret key and an empty token: one line, exit 1."""
    try:
        refuse_unsafe_start(settings, web=web)
    except UnsafeStart as exc:
        raise click.ClickException(str(exc)) from None

"""Upgrades: `init` migrates; a database that a NEWER version migrated (its Alembic revision
unknown to this code) is refused by every process that would use it — init, serve, worker,
scheduler and gunicorn's app — with one clear line, exit status 1, no traceback, and the
database left as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from bot.config import Settings
from bot.db import Database, alembic_config

ROOT = Path(__file__).resolve().parent.parent
FUTURE = "f00dfacade99"  # a migration some later version might add

COMMANDS = {
    "init": ["-m", "bot.cli", "init"],
    "serve": ["-m", "bot.cli", "serve", "--port", "1"],
    "worker": ["-m", "bot.cli", "worker"],
    "scheduler": ["-m", "bot.cli", "scheduler"],
    "gunicorn": ["-m", "gunicorn", "--preload", "-b", "127.0.0.1:0", "bot.wsgi:app"],
}


def stamp(settings: Settings, revision: str) -> None:
    db = Database(settings)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.dispose()


def revision_of(settings: Settings) -> str:
    db = Database(settings)
    with db.engine.connect() as conn:
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.dispose()
    return str(found)


def assert_refused(settings: Settings, process: str) -> None:
    args = COMMANDS[process]
    if process != "gunicorn":
        args = [*args, "--config", settings.source]
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={
            **os.environ,
            "YISHITING_CONFIG": settings.source,
            "YISHITING_APP_DATABASE_URL": settings.app.database_url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode in (1, 3), result.stderr  # gunicorn: 3, "failed to boot"
    assert f"is at migration {FUTURE}, which this version of Yishiting does not know" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert revision_of(settings) == FUTURE  # nothing changed


@pytest.mark.parametrize("process", list(COMMANDS))
def test_a_database_from_a_newer_version_is_refused(settings: Settings, process: str) -> None:
    stamp(settings, FUTURE)
    assert_refused(settings, process)


@pytest.mark.parametrize("process", ["init", "worker"])
def test_a_postgresql_database_from_a_newer_version_is_refused(
    settings: Settings, postgres_cluster: Any, process: str
) -> None:
    pg = settings.replace(app={"database_url": postgres_cluster.new_database()})
    db = Database(pg)
    db.migrate()
    db.dispose()
    stamp(pg, FUTURE)
    assert_refused(pg, process)


def test_init_migrates_an_older_database_to_the_newest(backend_settings: Settings) -> None:
    head = revision_of(backend_settings)
    db = Database(backend_settings)
    with db.engine.begin() as conn:  # as the previous version left it
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    db.dispose()
    assert revision_of(backend_settings) != head
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "init", "--config", backend_settings.source],
        cwd=ROOT,
        env={**os.environ, "YISHITING_APP_DATABASE_URL": backend_settings.app.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert revision_of(backend_settings) == head

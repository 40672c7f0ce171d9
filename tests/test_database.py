"""The schema comes from migrations; SQLite is set up as DESIGN.md's database habits say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.config import Settings
from bot.db import Database
from models import Base

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_build_exactly_the_models_schema(backend_settings: Settings) -> None:
    db = Database(backend_settings)
    db.migrate()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_with_a_busy_timeout(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert s.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    db.dispose()


def test_nothing_touches_the_database_at_import_or_app_creation(settings: Settings) -> None:
    """gunicorn --preload forks after create_app: no connection may exist by then."""
    from bot import create_app

    app = create_app(settings)
    assert app.extensions["yishiting"].db._engine is None


def test_jieba_is_loaded_when_the_app_is_created_not_on_the_first_message(
    config_path: Path,
) -> None:
    script = (
        "import sys, jieba\n"
        "from bot import create_app\nfrom bot.config import load_settings\n"
        "assert not jieba.dt.initialized\n"
        "create_app(load_settings(sys.argv[1]))\n"
        "print(jieba.dt.initialized)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(config_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"

"""Alembic environment: run against the connection `bot.db.Database.migrate` passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # `alembic` run by hand: sqlalchemy.url from alembic's own config.
        engine = engine_from_config(
            config.get_section(config.config_ini_section) or {},
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with engine.begin() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    # APScheduler's job store creates and owns its own table.
    return not (type_ == "table" and name == "apscheduler_jobs")


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite cannot ALTER most things, batch mode copies the table.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_object=_include,
    )
    if connection.dialect.name == "sqlite":
        _without_foreign_keys(connection)
        return
    with context.begin_transaction():
        context.run_migrations()


def _without_foreign_keys(connection) -> None:  # type: ignore[no-untyped-def]
    """Run the migrations the way SQLite documents for changing a table's schema.

    Copying a table that other tables refer to (batch mode) drops the original, which fails
    while foreign keys are on; the setting can only change outside a transaction
    (https://sqlite.org/lang_altertable.html#otheralter). So: end the caller's transaction
    (it has only read), turn foreign keys off, migrate in one transaction, check every
    reference with foreign_key_check before committing, turn them on again, and hand the
    caller a new transaction to end as it meant to.
    """
    raw = connection.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        raw.execute("BEGIN IMMEDIATE")
        try:
            context.run_migrations()
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("BEGIN IMMEDIATE")


run()

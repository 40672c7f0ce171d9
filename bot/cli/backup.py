"""`backup` and `restore`: the whole database to a file and back."""

from __future__ import annotations

from pathlib import Path

import click

from ..backup import BackupError
from ..backup import backup as write_backup
from ..backup import restore as load_backup
from .common import config_option, settings_from


@click.command()
@config_option
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(config_path: str | None, out: Path) -> None:
    """Back up the database to OUT: a consistent snapshot, taken while the services run.

    pg_dump's custom format for PostgreSQL, a copy by SQLite's online backup API for SQLite.
    OUT is replaced only when the backup is complete, and readable by its owner only."""
    settings = settings_from(config_path)
    try:
        click.echo(write_backup(settings.app.database_url, out))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@config_option
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(config_path: str | None, source: Path) -> None:
    """Restore the backup SOURCE into the configured database, which must be empty.

    A database with tables is refused and left as it is. Stop the services first; afterwards
    run `yishiting init`, which migrates a backup from an older version to this one."""
    settings = settings_from(config_path)
    try:
        click.echo(load_backup(settings.app.database_url, source))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None

"""`backup` and `restore`: the whole database to a file and back, with the media folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..backup import BackupError, backup_media, media_archive, restore_media
from ..backup import backup as write_backup
from ..backup import restore as load_backup
from ..media.store import MediaStore, media_folder
from .common import config_option, settings_from


@click.command()
@config_option
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(config_path: str | None, out: Path) -> None:
    """Back up the database to OUT: a consistent snapshot, taken while the services run.

    pg_dump's custom format for PostgreSQL, a copy by SQLite's online backup API for SQLite.
    The photos, voice and video kept in `[media] dir` go into OUT.media.tar beside it.
    Both are replaced only when complete, and readable by their owner only."""
    settings = settings_from(config_path)
    store = MediaStore(media_folder(settings))
    try:
        click.echo(write_backup(settings.app.database_url, out))
        click.echo(backup_media(store.folder, store.names(), media_archive(out)))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@config_option
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(config_path: str | None, source: Path) -> None:
    """Restore the backup SOURCE into the configured database, which must be empty, and the
    media archive SOURCE.media.tar (when there is one) into `[media] dir`.

    A database with tables is refused and left as it is. Stop the services first; afterwards
    run `yishiting init`, which migrates a backup from an older version to this one."""
    settings = settings_from(config_path)
    store = MediaStore(media_folder(settings))
    try:
        click.echo(load_backup(settings.app.database_url, source))
        click.echo(restore_media(media_archive(source), store.folder, store.owns))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None

"""Backups and restores of the whole database, consistent while the services run.

PostgreSQL: `pg_dump --format=custom` (one snapshot transaction) and `pg_restore`, with the
credentials of the configured URL passed the libpq way: the password only in PGPASSWORD,
never on a command line. SQLite: the online backup API, which copies a consistent snapshot
page by page while writers carry on.

A restore goes only into an EMPTY database (no tables): replacing live data by accident is
worse than asking the administrator to create a fresh database first.

The media folder (downloaded attachments) goes into `OUT.media.tar` beside the database's
backup, written after the database's snapshot, so every file the snapshot names is in it
(unless erased meanwhile); a restore puts the files back when the archive is there.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url

PG_MAGIC = b"PGDMP"  # the first bytes of pg_dump's custom format
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def backup(database_url: str, out: Path) -> str:
    """Write a snapshot of the database to `out` (replaced atomically); say what was written."""
    url = make_url(database_url)
    tmp = out.with_name(f".{out.name}.partial")
    # Created private before anything is written: a backup holds residents' personal data.
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    except OSError as exc:
        raise BackupError(f"cannot write {out}: {exc.strerror}") from None
    try:
        if url.get_backend_name() == "sqlite":
            kind = "SQLite database"
            _sqlite_backup(_sqlite_path(url), tmp)
        else:
            kind = "PostgreSQL custom-format dump"
            _run_pg("pg_dump", url, "--format=custom", f"--file={tmp}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return f"backup written: {out} ({_size(out.stat().st_size)}, {kind})"


def restore(database_url: str, source: Path) -> str:
    """Load the backup `source` into the configured database, which must be empty."""
    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    _check_kind(source, sqlite)
    tables = _tables(url)
    if tables:
        raise BackupError(
            f"the database {_shown(url)} already has {len(tables)} tables "
            f"({', '.join(sorted(tables)[:3])}, …): a restore goes only into an empty database. "
            "Create a new empty one (or drop and re-create this one) and restore into it; "
            "nothing was changed"
        )
    if sqlite:
        target = _sqlite_path(url)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    else:
        _run_pg(
            "pg_restore",
            url,
            "--no-owner",  # the objects belong to whoever restores: the configured role
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",  # all or nothing
            str(source),
        )
    return f"restored {source} into {_shown(url)} ({len(_tables(url))} tables)"


def _check_kind(source: Path, sqlite: bool) -> None:
    try:
        with open(source, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror}") from None
    if head.startswith(PG_MAGIC):
        found = "a PostgreSQL dump"
    elif head == SQLITE_MAGIC:
        found = "a SQLite database"
    else:
        raise BackupError(f"{source} is not a Yishiting backup (neither pg_dump nor SQLite)")
    expected = "a SQLite database" if sqlite else "a PostgreSQL dump"
    if found != expected:
        raise BackupError(
            f"{source} is {found}, but the configured database needs {expected}: "
            "a backup is restored into the same kind of database it was taken from"
        )


def _tables(url: URL) -> list[str]:
    if url.get_backend_name() == "sqlite" and not Path(_sqlite_path(url)).exists():
        return []
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _sqlite_backup(path: str, tmp: Path) -> None:
    if not Path(path).exists():
        raise BackupError(f"no database at {path} (run `yishiting init` first)")
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # a consistent snapshot, even while the app writes
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return url.database


def _run_pg(tool: str, url: URL, *args: str) -> None:
    """Run pg_dump / pg_restore against `url`: connection in --dbname, password in env."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, str] = {
        key: value if isinstance(value, str) else value[0] for key, value in url.query.items()
    }
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username)):
        if value:
            params[key] = str(value)
    params["dbname"] = url.database or ""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    command = [_pg_binary(tool), f"--dbname={make_conninfo(**params)}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{tool} failed: {' / '.join(detail) or f'exit {result.returncode}'}")


def _pg_binary(tool: str) -> str:
    """PostgreSQL's client tool: on PATH (Debian's wrapper picks the newest), else the newest
    version under /usr/lib/postgresql."""
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=_major_version)
    found = shutil.which(tool) or (versions[-1] if versions else None)
    if not found:
        raise BackupError(f"{tool} not found: install PostgreSQL's client (postgresql-client)")
    return found


def _major_version(path: str) -> int:
    part = Path(path).parts[4]  # /usr/lib/postgresql/<version>/bin/tool
    return int(part) if part.isdigit() else 0


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


# --- the media folder ---------------------------------------------------------------------
# Downloaded photos, voice and video ([media] dir) are not in the database: `backup` writes
# them into a tar archive next to the database's backup, `restore` puts them back.

MEDIA_SUFFIX = ".media.tar"


def media_archive(out: Path) -> Path:
    """The media archive that goes with the backup `out`: `OUT.media.tar`."""
    return out.with_name(out.name + MEDIA_SUFFIX)


def backup_media(folder: Path, names: list[str], out: Path) -> str:
    """Write the stored files `names` of `folder` into the archive `out` (atomically, 0600)."""
    import tarfile

    tmp = out.with_name(f".{out.name}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise BackupError(f"cannot write {out}: {exc.strerror}") from None
    stored = 0
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as archive:
            for name in names:
                try:
                    archive.add(folder / name, arcname=name, recursive=False)
                except FileNotFoundError:
                    continue  # deleted meanwhile (an erasure): not to be kept anyway
                stored += 1
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return f"media written: {out} ({stored} files from {folder}, {_size(out.stat().st_size)})"


def restore_media(source: Path, folder: Path, is_ours: Callable[[str], bool]) -> str:
    """Put the files of the media archive `source` into `folder` (mode 0600). Only plain
    files with a stored file's name are taken; a file already there is left as it is."""
    import tarfile

    if not source.exists():
        return f"no media archive at {source}: photos, voice and video were not restored"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    restored = 0
    try:
        with tarfile.open(source, mode="r:") as archive:
            for member in archive:
                target = folder / member.name
                if not (member.isfile() and is_ours(member.name)) or target.exists():
                    continue
                data = archive.extractfile(member)
                if data is None:
                    continue
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(data, out)
                restored += 1
    except tarfile.TarError as exc:
        raise BackupError(f"{source} is not a media archive ({exc})") from None
    return f"restored {restored} media files into {folder}"

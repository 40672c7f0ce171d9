"""The folder that keeps downloaded attachments: `[media] dir`.

Resolved like the webhook's spool (bot/spool.py): relative to the config file's folder; ""
= `media/` next to the SQLite database (next to the config with PostgreSQL). Files are
written under a temporary name and renamed when complete, mode 0600 (residents' photos and
voices), named by 32 random bytes so no name can be guessed; the database keeps the name.
Every process that runs a worker, and every web process, must see the same folder.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

from ..config import Settings

log = logging.getLogger(__name__)

# What a stored file's name looks like: 43 URL-safe characters and the type's extension.
NAME = re.compile(r"^[A-Za-z0-9_-]{43}\.[a-z0-9]{2,4}$")
TEMPORARY_PREFIX = ".partial-"


def media_folder(settings: Settings) -> Path:
    """`[media] dir`, resolved (see the module docstring)."""
    configured = settings.media.dir
    base = Path(settings.source).parent if settings.source else Path("var")
    if configured:
        return Path(configured) if Path(configured).is_absolute() else base / configured
    url = make_url(settings.app.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "media"
    return base / "media"


class MediaStore:
    """Writes, finds and deletes the stored files of one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def owns(self, name: str) -> bool:
        """Whether `name` is a stored file's name (never a path, never a stray file)."""
        return NAME.match(name) is not None

    def path(self, name: str) -> Path | None:
        """The file called `name`, if the name is one of ours (never a path elsewhere)."""
        return self.folder / name if self.owns(name) else None

    def open_new(self) -> tuple[int, Path]:
        """A new private temporary file: (descriptor, path); `keep` or `discard` it."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.folder / f"{TEMPORARY_PREFIX}{secrets.token_hex(16)}"
        return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), temporary

    def keep(self, temporary: Path, extension: str) -> str:
        """Give a complete temporary file its final, unguessable name; returns the name."""
        name = f"{secrets.token_urlsafe(32)}{extension}"
        os.rename(temporary, self.folder / name)
        return name

    def delete(self, names: Iterable[str]) -> int:
        """Delete these stored files (missing ones are fine); how many were deleted."""
        deleted = 0
        for name in names:
            path = self.path(name)
            if path is None:
                log.warning("media: not deleting %r: not a stored file's name", name)
                continue
            try:
                path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass
        return deleted

    def names(self) -> list[str]:
        """The stored files' names."""
        try:
            return sorted(e.name for e in os.scandir(self.folder) if NAME.match(e.name))
        except FileNotFoundError:
            return []

    def sweep(self, known: set[str], *, older_than: float = 3600.0) -> int:
        """Delete files no attachment refers to (an erasure or retention that committed but
        died before deleting, a download recorded too late) and stale temporary files; only
        those older than `older_than` seconds, so a download being recorded is left alone."""
        cutoff = time.time() - older_than
        removed = 0
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return 0
        for entry in entries:
            ours = NAME.match(entry.name) or entry.name.startswith(TEMPORARY_PREFIX)
            if not ours or entry.name in known:
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

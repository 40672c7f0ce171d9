"""The kept photos and voices follow the resident's rights and the backups: `residents erase`
and retention delete the files, the daily housekeeping deletes files no ticket names, and
`backup` / `restore` carry the media folder along with the database."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from conftest import Clock, console_login, db_of, make_account, make_app
from flask import Flask
from sqlalchemy import select
from test_media import JPEG, attachments, fetch_once, live, started

from bot.cli import main
from bot.config import Settings
from bot.media.store import media_folder
from bot.schedule import jobs
from devtools.fake_wechat import FakeWeChat
from models import JobRun, Ticket

VOICE = b"#!AMR\n" + b"a resident's voice" * 20


@pytest.fixture
def kept(
    backend_settings: Settings,
    fake: FakeWeChat,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Settings, Flask]]:
    """Ticket #1 with a photo and a voice, both downloaded; the CLI sees the same database."""
    monkeypatch.setenv("YISHITING_APP_DATABASE_URL", backend_settings.app.database_url)
    settings = live(backend_settings, fake)
    fake.media.put("m_photo", JPEG, "image/jpeg")
    fake.media.put("m_voice", VOICE, "audio/amr")
    app, resident, _admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    resident.send("voice", MediaId="m_voice", Format="amr")
    fetch_once(settings, app)
    assert [a.media_status for a in attachments(app)] == ["stored", "stored"]
    yield settings, app
    db_of(app).dispose()


def files(settings: Settings) -> list[str]:
    folder = media_folder(settings)
    return sorted(os.listdir(folder)) if folder.exists() else []


def cli(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], *args[1:], "--config", settings.source])


def test_erasing_a_resident_deletes_their_photos_and_voices(kept: Any) -> None:
    settings, app = kept
    assert len(files(settings)) == 2
    result = cli(settings, "residents", "erase", "o_resident_wang", "--yes")
    assert result.exit_code == 0, result.output
    assert "attachments 2" in result.output and "media_files 2" in result.output
    assert files(settings) == []
    assert attachments(app) == []


def housekeeping(settings: Settings, app: Flask, at: datetime, mp: pytest.MonkeyPatch) -> str:
    db = db_of(app)
    mp.setattr(jobs, "RUNTIME", jobs.Runtime(settings, db, lambda: at))
    jobs.housekeeping()
    with db.session(read_only=True) as session:
        return session.scalars(select(JobRun.summary).order_by(JobRun.id.desc()).limit(1)).one()


def test_retention_deletes_the_files_of_old_closed_tickets(
    kept: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, app = kept
    now = datetime.now(UTC)
    assert "deleted 0 media files" in housekeeping(settings, app, now, monkeypatch)
    assert len(files(settings)) == 2  # an open ticket keeps its evidence
    with db_of(app).session() as session:
        ticket = session.scalars(select(Ticket)).one()
        ticket.status, ticket.closed_at = "closed", now
    year_later = now + timedelta(days=366)
    summary = housekeeping(settings, app, year_later, monkeypatch)
    assert "deleted 2 media files of old tickets" in summary
    assert files(settings) == [] and attachments(app) == []


def test_housekeeping_deletes_old_files_no_attachment_names(
    settings: Settings, fake: FakeWeChat, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An erasure that committed but died before deleting leaves files nobody names."""
    settings = live(settings, fake)
    app = make_app(settings, clock=clock)
    folder = media_folder(settings)
    folder.mkdir()
    stray, fresh = folder / ("A" * 43 + ".jpg"), folder / ("B" * 43 + ".jpg")
    for path in (stray, fresh):
        path.write_bytes(JPEG)
    day_ago = time.time() - 86400
    os.utime(stray, (day_ago, day_ago))
    summary = housekeeping(settings, app, datetime.now(UTC), monkeypatch)
    assert "and 1 unreferenced" in summary
    # A file written moments ago may be a download about to be recorded: it stays.
    assert files(settings) == [fresh.name]
    db_of(app).dispose()


def test_backup_carries_the_media_folder_and_restore_brings_it_back(
    settings: Settings, fake: FakeWeChat, clock: Clock, tmp_path: Path
) -> None:
    settings = live(settings, fake)
    fake.media.put("m_photo", JPEG, "image/jpeg")
    app, resident, _admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    fetch_once(settings, app)
    [photo] = attachments(app)
    db_of(app).dispose()

    out = tmp_path / "yishiting.backup"
    made = cli(settings, "backup", str(out))
    assert made.exit_code == 0, made.output
    archive = tmp_path / "yishiting.backup.media.tar"
    assert f"media written: {archive} (1 files from {media_folder(settings)}" in made.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = settings.replace(
        app={"database_url": f"sqlite:///{elsewhere / 'restored.db'}"},
        media={"dir": str(elsewhere / "media")},
    )
    env = {
        "YISHITING_APP_DATABASE_URL": target.app.database_url,
        "YISHITING_MEDIA_DIR": target.media.dir,
    }
    restored = CliRunner(env=env).invoke(main, ["restore", str(out), "--config", settings.source])
    assert restored.exit_code == 0, restored.output
    assert f"restored 1 media files into {elsewhere / 'media'}" in restored.output
    kept_copy = elsewhere / "media" / str(photo.media_file)
    assert kept_copy.read_bytes() == JPEG
    assert stat.S_IMODE(kept_copy.stat().st_mode) == 0o600

    restored_app = make_app(target, clock=clock)
    make_account(restored_app, "boss2", "admin")
    admin = restored_app.test_client()
    assert console_login(admin, "boss2").status_code == 303
    assert admin.get(f"/admin/tickets/1/media/{photo.id}").data == JPEG
    db_of(restored_app).dispose()


def test_a_resident_erased_while_their_photo_downloads_leaves_no_file(
    settings: Settings, fake: FakeWeChat, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("YISHITING_APP_DATABASE_URL", settings.app.database_url)
    settings = live(settings, fake).replace(delivery={"timeout_seconds": 6, "lease_seconds": 20})
    fake.media.put("m_photo", JPEG, "image/jpeg")
    app, resident, _admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    fake.slow_seconds = 3.0
    fake.media.script(["slow"])  # WeChat answers the download late
    downloading = threading.Thread(target=fetch_once, args=(settings, app))
    downloading.start()
    time.sleep(0.5)
    assert attachments(app)[0].media_status == "fetching"
    erased = cli(settings, "residents", "erase", "o_resident_wang", "--yes")
    assert erased.exit_code == 0, erased.output
    downloading.join()
    assert fake.media.calls == 1  # the download did finish, after the erasure
    assert attachments(app) == [] and files(settings) == []
    db_of(app).dispose()

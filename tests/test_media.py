"""Photos, voice and video are kept: a resident's attachment is downloaded from (the fake)
WeChat by the worker into `[media] dir`, shown on the console's ticket page from there, and
deleted with the resident's data; what cannot be kept says why, in Chinese."""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Chat, Clock, WeChat, console_login, db_of, make_account, make_app
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import Worker
from bot.media.store import media_folder
from devtools.fake_wechat import FakeWeChat
from models import Attachment

REPORT = "3号楼楼道的灯坏了好几天了，晚上很黑"
JPEG = b"\xff\xd8\xff\xe0" + b"photo of a dark stairwell" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"a short video" * 50
AMR = b"#!AMR\n" + b"voice" * 100


def live(settings: Settings, fake: FakeWeChat, **media: Any) -> Settings:
    """Settings whose worker talks to the fake WeChat (an app secret is set)."""
    return settings.replace(
        wechat={"app_id": "wx_fake_app", "app_secret": "fake_secret", "api_base_url": fake.url},
        delivery={"timeout_seconds": 1.0, "lease_seconds": 5.0},
        media=media,
    )


@pytest.fixture
def fake(fake: FakeWeChat) -> FakeWeChat:
    fake.media.put("m_photo", JPEG, "image/jpeg")
    return fake


def started(settings: Settings, clock: Clock) -> tuple[Flask, Chat, FlaskClient]:
    """The app; a resident who has reported a problem; an admin at the console."""
    app = make_app(settings, clock=clock)
    resident = Chat(WeChat(app.test_client(), settings), "o_resident_wang")
    assert "#1" in (resident.say(REPORT) or "")
    make_account(app, "boss", "admin")
    admin = app.test_client()
    assert console_login(admin, "boss").status_code == 303
    return app, resident, admin


@pytest.fixture
def running(backend_settings: Settings, fake: FakeWeChat, clock: Clock) -> Iterator[Any]:
    settings = live(backend_settings, fake)
    app, resident, admin = started(settings, clock)
    yield settings, app, resident, admin
    db_of(app).dispose()


def attachments(app: Flask) -> list[Attachment]:
    with db_of(app).session(read_only=True) as session:
        return list(session.scalars(select(Attachment).order_by(Attachment.id)))


def fetch_once(settings: Settings, app: Flask, clock: Clock | None = None) -> int:
    """One round of the worker's downloads (its other half sends pushes)."""
    worker = Worker(settings, db_of(app), **({"clock": clock} if clock else {}))
    try:
        return worker.media.run_once()
    finally:
        worker.media.close()


def files_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


def ticket_page(admin: FlaskClient) -> str:
    page = admin.get("/admin/tickets/1")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_photo_is_downloaded_by_the_worker_and_shown_on_the_ticket_page(running: Any) -> None:
    settings, app, resident, admin = running
    assert resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo") == (
        "已将图片补充到诉求 #1。"
    )
    assert "正在从微信下载" in ticket_page(admin)

    worker = Worker(settings, db_of(app))  # the real loop, as `yishiting worker` runs it
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while attachments(app)[0].media_status != "stored" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
        thread.join()

    [photo] = attachments(app)
    assert (photo.media_status, photo.media_type, photo.media_bytes) == (
        "stored", "image/jpeg", len(JPEG),
    )  # fmt: skip
    assert photo.media_file and re.fullmatch(r"[A-Za-z0-9_-]{43}\.jpg", photo.media_file)
    kept = media_folder(settings) / photo.media_file
    assert kept.read_bytes() == JPEG
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # a resident's photo: owner only

    [src] = re.findall(r'<img src="([^"]+)"', ticket_page(admin))
    assert src == f"/admin/tickets/1/media/{photo.id}"
    served = admin.get(src)
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg" and served.data == JPEG
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(src).status_code == 302  # not signed in: the login form


def test_an_oversized_photo_is_not_kept_and_the_page_says_why(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    settings = live(settings, fake, max_bytes=200)
    app, resident, admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    assert fetch_once(settings, app) == 1
    [photo] = attachments(app)
    assert (photo.media_status, photo.media_file) == ("too_large", None)
    assert files_in(media_folder(settings)) == []  # nothing half-written left behind
    page = ticket_page(admin)
    assert f"文件过大（{len(JPEG)} 字节，上限 200 字节），未保存" in page and "<img" not in page
    db_of(app).dispose()


def test_a_page_or_an_error_body_is_never_kept_as_a_file(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    settings = live(settings, fake)
    app, resident, admin = started(settings, clock)
    fake.media.put("m_page", b"<html><script>alert(1)</script></html>", "text/html")
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_page")
    resident.send("image", PicUrl="http://mmbiz/q.jpg", MediaId="m_expired")  # WeChat: 40007
    assert fetch_once(settings, app) == 2
    page_like, expired = attachments(app)
    assert (page_like.media_status, page_like.media_type) == ("bad_type", "text/html")
    assert (expired.media_status, expired.media_file) == ("failed", None)
    assert "40007" in (expired.media_error or "")
    assert files_in(media_folder(settings)) == []
    page = ticket_page(admin)
    assert "文件类型（text/html）不是图片、语音或视频，未保存" in page
    assert "下载失败，未能保存（errcode 40007: invalid media_id）" in page
    assert admin.get(f"/admin/tickets/1/media/{page_like.id}").status_code == 404
    db_of(app).dispose()


def test_a_download_that_fails_for_now_is_retried_with_backoff(
    running: Any, fake: FakeWeChat, clock: Clock
) -> None:
    settings, app, resident, admin = running
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    fake.media.script(["500", -1])
    assert fetch_once(settings, app, clock) == 1
    [photo] = attachments(app)
    assert (photo.media_status, photo.media_attempts, photo.media_error) == (
        "pending", 1, "media/get: HTTP 500",
    )  # fmt: skip
    assert fetch_once(settings, app, clock) == 0  # not due yet: backoff
    clock.advance(seconds=3)
    assert fetch_once(settings, app, clock) == 1
    assert attachments(app)[0].media_error == "errcode -1: system error"
    clock.advance(seconds=5)
    assert fetch_once(settings, app, clock) == 1
    [photo] = attachments(app)
    assert (photo.media_status, photo.media_attempts) == ("stored", 3)
    assert admin.get(f"/admin/tickets/1/media/{photo.id}").data == JPEG


def test_a_generic_type_is_kept_only_when_its_first_bytes_say_what_it_is(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    settings = live(settings, fake)
    app, resident, admin = started(settings, clock)
    fake.media.put("m_generic", JPEG, "application/octet-stream")
    fake.media.put("m_blob", b"MZ\x90\x00 an executable", "application/octet-stream")
    fake.media.put("m_alias", JPEG, "image/jpg")
    for media_id in ("m_generic", "m_blob", "m_alias"):
        resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId=media_id)
    fetch_once(settings, app)
    generic, blob, alias = attachments(app)
    assert (generic.media_status, generic.media_type) == ("stored", "image/jpeg")
    assert (blob.media_status, blob.media_file) == ("bad_type", None)
    assert (alias.media_status, alias.media_type) == ("stored", "image/jpeg")
    assert len(files_in(media_folder(settings))) == 2
    db_of(app).dispose()


def test_a_video_comes_through_its_video_url_and_plays_voice_is_a_download(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    settings = live(settings, fake)
    app, resident, admin = started(settings, clock)
    fake.media.put("m_video", MP4, "video/mp4")
    fake.media.put("m_voice", AMR, "audio/amr")
    assert resident.send("video", MediaId="m_video", ThumbMediaId="t1") == "已将视频补充到诉求 #1。"
    assert resident.send("voice", MediaId="m_voice", Format="amr") == "已将语音补充到诉求 #1。"
    fetch_once(settings, app)
    video, voice = attachments(app)
    assert (video.media_status, video.media_type) == ("stored", "video/mp4")
    assert (voice.media_status, voice.media_type) == ("stored", "audio/amr")
    page = ticket_page(admin)
    assert f'<video controls preload="metadata" src="/admin/tickets/1/media/{video.id}"' in page
    # No browser plays AMR: a download link and the reason, not a silent player.
    assert f'<a href="/admin/tickets/1/media/{voice.id}" download>下载语音</a>' in page
    assert "浏览器无法直接播放微信语音格式（audio/amr）" in page and "<audio" not in page
    assert admin.get(f"/admin/tickets/1/media/{video.id}").data == MP4
    amr = admin.get(f"/admin/tickets/1/media/{voice.id}")
    assert amr.data == AMR and amr.headers["Content-Disposition"].startswith("attachment")
    db_of(app).dispose()


def test_without_an_app_secret_the_page_says_there_is_only_the_media_id(
    settings: Settings, clock: Clock
) -> None:
    app, resident, admin = started(settings, clock)  # development: pushes go to the console
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    assert fetch_once(settings, app) == 1
    assert attachments(app)[0].media_status == "id_only"
    page = ticket_page(admin)
    assert "仅有微信媒体编号：未配置公众号 AppSecret（开发环境），无法从微信下载。" in page
    assert 'href="http://mmbiz/p.jpg"' in page  # WeChat's own picture address, while it lasts
    db_of(app).dispose()


def test_the_media_folder_is_next_to_the_database_or_where_configured(
    settings: Settings, tmp_path: Path
) -> None:
    assert media_folder(settings) == tmp_path / "media"
    assert media_folder(settings.replace(media={"dir": "kept"})) == tmp_path / "kept"
    assert media_folder(settings.replace(media={"dir": "/srv/m"})) == Path("/srv/m")


def test_the_fake_wechat_serves_registered_media_and_40007_for_an_unknown_id(
    fake: FakeWeChat,
) -> None:
    import requests

    token = requests.post(
        f"{fake.url}cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": "wx_fake_app", "secret": "fake_secret"},
        timeout=5,
    ).json()["access_token"]
    get = f"{fake.url}cgi-bin/media/get"
    photo = requests.get(get, params={"access_token": token, "media_id": "m_photo"}, timeout=5)
    assert (photo.headers["Content-Type"], photo.content) == ("image/jpeg", JPEG)
    unknown = requests.get(get, params={"access_token": token, "media_id": "m_gone"}, timeout=5)
    assert unknown.json() == {"errcode": 40007, "errmsg": "invalid media_id"}
    no_token = requests.get(get, params={"access_token": "x", "media_id": "m_photo"}, timeout=5)
    assert no_token.json()["errcode"] == 40014
    # Another process (the demo, a benchmark) registers media over HTTP.
    requests.post(
        f"{fake.url}_fake/media",
        params={"media_id": "m_mp4", "content_type": "video/mp4"},
        data=MP4,
        timeout=5,
    )
    video = requests.get(get, params={"access_token": token, "media_id": "m_mp4"}, timeout=5)
    link = video.json()["video_url"]  # a video message's media, as WeChat answers it
    assert requests.get(link, timeout=5).content == MP4


def test_metrics_count_attachments_by_download_state(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    from test_metrics import scrape

    settings = live(settings, fake).replace(metrics={"enabled": True})
    app, resident, _admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_photo")
    resident.send("image", PicUrl="http://mmbiz/q.jpg", MediaId="m_gone")
    resident.send("location", Location_X="31.2", Location_Y="121.4", Label="东门")
    waiting = scrape(app)
    assert waiting['yishiting_media_attachments{state="pending"}'] == 2
    fetch_once(settings, app)
    after = scrape(app)
    assert after['yishiting_media_attachments{state="stored"}'] == 1
    assert after['yishiting_media_attachments{state="failed"}'] == 1
    assert after['yishiting_media_attachments{state="pending"}'] == 0
    db_of(app).dispose()


def test_upgrading_queues_recent_attachments_and_marks_older_ones_gone(
    backend_settings: Settings, clock: Clock
) -> None:
    """Attachments from before this version: WeChat still has the last 3 days' media."""
    from datetime import UTC, datetime, timedelta

    from alembic import command

    from bot.db import alembic_config

    app, resident, _admin = started(backend_settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.jpg", MediaId="m_recent")
    resident.send("voice", MediaId="m_old", Format="amr")
    resident.send("location", Location_X="31.2", Location_Y="121.4", Label="东门")
    db = db_of(app)
    with db.session() as session:
        old = session.scalars(select(Attachment).where(Attachment.kind == "voice")).one()
        old.created_at = datetime.now(UTC) - timedelta(days=4)
    with db.engine.begin() as conn:  # as the previous version left it
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    db.migrate()
    recent, gone, place = attachments(app)
    assert (recent.media_status, recent.media_due_at) == ("pending", recent.created_at)
    assert gone.media_status == "failed" and "3 days" in (gone.media_error or "")
    assert place.media_status is None
    db.dispose()

"""In a real Chromium: the photo a resident attached shows on the ticket page, drawn from the
console's media route (its headers do not stop a browser from showing it)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from conftest import Clock, LiveServer, browser_login, db_of
from test_media import attachments, fetch_once, live, started

from bot.config import Settings
from devtools.fake_wechat import FakeWeChat


def png(width: int, height: int) -> bytes:
    """A real PNG of one colour, written by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xcc\x33\x33" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_the_attached_photo_is_drawn_on_the_ticket_page(
    settings: Settings, fake: FakeWeChat, clock: Clock, page: Any
) -> None:
    settings = live(settings, fake)
    fake.media.put("m_png", png(40, 30), "image/png")
    app, resident, _admin = started(settings, clock)
    resident.send("image", PicUrl="http://mmbiz/p.png", MediaId="m_png")
    fetch_once(settings, app)
    assert attachments(app)[0].media_status == "stored"
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.goto(f"{server.url}/admin/tickets/1")
        photo = page.locator("#attachments img")
        photo.wait_for()
        page.wait_for_function("img => img.complete", arg=photo.element_handle())
        assert photo.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [40, 30]
    db_of(app).dispose()

"""Where the problem is, as the committee sees it in the console and a platform in the API:
the ticket list and detail say 地点：3号楼（居民住1号楼）and why (从留言识别 / 从位置消息); the
API's ticket carries `spot`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from api_keys import bearer, make_key
from conftest import Chat, db_of
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Person
from models.places import approve_binding, request_binding
from models.placesfile import import_places, parse_places

PLACES = Path(__file__).parent / "data" / "places_dev.toml"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def prepare(app: Flask, chat: Chat) -> None:
    """The dev community; the chatting resident lives at 1-2-501."""
    chat.follow()
    with db_of(app).session() as session:
        import_places(session, parse_places(PLACES.read_text(encoding="utf-8")), NOW)
        person = session.scalars(select(Person).where(Person.openid == chat.openid)).one()
        request_binding(session, person.id, "1", "2", "501", NOW)
        approve_binding(session, person.id, "test", NOW)


def test_the_console_and_the_api_show_where_the_problem_is(
    app: Flask, chat: Chat, admin_client: FlaskClient, client: FlaskClient
) -> None:
    prepare(app, chat)
    assert "#1" in (chat.say("3号楼电梯坏了，困人了") or "")
    assert "#2" in (chat.say("我家楼道的灯坏了好几天了") or "")

    listing = admin_client.get("/admin/tickets").get_data(as_text=True)
    assert "3号楼（居民住1号楼）" in listing
    assert "1-2-501" in listing  # the one about the home, as ever

    detail = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert "3号楼（居民住1号楼）" in detail and "从留言识别：3号楼" in detail
    at_home = admin_client.get("/admin/tickets/2").get_data(as_text=True)
    assert 'id="ticket-spot"' not in at_home

    secret = make_key(app, "tickets:read")
    one = client.get("/api/v1/tickets/1", headers=bearer(secret)).json
    two = client.get("/api/v1/tickets/2", headers=bearer(secret)).json
    assert (one["spot"], one["place"]) == ("3号楼", "1-2-501")
    assert (two["spot"], two["place"]) == (None, "1-2-501")


def test_a_location_says_so_in_the_console(
    app: Flask, chat: Chat, admin_client: FlaskClient
) -> None:
    prepare(app, chat)
    chat.send("location", Location_X="31.23115", Location_Y="121.47105")
    chat.say("这里的路灯坏了好几天了")
    detail = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert "3号楼（居民住1号楼）" in detail and "从位置消息：离3号楼最近" in detail

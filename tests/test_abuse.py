"""Abuse by chat: rate limits, invisible characters, very long messages, markup in the console.

A resident who writes faster than [abuse] allows is told once, politely; what they send after
that is kept but files nothing and gets no answer, until the minute (or the day) is over.
The count lives in the database, so two processes share it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import Chat, Clock, WeChat, db_of, inbound_count, make_app, pushes_to
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.config import Settings
from models import Ticket, ticket_by_number
from models.staff import add_staff

TOO_FAST = (
    "您发送太频繁了，请稍后再试。为保证每位居民的诉求都能及时处理，"
    "接下来一段时间内您发来的消息我们会保存，但暂不回复、不登记新诉求。"
)


def tickets_filed(app: Flask) -> int:
    with db_of(app).session(read_only=True) as session:
        return session.scalar(select(func.count()).select_from(Ticket)) or 0


def limited_app(settings: Settings, clock: Clock, **abuse: int) -> tuple[Flask, Settings]:
    settings = settings.replace(abuse=abuse)
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        add_staff(session, "o_wang", "王师傅", ["电梯设施"], [], None, 1, datetime.now(UTC))
    return app, settings


def test_a_resident_over_the_minute_limit_is_told_once_then_not_answered(
    settings: Settings, clock: Clock
) -> None:
    app, settings = limited_app(settings, clock, per_minute=3, per_day=100)
    resident = Chat(WeChat(app.test_client(), settings), "o_flood")

    assert "#1" in (resident.say("3号楼电梯坏了，困住了两个老人") or "")
    assert resident.say("帮助") is not None
    assert resident.say("我的") is not None
    assert resident.say("小区东门口每天晚上都有车乱停") == TOO_FAST
    assert resident.say("楼上装修从早上七点就开始打电钻") is None  # WeChat gets "success"
    assert resident.say("帮助") is None
    assert tickets_filed(app) == 1
    assert len(pushes_to(app, "o_wang")) == 1
    assert inbound_count(settings) == 6  # every message is kept

    clock.advance(minutes=1)
    assert "#2" in (resident.say("小区东门口每天晚上都有车乱停") or "")


def test_the_day_limit_holds_until_the_next_day(settings: Settings, clock: Clock) -> None:
    app, settings = limited_app(settings, clock, per_minute=0, per_day=2)
    resident = Chat(WeChat(app.test_client(), settings), "o_flood")

    assert resident.say("帮助") is not None
    assert resident.say("帮助") is not None
    assert resident.say("帮助") == TOO_FAST
    clock.advance(minutes=5)
    assert resident.say("帮助") is None
    clock.advance(days=1)
    assert resident.say("帮助") is not None


def test_staff_are_not_limited(settings: Settings, clock: Clock) -> None:
    app, settings = limited_app(settings, clock, per_minute=2, per_day=2)
    wang = Chat(WeChat(app.test_client(), settings), "o_wang")

    for _ in range(5):
        assert "待办" in (wang.say("待办") or "")


def test_the_limit_is_shared_by_processes(backend_settings: Settings, clock: Clock) -> None:
    """Two app instances on one database (as gunicorn's workers): one count."""
    first, settings = limited_app(backend_settings, clock, per_minute=3, per_day=100)
    second = make_app(settings, clock=clock)
    a = Chat(WeChat(first.test_client(), settings), "o_flood")
    b = Chat(WeChat(second.test_client(), settings), "o_flood")

    assert a.say("帮助") is not None
    assert b.say("帮助") is not None
    assert a.say("帮助") is not None
    assert b.say("帮助") == TOO_FAST
    assert a.say("帮助") is None
    db_of(first).dispose()
    db_of(second).dispose()


def test_invisible_characters_are_stripped_before_filing(app: Flask, chat: Chat) -> None:
    hidden = "3号楼\u200b电梯\u202e坏了\u2066，困住了\ufeff两个老人\u00ad\u200d"
    reply = chat.say(hidden) or ""
    assert "#1" in reply and "电梯设施" in reply
    with db_of(app).session(read_only=True) as session:
        ticket = ticket_by_number(session, 1)
        assert ticket is not None and ticket.text == "3号楼电梯坏了，困住了两个老人"


def test_a_very_long_message_is_kept_whole_and_shortened_in_the_push(
    settings: Settings, clock: Clock
) -> None:
    app, settings = limited_app(settings, clock, per_minute=20, per_day=200)
    resident = Chat(WeChat(app.test_client(), settings), "o_writer")
    long_text = "3号楼电梯坏了，困住了两个老人。" + "电梯一直在响，" * 300

    assert "#1" in (resident.say(long_text) or "")
    [push] = pushes_to(app, "o_wang")
    assert "……" in push and len(push) < 400
    with db_of(app).session(read_only=True) as session:
        ticket = ticket_by_number(session, 1)
        assert ticket is not None and ticket.text == long_text


def test_markup_and_bidi_overrides_show_harmlessly_in_the_console(
    app: Flask, chat: Chat, admin_client: FlaskClient
) -> None:
    chat.say("<script>alert('x')</script>\u202e3号楼电梯坏了，困住了两个老人")
    with db_of(app).session() as session:  # a row stored before texts were cleaned
        older = ticket_by_number(session, 1)
        assert older is not None
        session.add(
            Ticket(
                number=2,
                person_id=older.person_id,
                text="<img src=x onerror=alert(1)>\u202e楼道灯坏了",
                text_key="k",
                status="new",
                created_at=older.created_at,
                updated_at=older.created_at,
            )
        )

    page = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;3号楼电梯坏了" in page
    assert "<script>alert" not in page and "\u202e" not in page
    page = admin_client.get("/admin/tickets/2").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    listing = admin_client.get("/admin/tickets").get_data(as_text=True)
    assert "<script>alert" not in listing and "<img src=x" not in listing

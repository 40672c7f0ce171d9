"""The webhook trusts only what it can verify: a signed URL is good once, for a few minutes.

Plain mode's signature covers the token, the timestamp and the nonce, not the body: whoever
saw one signed URL (a proxy log, a browser history) could post any body with it. These are
the attacks of issue #14, each refused, and WeChat's own retries, each still answered.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import TOKEN, Clock, WeChat, inbound_count, make_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.config import Settings
from bot.db import Database
from bot.schedule.jobs import forget_old_requests
from bot.wechat.protocol import signature
from devtools.simulator import message_xml
from models import InboundMessage, SeenRequest


def signed(timestamp: str, nonce: str = "4411223344", **extra: str) -> dict[str, str]:
    return {
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": signature(TOKEN, timestamp, nonce),
        **extra,
    }


YEAR_2001 = str(int(datetime(2001, 9, 9, tzinfo=UTC).timestamp()))
YEAR_2286 = "9999999999"  # 2286-11-20


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        (YEAR_2001, "behind our clock"),
        (YEAR_2286, "ahead of our clock"),
        ("", "missing timestamp"),
        ("soon", "not a number"),
        ("1e9", "not a number"),
    ],
)
def test_a_signed_request_with_a_timestamp_far_from_our_clock_is_refused(
    client: FlaskClient, method: str, timestamp: str, reason: str
) -> None:
    body = message_xml("o_demo_staff", text="待办").encode()
    response = getattr(client, method)(
        "/wechat", query_string=signed(timestamp, echostr="1"), data=body
    )
    assert response.status_code == 403
    assert reason in response.get_data(as_text=True)


def test_the_skew_window_is_measured_on_the_apps_clock(
    client: FlaskClient, clock: Clock, settings: Settings
) -> None:
    now = int(time.time())
    inside = client.get("/wechat", query_string=signed(str(now - 290), echostr="ok"))
    assert inside.get_data(as_text=True) == "ok"
    clock.advance(seconds=20)  # the same timestamp is now 310 s old: past the 300 s window
    late = client.get("/wechat", query_string=signed(str(now - 290), nonce="77", echostr="ok"))
    assert late.status_code == 403
    stricter = make_app(settings.replace(wechat={"max_clock_skew_seconds": 60}))
    old = stricter.test_client().get("/wechat", query_string=signed(str(now - 120), echostr="1"))
    assert old.status_code == 403


def test_a_signed_url_replayed_with_another_body_is_refused(
    wechat: WeChat, client: FlaskClient, settings: Settings
) -> None:
    """The attack of issue #14: a resident's signed URL reused to speak as the staff."""
    seen = wechat.signer.sign(message_xml("o_resident", text="帮助"))
    first = client.post("/wechat", query_string=seen.query, data=seen.body)
    assert first.status_code == 200
    forged = message_xml("o_demo_staff", text="待办").encode()
    replay = client.post("/wechat", query_string=seen.query, data=forged)
    assert replay.status_code == 403
    assert "already used" in replay.get_data(as_text=True)
    db = Database(settings)
    with db.session(read_only=True) as s:
        assert list(s.scalars(select(InboundMessage.openid))) == ["o_resident"]
    db.dispose()


def test_wechats_retry_with_the_same_url_and_body_gets_the_stored_reply(
    backend_settings: Settings,
) -> None:
    """WeChat's retries repeat the query string (timestamp and nonce) with the same body:
    that is a retry, answered with the first reply — not a replay."""
    app = make_app(backend_settings)
    wechat = WeChat(app.test_client(), backend_settings)
    request = wechat.signer.sign(message_xml("o_patient", text="帮助"))
    replies = []
    for _ in range(3):
        response = wechat.client.post("/wechat", query_string=request.query, data=request.body)
        assert response.status_code == 200
        replies.append(wechat.signer.read_reply(response.get_data()))
    assert replies[0] is not None and replies == [replies[0]] * 3
    assert inbound_count(backend_settings) == 1
    app.extensions["yishiting"].db.dispose()


def test_used_pairs_are_shared_by_every_process(settings: Settings) -> None:
    """Two apps on one database (two gunicorn workers, two machines): a pair used on one is
    refused on the other with another body."""
    one, other = make_app(settings), make_app(settings)
    wechat = WeChat(one.test_client(), settings)
    seen = wechat.signer.sign(message_xml("o_resident", text="帮助"))
    assert (
        one.test_client().post("/wechat", query_string=seen.query, data=seen.body).status_code
        == 200
    )
    forged = message_xml("o_demo_staff", text="待办").encode()
    assert (
        other.test_client().post("/wechat", query_string=seen.query, data=forged).status_code == 403
    )
    for app in (one, other):
        app.extensions["yishiting"].db.dispose()


def test_pairs_older_than_the_window_are_forgotten_by_the_sweep(
    wechat: WeChat, settings: Settings
) -> None:
    wechat.send("o_a", "帮助")
    wechat.send("o_b", "帮助")
    db = Database(settings)
    try:
        with db.session() as session:
            assert forget_old_requests(session, datetime.now(UTC), settings) is None
            assert session.scalar(select(func.count()).select_from(SeenRequest)) == 2
            later = datetime.now(UTC) + timedelta(seconds=2 * 300 + 5)
            assert forget_old_requests(session, later, settings) == "2 old request nonces"
            assert session.scalar(select(func.count()).select_from(SeenRequest)) == 0
    finally:
        db.dispose()


def test_a_malformed_nonce_is_refused(client: FlaskClient) -> None:
    now = str(int(time.time()))
    for nonce in ("", "x" * 65, "12 34"):
        query = signed(now, nonce=nonce, echostr="1")
        assert client.get("/wechat", query_string=query).status_code == 403


def test_the_signed_url_of_a_server_check_cannot_carry_a_message(
    client: FlaskClient, settings: Settings
) -> None:
    """WeChat's GET check (its URL, echostr and all, often sits in a proxy log) signs the same
    way as a message in plain mode: its pair is used up by the GET itself."""
    now = str(int(time.time()))
    query = signed(now, nonce="4242", echostr="hello")
    assert client.get("/wechat", query_string=query).get_data(as_text=True) == "hello"
    forged = message_xml("o_demo_staff", text="待办").encode()
    replay = client.post("/wechat", query_string=query, data=forged)
    assert replay.status_code == 403
    assert client.get("/wechat", query_string=query).get_data(as_text=True) == "hello"

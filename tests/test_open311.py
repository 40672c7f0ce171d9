"""Open311 GeoReport v2 at /open311/v2, as a GeoReport client uses it: list the services, post
a service request (form-encoded with `api_key`, as Open311 clients send it; or JSON), follow
it until it is closed. Refusals are GeoReport's own `[{"code", "description"}]`."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_keys import bearer, make_key
from conftest import Chat, Clock, LiveServer, WeChat, db_of, make_app, pushes_to, staff
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from bot.config import Settings
from models import Building, Role, Ticket, topic_by_name
from models.api.audit import ApiRequest
from models.api.keys import key_for, revoke
from models.communities import HOME_ID, add_community
from models.community_topics import set_override
from models.lifecycle import Actor, accept, reject, resolve

V2 = "/open311/v2"
LIFT = "电梯设施"
# Says 垃圾 (rubbish) on purpose: the service_code, not the classifier, picks the topic.
TEXT = "16号楼门口堆满了垃圾，电梯也停了"


def refusal(answer: TestResponse, code: int) -> str:
    """GeoReport's error: a JSON array with the code and a description; the description."""
    assert answer.status_code == code, answer.get_data(as_text=True)
    assert answer.mimetype == "application/json"
    body = answer.json
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == code
    description: str = body[0]["description"]
    return description


def topic_id(app: Flask, name: str = LIFT) -> str:
    with db_of(app).session(read_only=True) as session:
        topic = topic_by_name(session, name)
        assert topic is not None
        return str(topic.id)


def west(app: Flask) -> int:
    """A second community (西社区) with a building 8号楼; the first one gets 16号楼."""
    with db_of(app).session() as session:
        community, _ = add_community(session, "西社区", datetime.now(UTC))
        session.add_all(
            [
                Building(name="16号楼", community_id=HOME_ID),
                Building(name="8号楼", community_id=community.id),
            ]
        )
        session.flush()
        return community.id


def home_name(app: Flask) -> str:
    return str(app.extensions["yishiting"].settings.app.community_name)


@pytest.fixture
def on_both(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The app on SQLite, then on PostgreSQL."""
    app = make_app(backend_settings, clock=clock)
    yield app
    db_of(app).dispose()


# -- services ------------------------------------------------------------------------------


def test_a_client_discovers_the_services_without_a_key(app: Flask, client: FlaskClient) -> None:
    answer = client.get(f"{V2}/services.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    lift = next(s for s in answer.json if s["service_name"] == LIFT)
    assert lift["service_code"] == topic_id(app)
    assert lift["metadata"] is False and lift["type"] == "realtime"
    assert "电梯" in lift["keywords"].split(",")
    assert set(lift) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    # ... and the request is in the audit, as a keyless one
    with db_of(app).session(read_only=True) as session:
        rows = session.execute(select(ApiRequest.key_id, ApiRequest.route)).all()
    assert [tuple(r) for r in rows] == [(None, "/open311/v2/services.<fmt>")]


def test_services_of_a_jurisdiction_and_a_community_key(app: Flask, client: FlaskClient) -> None:
    west_id = west(app)
    with db_of(app).session() as session:
        topic = topic_by_name(session, LIFT)
        assert topic is not None
        set_override(
            session, west_id, topic, enabled=False, sla_hours=None, actor="t", now=datetime.now(UTC)
        )

    listed = client.get(f"{V2}/services.json", query_string={"jurisdiction_id": "西社区"})
    assert LIFT not in [s["service_name"] for s in listed.json]
    assert LIFT in [s["service_name"] for s in client.get(f"{V2}/services.json").json]
    unknown = client.get(f"{V2}/services.json", query_string={"jurisdiction_id": "北社区"})
    assert "北社区" in refusal(unknown, 404)

    west_key = make_key(app, "tickets:read", community_id=west_id)
    own = client.get(f"{V2}/services.json", query_string={"api_key": west_key})
    assert LIFT not in [s["service_name"] for s in own.json]
    other = client.get(
        f"{V2}/services.json", query_string={"api_key": west_key, "jurisdiction_id": home_name(app)}
    )
    assert "西社区" in refusal(other, 403)


# -- posting a service request ----------------------------------------------------------------


def test_a_form_encoded_post_files_a_ticket_under_its_service_code(on_both: Flask) -> None:
    client = on_both.test_client()
    west(on_both)
    keeper = staff(on_both, "o_staff_li", "李师傅", topics=(LIFT,))
    secret = make_key(on_both, "tickets:read,tickets:write")
    answer = client.post(
        f"{V2}/requests.json",
        data={
            "api_key": secret,
            "jurisdiction_id": home_name(on_both),
            "service_code": topic_id(on_both),
            "description": TEXT,
            "address_string": "16号楼",
            "phone": "13800138000",
            "first_name": "王",
            "last_name": "芳",
            "email": "wang@example.com",
        },
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [created] = answer.json
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    number = created["service_request_id"]
    assert isinstance(number, str) and number.isdigit()
    assert (
        f"#{number}" in created["service_notice"]
        and home_name(on_both) in created["service_notice"]
    )

    with db_of(on_both).session(read_only=True) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == int(number))).one()
        assert ticket.topic is not None and ticket.topic.name == LIFT
        assert (ticket.channel, ticket.source, ticket.external_id) == ("api", "open311", None)
        assert ticket.text == TEXT and ticket.phone == "13800138000"
        assert ticket.assignee_id == keeper
    assert any(f"#{number}" in push for push in pushes_to(on_both, "o_staff_li"))

    [shown] = client.get(f"{V2}/requests/{number}.json", headers=bearer(secret)).json
    assert shown["service_request_id"] == number and shown["status"] == "open"
    assert (shown["service_code"], shown["service_name"]) == (topic_id(on_both), LIFT)
    assert shown["description"] == TEXT and shown["address"] == "16号楼"
    assert shown["agency_responsible"] == home_name(on_both)
    assert shown["expected_datetime"] is not None and shown["zipcode"] is None


def test_overlong_description_or_address_is_refused_before_the_database(on_both: Flask) -> None:
    client = on_both.test_client()
    secret = make_key(on_both, "tickets:write")
    form = {"api_key": secret, "service_code": topic_id(on_both), "description": TEXT}
    long_text = refusal(
        client.post(f"{V2}/requests.json", data={**form, "description": "电" * 4001}), 400
    )
    assert "description" in long_text and "4000" in long_text
    long_place = refusal(
        client.post(f"{V2}/requests.json", data={**form, "address_string": "楼" * 65}), 400
    )
    assert "address_string" in long_place
    assert (
        client.post(f"{V2}/requests.json", data={**form, "description": "电" * 4000}).status_code
        == 200
    )


def test_a_json_post_with_a_bearer_key(app: Flask, client: FlaskClient) -> None:
    secret = make_key(app, "tickets:write")
    answer = client.post(
        f"{V2}/requests.json",
        json={
            "service_code": int(topic_id(app)),
            "description": "电梯困人",
            "lat": 39.9,
            "long": 116.4,
        },
        headers=bearer(secret),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [created] = answer.json
    assert "坐标未保存" in created["service_notice"]


def test_what_a_post_must_carry(app: Flask, client: FlaskClient) -> None:
    secret = make_key(app, "tickets:write")
    form = {"api_key": secret, "service_code": topic_id(app), "description": TEXT}

    def post(**changes: Any) -> TestResponse:
        sent = {k: v for k, v in {**form, **changes}.items() if v is not None}
        return client.post(f"{V2}/requests.json", data=sent)

    assert "service_code" in refusal(post(service_code=None), 400)
    assert "description" in refusal(post(description="   "), 400)
    assert "service_code=9999" in refusal(post(service_code="9999"), 400)
    assert "service_code=电梯" in refusal(post(service_code="电梯"), 400)
    assert "lat" in refusal(post(lat="北纬39度"), 400)
    assert "long" in refusal(post(long="200"), 400)
    assert "电话" in refusal(post(phone="12"), 400)
    assert "99号楼" in refusal(post(address_string="99号楼"), 400)
    assert "JSON" in refusal(
        client.post(
            f"{V2}/requests.json",
            data="[1]",
            content_type="application/json",
            headers=bearer(secret),
        ),
        400,
    )
    with db_of(app).session(read_only=True) as session:
        assert session.scalars(select(Ticket)).all() == []


def test_a_service_switched_off_where_the_ticket_lands_files_nothing(
    app: Flask, client: FlaskClient
) -> None:
    west_id = west(app)
    with db_of(app).session() as session:
        topic = topic_by_name(session, LIFT)
        assert topic is not None
        set_override(
            session, west_id, topic, enabled=False, sla_hours=None, actor="t", now=datetime.now(UTC)
        )
    street = make_key(app, "tickets:write")
    form = {"api_key": street, "service_code": topic_id(app), "description": TEXT}

    # the building says where: 8号楼 is in 西社区, where 电梯设施 is switched off
    off = refusal(client.post(f"{V2}/requests.json", data={**form, "address_string": "8号楼"}), 400)
    assert LIFT in off and "西社区" in off
    # a street key in a street of two communities says which one
    assert "jurisdiction_id" in refusal(client.post(f"{V2}/requests.json", data=form), 400)
    with db_of(app).session(read_only=True) as session:
        assert session.scalars(select(Ticket)).all() == []
    filed = client.post(f"{V2}/requests.json", data={**form, "jurisdiction_id": home_name(app)})
    assert filed.status_code == 200


def over_http(url: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
    """What a GeoReport client does: a form-encoded POST (or a GET), JSON back."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    sent = urllib.request.Request(url, data=data)  # urllib: application/x-www-form-urlencoded
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_georeport_client_follows_its_request_while_staff_answer_by_chat(
    app: Flask, live_server: LiveServer, wechat: WeChat
) -> None:
    staff(app, "o_staff_li", "李师傅", topics=(LIFT,))
    secret = make_key(app, "tickets:read,tickets:write")
    base = f"{live_server.url}{V2}"
    status, services = over_http(f"{base}/services.json")
    code = next(s["service_code"] for s in services if s["service_name"] == LIFT)

    form = {"api_key": secret, "service_code": code, "description": "3号楼电梯停在5楼不动了"}
    status, created = over_http(f"{base}/requests.json", form)
    assert status == 200, created
    number = created[0]["service_request_id"]
    status, [shown] = over_http(f"{base}/requests/{number}.json?api_key={secret}")
    assert (shown["status"], shown["status_notes"]) == ("open", None)

    li = Chat(wechat, "o_staff_li")
    li.say(f"接单 {number}")
    li.say(f"办结 {number} 已更换电梯门机控制板")
    status, [shown] = over_http(f"{base}/requests/{number}.json?api_key={secret}")
    assert (shown["status"], shown["status_notes"]) == ("closed", "已更换电梯门机控制板")

    status, refused = over_http(f"{base}/requests.json", {"service_code": code})
    assert status == 401 and refused[0]["code"] == 401


# -- following requests ---------------------------------------------------------------------


def filed(client: FlaskClient, secret: str, code: str, text: str, **more: str) -> str:
    answer = client.post(
        f"{V2}/requests.json",
        data={"api_key": secret, "service_code": code, "description": text, **more},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    number: str = answer.json[0]["service_request_id"]
    return number


def test_requests_open_and_closed_with_their_notes(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    keeper = staff(app, "o_staff_li", "李师傅", topics=(LIFT, "垃圾分类"))
    secret = make_key(app, "tickets:read,tickets:write,personal")
    lift, rubbish = topic_id(app), topic_id(app, "垃圾分类")
    first = filed(client, secret, lift, "电梯停了", phone="13800138000")
    second = filed(client, secret, rubbish, "垃圾没人清")
    third = filed(client, secret, lift, "电梯异响")
    ys = app.extensions["yishiting"]
    now = ys.conversation.clock()
    with db_of(app).session() as session:
        actor = Actor(keeper, Role.STAFF)
        one = session.scalars(select(Ticket).where(Ticket.number == int(first))).one()
        accept(session, one, actor, now)
        resolve(session, one, actor, "已更换电梯控制板", now, rating_days=3, followup_days=7)
        two = session.scalars(select(Ticket).where(Ticket.number == int(second))).one()
        reject(session, two, actor, "不属于本社区", now)

    everything = client.get(f"{V2}/requests.json", query_string={"api_key": secret}).json
    assert [r["service_request_id"] for r in everything] == [third, second, first]
    by_id = {r["service_request_id"]: r for r in everything}
    assert (by_id[first]["status"], by_id[first]["status_notes"]) == ("closed", "已更换电梯控制板")
    assert (by_id[second]["status"], by_id[second]["status_notes"]) == ("closed", "不属于本社区")
    assert (by_id[third]["status"], by_id[third]["status_notes"]) == ("open", None)
    # nothing personal, even to a key with `personal`: GeoReport has no field for it
    assert "13800138000" not in client.get(
        f"{V2}/requests.json", query_string={"api_key": secret}
    ).get_data(as_text=True)

    def ids(**query: str) -> list[str]:
        answer = client.get(f"{V2}/requests.json", query_string={"api_key": secret, **query})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return [r["service_request_id"] for r in answer.json]

    assert ids(status="open") == [third]
    assert ids(status="closed") == [second, first]
    assert ids(status="open,closed") == [third, second, first]
    both = client.get(f"{V2}/requests.json?status=open&status=closed&api_key={secret}")
    assert [r["service_request_id"] for r in both.json] == [third, second, first]
    assert ids(service_code=lift) == [third, first]
    assert ids(service_request_id=f"{first},{third}") == [third, first]
    assert ids(service_request_id=first, status="open") == [first]  # ids override the rest
    later = (now + timedelta(hours=1)).isoformat()
    assert ids(start_date=later) == []
    assert ids(end_date=later) == [third, second, first]
    assert ids(start_date="2000-01-01T00:00:00Z", end_date="2000-02-01T00:00:00Z") == []
    # without dates: the last 90 days
    clock.advance(days=91)
    assert ids() == []
    assert ids(start_date="2000-01-01") == [third, second, first]

    bad = {
        "status": "fixed",
        "start_date": "yesterday",
        "service_code": "电梯",
        "service_request_id": "#1",
    }
    for name, value in bad.items():
        answer = client.get(f"{V2}/requests.json", query_string={"api_key": secret, name: value})
        assert value in refusal(answer, 400)
    too_many = ",".join(str(n) for n in range(1, 1002))
    assert "1000" in refusal(
        client.get(
            f"{V2}/requests.json", query_string={"api_key": secret, "service_request_id": too_many}
        ),
        400,
    )
    reversed_dates = {"start_date": "2026-12-02T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"}
    assert "end_date" in refusal(
        client.get(f"{V2}/requests.json", query_string={"api_key": secret, **reversed_dates}), 400
    )
    assert "abc" in refusal(client.get(f"{V2}/requests/abc.json", headers=bearer(secret)), 404)
    assert refusal(client.get(f"{V2}/requests/999999.json", headers=bearer(secret)), 404)


# -- keys, communities, formats -------------------------------------------------------------


def test_every_route_checks_the_key(app: Flask, client: FlaskClient) -> None:
    reader = make_key(app, "tickets:read")
    writer = make_key(app, "tickets:write")
    number = filed(client, writer, topic_id(app), TEXT)
    gone = make_key(app, "tickets:read,tickets:write")
    with db_of(app).session() as session:
        key = key_for(session, gone)
        assert key is not None
        revoke(session, key, by="测试", now=datetime.now(UTC))
    form = {"service_code": topic_id(app), "description": TEXT}
    routes = [
        ("GET", f"{V2}/requests.json", "tickets:read"),
        ("GET", f"{V2}/requests/{number}.json", "tickets:read"),
        ("POST", f"{V2}/requests.json", "tickets:write"),
    ]
    for method, path, scope in routes:
        send = {"method": method, "data": form} if method == "POST" else {"method": method}
        assert "api_key" in refusal(client.open(path, **send), 401)
        assert "无效" in refusal(
            client.open(path, query_string={"api_key": "yst_nope"}, **send), 401
        )
        assert "吊销" in refusal(client.open(path, query_string={"api_key": gone}, **send), 401)
        other = writer if scope == "tickets:read" else reader
        assert scope in refusal(client.open(path, query_string={"api_key": other}, **send), 403)
    # services.json needs no key, but a key sent is checked
    assert "吊销" in refusal(client.get(f"{V2}/services.json", query_string={"api_key": gone}), 401)


def test_a_community_key_does_not_reach_another_community(app: Flask, client: FlaskClient) -> None:
    west_id = west(app)
    home_key = make_key(app, "tickets:read,tickets:write", community_id=HOME_ID)
    west_key = make_key(app, "tickets:read,tickets:write", community_id=west_id)
    theirs = filed(client, west_key, topic_id(app), "西边的电梯坏了")
    ours = filed(client, home_key, topic_id(app), "东边的电梯坏了")

    assert refusal(
        client.get(f"{V2}/requests/{theirs}.json", query_string={"api_key": home_key}), 404
    )
    listed = client.get(f"{V2}/requests.json", query_string={"api_key": home_key}).json
    assert [r["service_request_id"] for r in listed] == [ours]
    asked = {"api_key": home_key, "jurisdiction_id": "西社区"}
    assert refusal(client.get(f"{V2}/requests.json", query_string=asked), 403)
    posted = client.post(
        f"{V2}/requests.json", data={**asked, "service_code": topic_id(app), "description": TEXT}
    )
    assert refusal(posted, 403)
    # the street sees both, and a jurisdiction narrows it
    street = make_key(app, "tickets:read")
    both = client.get(f"{V2}/requests.json", query_string={"api_key": street}).json
    assert [r["service_request_id"] for r in both] == [ours, theirs]
    west_only = client.get(
        f"{V2}/requests.json", query_string={"api_key": street, "jurisdiction_id": "西社区"}
    )
    assert [r["service_request_id"] for r in west_only.json] == [theirs]
    assert west_only.json[0]["agency_responsible"] == "西社区"


def test_the_rate_limit_holds_for_open311_too(settings: Settings, clock: Clock) -> None:
    app = make_app(settings.replace(api={"rate_limit_per_minute": 2}), clock=clock)
    client = app.test_client()
    secret = make_key(app, "tickets:read")
    for _ in range(2):
        assert (
            client.get(f"{V2}/requests.json", query_string={"api_key": secret}).status_code == 200
        )
    limited = client.get(f"{V2}/requests.json", query_string={"api_key": secret})
    assert "每分钟最多 2 次" in refusal(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1
    db_of(app).dispose()


def test_json_only_and_unknown_paths_answer_as_georeport(client: FlaskClient) -> None:
    assert ".json" in refusal(client.get(f"{V2}/services.xml"), 400)
    assert ".json" in refusal(client.get(f"{V2}/requests.xml"), 400)
    assert refusal(client.get(f"{V2}/nothing.json"), 404)
    wrong = client.delete(f"{V2}/services.json")
    refusal(wrong, 405)
    assert "GET" in wrong.headers["Allow"]


def test_a_json_post_with_its_api_key_and_a_list_for_a_field_is_told_which_field(
    app: Flask, client: FlaskClient
) -> None:
    """The key travels in the same JSON body as the bad field: the answer is the field's 400,
    not a 401 saying the key is missing."""
    secret = make_key(app, "tickets:write")
    answer = client.post(
        f"{V2}/requests.json",
        json={"api_key": secret, "service_code": [1], "description": "电梯困人"},
    )
    assert "service_code" in refusal(answer, 400)
    with db_of(app).session(read_only=True) as session:
        assert session.scalars(select(Ticket)).all() == []


def test_a_json_post_with_a_lone_surrogate_is_a_400_not_a_crash(
    app: Flask, client: FlaskClient
) -> None:
    """JSON may escape half a UTF-16 pair (\\ud800); no database stores it: refused, named."""
    secret = make_key(app, "tickets:write")
    body = {"api_key": secret, "service_code": topic_id(app), "description": "电梯\ud800困人"}
    raw = json.dumps(body)  # ASCII, with the escape as a client would send it
    answer = client.post(f"{V2}/requests.json", data=raw, content_type="application/json")
    assert "description" in refusal(answer, 400)
    raw = json.dumps({**body, "api_key": "yst_\ud800", "description": "电梯困人"})
    answer = client.post(f"{V2}/requests.json", data=raw, content_type="application/json")
    assert "api_key" in refusal(answer, 400)
    with db_of(app).session(read_only=True) as session:
        assert session.scalars(select(Ticket)).all() == []

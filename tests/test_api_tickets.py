"""POST /api/v1/tickets: a city platform sends a work order; it is filed through the one
intake (routed, its deadline, its holder pushed; a bound resident with its phone told as of
their own report), once — the same order again, also at the same moment, is the same ticket,
and an Idempotency-Key replays the first answer. Bad orders are refused with a problem in
Chinese, overlong fields by the schema on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from api_keys import bearer, make_key
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to, staff
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.api import texts
from bot.config import Settings
from models import Person, Ticket
from models.api.orders import ApiIdempotency
from models.places import Building, Grid, approve_binding

LIFT = "16号楼电梯坏了，困住了两个老人，一直在报警"
ORDER = {"text": LIFT, "source": "12345", "external_id": "GD20261206001"}


def prepare(app: Flask) -> None:
    """王师傅 handles lifts; building 16 is in 第一网格 of the first community (本社区)."""
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))


def post(client: FlaskClient, secret: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/tickets", json=body, headers={**bearer(secret), **headers})


def tickets_in(app: Flask) -> int:
    with db_of(app).session(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_a_work_order_is_filed_routed_with_its_deadline_and_its_holder_pushed(
    app: Flask, client: FlaskClient
) -> None:
    prepare(app)
    secret = make_key(app, "tickets:write")
    answer = post(client, secret, {**ORDER, "building": "16号楼", "due_at": "2026-12-31T18:00:00"})
    assert answer.status_code == 201
    assert answer.mimetype == "application/json"
    ticket = answer.json
    assert ticket["number"] == 1 and ticket["status"] == "new"
    assert ticket["topic"] == "电梯设施"
    assert ticket["assignee"]["name"] == "王师傅"
    # A deadline without an offset is the street's local time ([app] timezone, +08:00).
    assert ticket["due_at"] == "2026-12-31T10:00:00+00:00"
    assert ticket["channel"] == "api" and ticket["source"] == "12345"
    assert ticket["external_id"] == "GD20261206001" and ticket["text"] == LIFT
    assert ticket["community"] == "本社区" and ticket["place"] is not None
    assert [e["action"] for e in ticket["timeline"]] == ["filed"]
    pushed = pushes_to(app, "o_wang", "ticket.assigned")
    assert len(pushed) == 1 and "#1" in pushed[0] and LIFT in pushed[0]


def test_without_a_deadline_the_topics_applies(app: Flask, client: FlaskClient) -> None:
    prepare(app)
    ticket = post(client, make_key(app, "tickets:write"), ORDER).json
    created = datetime.fromisoformat(ticket["created_at"])
    assert (datetime.fromisoformat(ticket["due_at"]) - created).total_seconds() > 3600


def test_the_same_order_again_is_the_same_ticket_200_not_201(
    app: Flask, client: FlaskClient
) -> None:
    prepare(app)
    secret = make_key(app, "tickets:write")
    first = post(client, secret, ORDER)
    again = post(client, secret, {**ORDER, "text": "再次派单：" + LIFT})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["number"] == first.json["number"] == 1
    assert again.json["text"] == LIFT  # the ticket as filed
    assert tickets_in(app) == 1
    assert len(pushes_to(app, "o_wang", "ticket.assigned")) == 1
    other = post(client, secret, {**ORDER, "source": "grid"})  # another platform's number
    assert other.status_code == 201 and other.json["number"] == 2


@pytest.fixture
def backend_app(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    app = make_app(backend_settings, clock=clock)
    yield app
    db_of(app).dispose()


def at_once(
    app: Flask, secret: str, bodies: list[tuple[dict[str, Any], dict[str, str]]]
) -> list[Any]:
    """Send the requests from threads released together; their answers in order."""
    answers: list[Any] = [None] * len(bodies)
    start = threading.Barrier(len(bodies))

    def send(n: int) -> None:
        body, headers = bodies[n]
        client = app.test_client()
        start.wait()
        answers[n] = post(client, secret, body, **headers)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_the_same_order_sent_at_the_same_moment_is_filed_once(backend_app: Flask) -> None:
    prepare(backend_app)
    secret = make_key(backend_app, "tickets:write")
    answers = at_once(backend_app, secret, [(ORDER, {})] * 6)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 201]
    assert {a.json["number"] for a in answers} == {1}
    assert tickets_in(backend_app) == 1


def test_the_same_idempotency_key_at_the_same_moment_is_answered_once(
    backend_app: Flask,
) -> None:
    prepare(backend_app)
    secret = make_key(backend_app, "tickets:write")
    answers = at_once(backend_app, secret, [(ORDER, {"Idempotency-Key": "req-1"})] * 4)
    # The first answer (201), replayed to the others — or, for a request that lost the
    # race inside the transaction, the order found again (200): the same ticket either way.
    assert {a.json["number"] for a in answers} == {1}
    assert 201 in {a.status_code for a in answers}
    assert tickets_in(backend_app) == 1
    with db_of(backend_app).session(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(ApiIdempotency)) == 1


def test_an_idempotency_key_replays_the_answer_and_refuses_another_body(
    app: Flask, client: FlaskClient
) -> None:
    prepare(app)
    secret = make_key(app, "tickets:write")
    first = post(client, secret, ORDER, **{"Idempotency-Key": "8f14e45f"})
    again = post(client, secret, ORDER, **{"Idempotency-Key": "8f14e45f"})
    assert first.status_code == again.status_code == 201  # the stored answer, as it was
    assert again.json == first.json
    changed = post(client, secret, {**ORDER, "text": "别的内容"}, **{"Idempotency-Key": "8f14e45f"})
    assert changed.status_code == 422
    assert changed.mimetype == "application/problem+json"
    assert "Idempotency-Key" in changed.json["detail"]
    # Another key's Idempotency-Key is its own: the order is found again (200).
    other = make_key(app, "tickets:write", name="网格平台")
    assert post(client, other, ORDER, **{"Idempotency-Key": "8f14e45f"}).status_code == 200
    too_long = post(client, secret, ORDER, **{"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 400
    assert tickets_in(app) == 1


OVERLONG = [
    ("source", "s" * 33, "source"),
    ("external_id", "9" * 65, "external_id"),
    ("phone", "1" * 33, "phone"),
    ("text", "长" * 2001, "text"),
    ("source", "123\x0045", "source"),  # PostgreSQL cannot store NUL
    ("external_id", "", "external_id"),
    ("due_at", "9999-12-31T23:00:00-05:00", "due_at"),  # past datetime's range in UTC
]


@pytest.mark.parametrize(("field", "value", "named"), OVERLONG)
def test_values_past_the_columns_are_refused_by_the_schema_on_both_databases(
    backend_app: Flask, field: str, value: str, named: str
) -> None:
    prepare(backend_app)
    secret = make_key(backend_app, "tickets:write")
    answer = post(backend_app.test_client(), secret, {**ORDER, field: value})
    assert answer.status_code == 400, answer.json
    assert named in [e["field"] for e in answer.json["errors"]]
    assert tickets_in(backend_app) == 0


def test_the_longest_values_are_kept_on_both_databases(backend_app: Flask) -> None:
    prepare(backend_app)
    secret = make_key(backend_app, "tickets:write,personal")
    body = {**ORDER, "source": "s" * 32, "external_id": "9" * 64, "phone": "+86 138-1234-5678"}
    answer = post(backend_app.test_client(), secret, body)
    assert answer.status_code == 201, answer.json
    assert answer.json["source"] == "s" * 32 and answer.json["external_id"] == "9" * 64
    assert answer.json["phone"] == "13812345678"


REFUSED = [
    ({"building": "99号楼"}, "没有这栋楼：99号楼"),
    ({"phone": "call me"}, "电话号码应为"),
    ({"text": " \u200b "}, "工单内容 text 不能为空"),
    ({"source": "   "}, "来源 source 不能为空"),
    # Blank, it would file the order anew each time it is sent: no idempotency at all.
    ({"external_id": "   "}, "工单编号 external_id 不能为空"),
    ({"due_at": "2020-01-01T00:00:00+08:00"}, "不能早于现在"),
    ({"community": "没有的社区"}, "没有这个社区：没有的社区"),
]


@pytest.mark.parametrize(("change", "said"), REFUSED)
def test_an_order_that_cannot_be_filed_is_a_422_problem_in_chinese(
    app: Flask, client: FlaskClient, change: dict[str, str], said: str
) -> None:
    prepare(app)
    answer = post(client, make_key(app, "tickets:write"), {**ORDER, **change})
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json"
    assert said in answer.json["detail"]
    assert tickets_in(app) == 0


def test_a_malformed_order_is_a_400_naming_each_field(app: Flask, client: FlaskClient) -> None:
    secret = make_key(app, "tickets:write")
    answer = post(client, secret, {"text": LIFT, "due_at": "明天", "extra": 1})
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json["errors"]}
    assert {"source", "external_id", "due_at", "extra"} <= fields
    read_only = make_key(app, "tickets:read", name="只读")
    assert post(client, read_only, ORDER).status_code == 403


def bound_resident(app: Flask, wechat: WeChat) -> int:
    """o_resident lives at 16-2-501, phone 13812345678, approved."""
    Chat(wechat, "o_resident").say("绑定 16-2-501 13812345678")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
        return person.id


def test_a_bound_resident_with_the_orders_phone_is_told_as_of_their_own_report(
    app: Flask, client: FlaskClient, wechat: WeChat
) -> None:
    prepare(app)
    resident_id = bound_resident(app, wechat)
    secret = make_key(app, "tickets:read,tickets:write")
    filed = post(client, secret, {**ORDER, "phone": "138 1234 5678"})
    assert filed.status_code == 201
    with db_of(app).session(read_only=True) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.person_id == resident_id
    Chat(wechat, "o_wang").say("接单 1")
    assert "#1 已由社区工作人员受理" in pushes_to(app, "o_resident")[-1]
    done = {"status": "resolved", "outcome": "已更换电梯门机控制板"}
    resolved = client.patch("/api/v1/tickets/1", json=done, headers=bearer(secret))
    assert resolved.status_code == 200
    assert "已更换电梯门机控制板" in pushes_to(app, "o_resident")[-1]


def test_personal_data_only_to_a_key_with_personal(
    app: Flask, client: FlaskClient, wechat: WeChat
) -> None:
    prepare(app)
    bound_resident(app, wechat)
    with db_of(app).session() as session:
        resident = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        resident.name = "张阿姨"
    writer = make_key(app, "tickets:read,tickets:write")
    masked = post(client, writer, {**ORDER, "phone": "13812345678"}).json
    assert masked["phone"] == "138****5678"
    assert masked["resident"] == {"name": None, "openid": "o_re****"}
    assert masked["assignee"]["name"] == "王师傅"  # staff are named
    listed = client.get("/api/v1/tickets", headers=bearer(writer)).json["items"][0]
    assert listed["phone"] == "138****5678" and listed["resident"]["name"] is None
    personal = make_key(app, "tickets:read,personal", name="有个人信息权限")
    shown = client.get("/api/v1/tickets/1", headers=bearer(personal)).json
    assert shown["phone"] == "13812345678"
    assert shown["resident"] == {"name": "张阿姨", "openid": "o_resident"}
    listed = client.get("/api/v1/tickets", headers=bearer(personal)).json["items"][0]
    assert listed["phone"] == "13812345678"


def test_a_form_encoded_order_or_change_is_a_400_asking_for_json(
    app: Flask, client: FlaskClient
) -> None:
    """A platform posting its order as a form (as Open311 may) is told to send JSON, not
    answered with a 500."""
    prepare(app)
    secret = make_key(app, "tickets:read,tickets:write")
    created = client.post("/api/v1/tickets", data=ORDER, headers=bearer(secret))
    assert created.status_code == 400, created.get_data(as_text=True)
    assert created.mimetype == "application/problem+json"
    assert created.json["errors"] == [{"field": "body", "message": texts.JSON_BODY}]
    assert tickets_in(app) == 0
    number = post(client, secret, ORDER).json["number"]
    changed = client.patch(
        f"/api/v1/tickets/{number}", data={"note": "已联系物业"}, headers=bearer(secret)
    )
    assert changed.status_code == 400, changed.get_data(as_text=True)
    assert changed.json["errors"] == [{"field": "body", "message": texts.JSON_BODY}]
    plain = client.patch(
        f"/api/v1/tickets/{number}",
        data="已联系物业",
        content_type="text/plain",
        headers=bearer(secret),
    )
    assert plain.status_code == 400 and plain.json["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/tickets"),
        ("PATCH", "/api/v1/tickets/1"),
        ("POST", "/api/v1/subscriptions"),
        ("POST", "/open311/v2/requests.json"),
    ],
)
def test_json_nested_past_the_parsers_depth_is_a_400_not_a_500(
    app: Flask, client: FlaskClient, method: str, path: str
) -> None:
    """30 000 brackets fit in the body limit and overflow Python's JSON decoder: malformed
    JSON, answered as any."""
    secret = make_key(app, "tickets:read,tickets:write")
    deep = '{"text": ' + "[" * 30000 + "]" * 30000 + "}"
    answer = client.open(
        path, method=method, data=deep, content_type="application/json", headers=bearer(secret)
    )
    assert answer.status_code == 400, answer.get_data()[:200]

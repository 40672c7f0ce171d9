"""议题 in the console (立项): the list by stage, the item page, accept, decline with a
reason, and 新建议题."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import console_login, csrf_token_of, db_of, make_account, pushes_to
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from models import touch_person
from models.agenda import agenda_by_number
from models.communities import Community
from models.places import Building, approve_binding, request_binding
from models.proposals import back, propose

PROPOSAL = "建议在小区北门空地增加一组健身器材"


def proposal(app: Flask, threshold: float = 3) -> int:
    """议题 #N proposed by o_101 and backed by o_102 (two households of building 16)."""
    db = db_of(app)
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(Building(name="16"))
    people = []
    for room in ("101", "102"):
        with db.transaction() as conn:
            person = touch_person(conn, f"o_{room}", now, wrote=True).id
        with db.session() as session:
            request_binding(session, person, "16", "1", room, now)
            approve_binding(session, person, "test", now)
        people.append(person)
    with db.session() as session:
        item = propose(session, people[0], PROPOSAL, now, unit="household", threshold=threshold)
        back(session, item, people[1], now)
        return item.number


def post(client: FlaskClient, path: str, **form: str) -> TestResponse:
    token = csrf_token_of(client.get("/admin/agenda"))
    return client.post(path, data={**form, "csrf_token": token})


def test_the_list_shows_stages_with_counts_and_backing(
    app: Flask, admin_client: FlaskClient
) -> None:
    number = proposal(app)
    page = admin_client.get("/admin/agenda").get_data(as_text=True)
    assert "全部 1" in page and "待立项 1" in page and "已立项 0" in page
    assert f"#{number}" in page and PROPOSAL in page and "2 / 3" in page
    assert "新建议题" in page
    assert PROPOSAL not in admin_client.get("/admin/agenda?stage=accepted").get_data(as_text=True)


def test_accept_from_the_item_page_tells_the_residents(
    app: Flask, admin_client: FlaskClient
) -> None:
    number = proposal(app)
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert PROPOSAL in page and "立项（列入议事议程）" in page and "不予立项的理由" in page
    assert "来源：居民提议（16-1-101）" in page
    answer = post(admin_client, f"/admin/agenda/{number}/accept")
    assert answer.status_code == 303
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert "已立项，已通知提议人和附议的居民" in page and "阶段：<strong>已立项</strong>" in page
    assert "立项（列入议事议程）" not in page  # decided: no more buttons
    assert len(pushes_to(app, "o_101", "agenda.accepted")) == 1
    assert len(pushes_to(app, "o_102", "agenda.accepted")) == 1
    again = post(admin_client, f"/admin/agenda/{number}/accept")
    assert again.status_code == 303
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert "无需再次操作" in page
    assert len(pushes_to(app, "o_101", "agenda.accepted")) == 1


def test_decline_needs_a_reason_shown_on_the_page(app: Flask, admin_client: FlaskClient) -> None:
    number = proposal(app)
    post(admin_client, f"/admin/agenda/{number}/decline", reason="  ")
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert "请填写不予立项的理由" in page and "阶段：<strong>待立项</strong>" in page
    reason = "该空地是消防通道，不能占用"
    post(admin_client, f"/admin/agenda/{number}/decline", reason=reason)
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert "阶段：<strong>不予立项</strong>" in page and reason in page
    told = pushes_to(app, "o_102", "agenda.declined")
    assert len(told) == 1 and reason in told[0]
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, number)
        assert item is not None and item.decline_reason == reason
    assert admin_client.post("/admin/agenda/99/accept", data={}).status_code in (400, 404)


def test_a_viewer_reads_but_may_not_decide(app: Flask) -> None:
    number = proposal(app)
    make_account(app, "looker", "viewer")
    client = app.test_client()
    console_login(client, "looker")
    page = client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert PROPOSAL in page and "立项（列入议事议程）" not in page
    assert post(client, f"/admin/agenda/{number}/accept").status_code == 403


def test_an_admin_opens_a_议题_directly(app: Flask, admin_client: FlaskClient) -> None:
    assert "新建议题" in admin_client.get("/admin/agenda/new").get_data(as_text=True)
    token = csrf_token_of(admin_client.get("/admin/agenda/new"))
    empty = admin_client.post("/admin/agenda/new", data={"title": " ", "csrf_token": token})
    assert empty.status_code == 400 and "请填写议题标题" in empty.get_data(as_text=True)
    made = admin_client.post(
        "/admin/agenda/new",
        data={"title": "小区停车位规划", "text": "讨论新增停车位\n分两期", "csrf_token": token},
    )
    assert made.status_code == 303 and made.headers["Location"].endswith("/admin/agenda/1")
    page = admin_client.get("/admin/agenda/1").get_data(as_text=True)
    assert "已创建议题 #1「小区停车位规划」" in page and "讨论新增停车位\n分两期" in page
    assert "阶段：<strong>已立项</strong>" in page and "来源：居委会新建（boss）" in page
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, 1)
        assert item is not None and item.created_by == "boss" and item.proposer_id is None
        assert session.scalars(select(Building)).first() is None


def test_a_street_account_sees_which_community_each_item_is_for(
    app: Flask, admin_client: FlaskClient
) -> None:
    proposal(app)
    with db_of(app).session() as session:
        session.add(Community(name="西社区", created_at=datetime.now(UTC)))
    page = admin_client.get("/admin/agenda").get_data(as_text=True)
    assert "<th>社区</th>" in page
    form = admin_client.get("/admin/agenda/new").get_data(as_text=True)
    assert "西社区" in form and "整个街道（各社区居民）" in form


def test_accept_may_give_the_item_the_committees_title(
    app: Flask, admin_client: FlaskClient
) -> None:
    number = proposal(app)
    page = admin_client.get(f"/admin/agenda/{number}").get_data(as_text=True)
    assert f'name="title" value="{PROPOSAL}"' in page  # the proposal's start, to rewrite
    post(admin_client, f"/admin/agenda/{number}/accept", title="x" * 101)
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, number)
        assert item is not None and item.stage == "proposed"  # refused: too long
    post(admin_client, f"/admin/agenda/{number}/accept", title=" 北门空地增设健身器材 ")
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, number)
        assert item is not None and item.stage == "accepted"
        assert item.title == "北门空地增设健身器材" and item.body == PROPOSAL  # as written
    told = pushes_to(app, "o_101", "agenda.accepted")
    assert len(told) == 1 and "「北门空地增设健身器材」已立项" in told[0]

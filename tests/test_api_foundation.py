"""The API's door: a key is needed, checked, audited; refusals are problem bodies (RFC 9457);
the OpenAPI document describes the routes and needs no key."""

from __future__ import annotations

from api_keys import bearer, make_key
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.app import create_app
from bot.config import Settings
from models.api.audit import ApiRequest
from models.api.keys import key_for, revoke


def test_topics_need_a_key_and_a_key_reads_them(app: Flask, client: FlaskClient) -> None:
    refused = client.get("/api/v1/topics")
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert refused.json["status"] == 401 and "Authorization" in refused.json["detail"]

    secret = make_key(app, "tickets:read")
    answer = client.get("/api/v1/topics", headers=bearer(secret))
    assert answer.status_code == 200
    assert "电梯设施" in [t["name"] for t in answer.json["items"]]


def test_a_revoked_key_is_refused_and_every_request_is_audited(
    app: Flask, client: FlaskClient
) -> None:
    secret = make_key(app, "tickets:read")
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
    db = app.extensions["yishiting"].db
    with db.session() as session:
        key = key_for(session, secret)
        assert key is not None and key.last_used_at is not None
        revoke(session, key, by="测试", now=key.last_used_at)
    refused = client.get("/api/v1/topics", headers=bearer(secret))
    assert refused.status_code == 401 and "吊销" in refused.json["detail"]
    with db.session() as session:
        rows = session.execute(select(ApiRequest.route, ApiRequest.status)).all()
    assert [tuple(r) for r in rows] == [("/api/v1/topics", 200), ("/api/v1/topics", 401)]


def test_an_unknown_api_path_is_a_problem_not_a_console_page(client: FlaskClient) -> None:
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_the_openapi_document_is_3_1_and_needs_no_key(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/topics" in document["paths"]
    refusal = document["paths"]["/api/v1/topics"]["get"]["responses"]["401"]
    assert "application/problem+json" in refusal["content"]


def test_a_database_that_cannot_be_reached_is_a_503_problem(settings: Settings) -> None:
    gone = settings.replace(app={"database_url": "sqlite:////nonexistent/folder/x.db"})
    app = create_app(gone)
    answer = app.test_client().get("/api/v1/topics", headers=bearer("yst_any"))
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert "数据库暂时不可用" in answer.json["detail"]


def test_a_fault_in_a_route_is_a_500_problem_in_chinese(app: Flask) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/broken", endpoint="api.broken", view_func=broken)
    answer = app.test_client().get("/api/v1/broken")
    assert answer.status_code == 500
    assert answer.mimetype == "application/problem+json"
    assert answer.json["detail"] == "服务器出错，请稍后重试"


def test_answers_keep_chinese_as_written(app: Flask, client: FlaskClient) -> None:
    answer = client.get("/api/v1/topics", headers=bearer(make_key(app, "tickets:read")))
    assert "电梯设施" in answer.get_data(as_text=True)  # not \\u7535\\u68af…

"""The API's door holds on every route: each route found in the app's url_map whose view
declares a scope (`@needs`, bot/api/auth.py) — those of today and any added later — refuses a
request with no key, an unknown or a revoked key (401) and a key without the route's scope
(403), each with a problem body (RFC 9457) and an audit row naming the key, the route and the
status. The per-key rate limit answers 429 with Retry-After, and lets the key in again once
the minute has passed (on the fixed clock)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_keys import ALL, bearer, make_key
from conftest import Clock, db_of, make_app
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from bot.api.auth import needs
from bot.config import Settings
from models.api.audit import ApiRequest
from models.api.keys import SCOPES, key_for, revoke
from models.communities import add_community
from models.topics import CommunityTopic, topic_by_name

PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Route:
    rule: str  # as the audit records it: /api/v1/tickets/<number>
    method: str
    scope: str  # what the view declared: a scope, or "any"

    @property
    def path(self) -> str:
        """The rule with every variable filled (the door answers before the route looks);
        Open311's format is json, the only one it speaks."""
        return re.sub(r"<[^>]+>", "1", self.rule.replace("<fmt>", "json"))

    @property
    def open311(self) -> bool:
        """Open311 refuses in GeoReport's shape ([{"code", "description"}]), not RFC 9457."""
        return self.rule.startswith("/open311/")

    @property
    def open_discovery(self) -> bool:
        """GeoReport's services list is read without a key (a key sent is still checked)."""
        return self.rule.startswith("/open311/v2/services.")


def refused(answer: Any, route: Route, status: int) -> str | None:
    """What is wrong with `answer` as the refusal `status` of `route`, if anything."""
    if answer.status_code != status:
        return f"{answer.status_code} {answer.mimetype}"
    if route.open311:
        body = answer.json
        ok = isinstance(body, list) and body and body[0]["code"] == status
        return None if ok and body[0]["description"] else f"body {body}"
    if answer.mimetype != PROBLEM:
        return f"{answer.status_code} {answer.mimetype}"
    if answer.json["status"] != status or not answer.json["detail"]:
        return f"body {answer.json}"
    return None


def api_routes(app: Flask) -> Iterator[Route]:
    """Every route whose view declares a scope, with each of its methods."""
    for rule in app.url_map.iter_rules():
        scope = getattr(app.view_functions[rule.endpoint], "api_scope", None)
        if scope is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield Route(rule.rule, method, scope)


def call(client: FlaskClient, route: Route, secret: str | None, **headers: str) -> Any:
    """The request as a platform sends it: the key as a bearer token, and as Open311's
    `api_key` parameter too (Open311 routes read that one)."""
    if secret is not None:
        headers = {**bearer(secret), **headers}
    query = {"api_key": secret} if secret is not None else {}
    return client.open(route.path, method=route.method, headers=headers, query_string=query)


@pytest.fixture
def probed(app: Flask) -> Flask:
    """The app with a writing route of the API that is only for this test, so the walk is
    not vacuous before the ticket routes exist (an endpoint named api.* runs the API
    blueprint's door and audit like any other)."""

    @needs("tickets:write")
    def probe(number: int) -> dict[str, int]:
        return {"number": number}

    app.add_url_rule(
        "/api/v1/probe/<int:number>", endpoint="api.probe", view_func=probe, methods=["POST"]
    )
    return app


def last_audit(app: Flask) -> tuple[int | None, str, str, int]:
    with db_of(app).session(read_only=True) as db:
        row = db.scalars(select(ApiRequest).order_by(ApiRequest.id.desc()).limit(1)).one()
        return (row.key_id, row.method, row.route, row.status)


def key_id(app: Flask, secret: str) -> int:
    with db_of(app).session(read_only=True) as db:
        key = key_for(db, secret)
        assert key is not None
        return key.id


def revoked_key(app: Flask) -> str:
    secret = make_key(app, ALL, name="已吊销平台")
    with db_of(app).session() as db:
        key = key_for(db, secret)
        assert key is not None
        revoke(db, key, by="测试", now=datetime.now(UTC))
    return secret


def test_the_walk_finds_the_api_routes(probed: Flask) -> None:
    found = {(r.rule, r.method) for r in api_routes(probed)}
    assert {("/api/v1/topics", "GET"), ("/api/v1/probe/<int:number>", "POST")} <= found
    assert "/api/v1/openapi.json" not in {rule for rule, _ in found}  # the document is open


def test_every_route_refuses_a_request_without_a_valid_key(probed: Flask) -> None:
    app, client = probed, probed.test_client()
    revoked = revoked_key(app)
    revoked_id = key_id(app, revoked)
    problems = []
    for route in api_routes(app):
        for secret, headers, reason, audited_key in [
            (None, {}, "no key", None),
            (None, {"Authorization": "Basic dXNlcjpwYXNz"}, "not a bearer token", None),
            ("yst_not-a-key-of-ours", {}, "an unknown key", None),
            (revoked, {}, "a revoked key", revoked_id),
        ]:
            if secret is None and route.open_discovery:
                continue  # no key at all is welcome there
            answer = call(client, route, secret, **headers)
            where = f"{route.method} {route.rule} with {reason}"
            wrong = refused(answer, route, 401)
            if wrong:
                problems.append(f"{where}: {wrong}")
                continue
            audited = (audited_key, route.method, route.rule, 401)
            if last_audit(app) != audited:
                problems.append(f"{where}: audited {last_audit(app)}, not {audited}")
    assert not problems, "\n".join(problems)


def test_every_route_refuses_a_key_without_its_scope(probed: Flask) -> None:
    """A key with every scope but the route's: a read-only key on a writing route, a tickets
    key on the agenda, a key without `personal` on a personal route."""
    app, client = probed, probed.test_client()
    problems, walked = [], 0
    for route in api_routes(app):
        if route.scope == "any":
            continue  # any valid key may call it
        others = ",".join(s for s in SCOPES if s != route.scope)
        secret = make_key(app, others, name=f"缺{route.scope}")
        answer = call(client, route, secret)
        walked += 1
        where = f"{route.method} {route.rule} without {route.scope}"
        wrong = refused(answer, route, 403)
        if wrong:
            problems.append(f"{where}: {wrong}")
            continue
        if route.scope not in answer.get_data(as_text=True):
            problems.append(f"{where}: the refusal does not name the scope: {answer.json}")
        audited = (key_id(app, secret), route.method, route.rule, 403)
        if last_audit(app) != audited:
            problems.append(f"{where}: audited {last_audit(app)}, not {audited}")
    assert not problems, "\n".join(problems)
    assert walked >= 1


def test_the_probe_lets_a_key_with_its_scope_in(probed: Flask) -> None:
    secret = make_key(probed, "tickets:read,tickets:write")
    answer = probed.test_client().post("/api/v1/probe/7", headers=bearer(secret))
    assert answer.status_code == 200 and answer.json == {"number": 7}
    assert last_audit(probed) == (key_id(probed, secret), "POST", "/api/v1/probe/<int:number>", 200)


def test_a_key_is_refused_after_the_limit_and_let_in_when_the_minute_passes(
    settings: Settings, clock: Clock
) -> None:
    app = make_app(settings.replace(api={"rate_limit_per_minute": 3}), clock=clock)
    try:
        client = app.test_client()
        secret, other = make_key(app, "tickets:read"), make_key(app, "tickets:read", name="网格")
        for _ in range(3):
            assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
            clock.advance(seconds=5)
        refused = client.get("/api/v1/topics", headers=bearer(secret))
        assert refused.status_code == 429 and refused.mimetype == PROBLEM
        assert "3" in refused.json["detail"]
        wait = int(refused.headers["Retry-After"])
        assert 45 <= wait <= 50  # the oldest of the three leaves the minute in about 45 s
        assert last_audit(app) == (key_id(app, secret), "GET", "/api/v1/topics", 429)
        # Another key has its own minute.
        assert client.get("/api/v1/topics", headers=bearer(other)).status_code == 200
        # Refused requests do not count: waiting as told is enough.
        assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 429
        clock.advance(seconds=wait)
        assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
        with db_of(app).session(read_only=True) as db:
            statuses = db.scalars(
                select(ApiRequest.status)
                .where(ApiRequest.key_id == key_id(app, secret))
                .order_by(ApiRequest.id)
            ).all()
        assert statuses == [200, 200, 200, 429, 429, 200]
    finally:
        db_of(app).dispose()


def test_a_good_key_is_audited_and_its_last_use_kept(app: Flask, client: FlaskClient) -> None:
    secret = make_key(app, "tickets:read")
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
    assert last_audit(app) == (key_id(app, secret), "GET", "/api/v1/topics", 200)
    with db_of(app).session(read_only=True) as db:
        key = key_for(db, secret)
        assert key is not None and key.last_used_at is not None


@pytest.mark.parametrize("whose", ["甲社区", "乙社区", None])
def test_a_community_key_reads_its_own_communitys_topics(app: Flask, whose: str | None) -> None:
    """What exists today for communities: topics. 乙社区 switched 电梯设施 off; 甲's key and
    the street's still see it, 乙's does not."""
    now = datetime.now(UTC)
    with db_of(app).session() as db:
        ids = {name: add_community(db, name, now)[0].id for name in ("甲社区", "乙社区")}
        topic = topic_by_name(db, "电梯设施")
        assert topic is not None
        db.add(CommunityTopic(community_id=ids["乙社区"], topic_id=topic.id, enabled=False,
                              updated_at=now))  # fmt: skip
    secret = make_key(app, "tickets:read", community_id=ids[whose] if whose else None)
    answer = app.test_client().get("/api/v1/topics", headers=bearer(secret))
    names = [t["name"] for t in answer.json["items"]]
    assert ("电梯设施" in names) is (whose != "乙社区")


def test_the_audit_is_kept_audit_days_by_the_sweep(app: Flask, settings: Settings) -> None:
    from bot.schedule import SWEEPS
    from models.api.audit import audit_request
    from models.sweeps.api_audit import forget_api_requests

    secret = make_key(app, "tickets:read")
    now = datetime.now(UTC)
    with db_of(app).transaction() as conn:
        for days in (400, 200, 91, 89, 0):
            audit_request(
                conn, key_id=key_id(app, secret), method="GET", route="/api/v1/topics",
                status=200, now=now - timedelta(days=days),
            )  # fmt: skip
    sweep = SWEEPS["api_audit"]  # registered with the scheduler's sweep
    with db_of(app).session() as db:
        assert sweep(db, now, settings.replace(api={"audit_days": 0})) is None  # for ever
        assert forget_api_requests(db, now, 90, batch=2) == 2  # a batch at a time
        assert sweep(db, now, settings.replace(api={"audit_days": 90})) == (
            "1 API requests older than 90 days"
        )
        assert sweep(db, now, settings) is None
        left = db.scalars(select(ApiRequest.at).order_by(ApiRequest.at)).all()
    assert [round((now - at).total_seconds() / 86400) for at in left] == [89, 0]

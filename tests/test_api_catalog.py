"""Places over the API: communities, grids and buildings, for any valid key; a community's
key sees its own community and is refused another; no households, no residents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from api_keys import bearer, make_key
from conftest import Clock, db_of, make_app
from flask import Flask
from flask.testing import FlaskClient

from bot.config import Settings
from devtools.demo import add_demo_data
from models.communities import HOME_ID, community_by_name, community_names

SECOND = "和平社区"


@pytest.fixture
def street(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The demo street: two communities, each with a 第一网格 and a 1号楼."""
    app = make_app(backend_settings, clock=clock)
    with db_of(app).session() as db:
        add_demo_data(db, datetime.now(UTC))
    yield app
    db_of(app).dispose()


def community_id(app: Flask, name: str) -> int:
    with db_of(app).session() as db:
        found = community_by_name(db, name)
        assert found is not None
        return found.id


def home_name(app: Flask) -> str:
    with db_of(app).session() as db:
        return community_names(db)[HOME_ID]


def test_a_street_key_lists_every_community_grid_and_building(street: Flask) -> None:
    client = street.test_client()
    key = bearer(make_key(street, "agenda:read"))  # any scope will do
    home = home_name(street)

    communities = client.get("/api/v1/communities", headers=key).json["items"]
    assert [(c["name"], c["grids"], c["buildings"]) for c in communities] == [
        (home, 1, 3),
        (SECOND, 1, 2),
    ]

    grids = client.get("/api/v1/grids", headers=key).json["items"]
    assert [(g["name"], g["community"], g["worker"], g["buildings"]) for g in grids] == [
        ("第一网格", home, "王师傅", 3),
        ("第一网格", SECOND, "陈师傅", 2),
    ]

    answer = client.get("/api/v1/buildings", headers=key, query_string={"community": SECOND})
    assert answer.status_code == 200
    peace = grids[1]["id"]
    assert answer.json["items"] == [
        {"id": b["id"], "name": n, "community": SECOND, "grid_id": peace, "grid": "第一网格"}
        for b, n in zip(answer.json["items"], ["1", "8"], strict=True)
    ]
    by_grid = client.get("/api/v1/buildings", headers=key, query_string={"grid": grids[0]["id"]})
    assert [(b["name"], b["community"]) for b in by_grid.json["items"]] == [
        ("1", home),
        ("2", home),
        ("3", home),
    ]


def test_a_community_key_sees_its_own_places_and_is_refused_another(street: Flask) -> None:
    client = street.test_client()
    key = bearer(make_key(street, "tickets:read", community_id=community_id(street, SECOND)))

    communities = client.get("/api/v1/communities", headers=key).json["items"]
    assert [c["name"] for c in communities] == [SECOND]
    grids = client.get("/api/v1/grids", headers=key).json["items"]
    assert [g["community"] for g in grids] == [SECOND]
    buildings = client.get("/api/v1/buildings", headers=key).json["items"]
    assert [b["name"] for b in buildings] == ["1", "8"]
    own = client.get("/api/v1/grids", headers=key, query_string={"community": SECOND})
    assert own.status_code == 200 and len(own.json["items"]) == 1

    for path in ("/api/v1/grids", "/api/v1/buildings"):
        refused = client.get(path, headers=key, query_string={"community": home_name(street)})
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
        assert refused.json["detail"] == f"此密钥只能访问{SECOND}的数据"

    # Another community's grid is as if it did not exist.
    street_key = bearer(make_key(street, "tickets:read"))
    home_grid = client.get("/api/v1/grids", headers=street_key).json["items"][0]
    refused = client.get("/api/v1/buildings", headers=key, query_string={"grid": home_grid["id"]})
    assert refused.status_code == 400
    assert refused.json["errors"] == [
        {"field": "grid", "message": f"没有编号为 {home_grid['id']} 的网格（见 GET /api/v1/grids）"}
    ]


def test_unknown_names_and_bad_filters_are_400_naming_the_field(street: Flask) -> None:
    client = street.test_client()
    key = bearer(make_key(street, "polls:read"))
    unknown = client.get("/api/v1/grids", headers=key, query_string={"community": "北社区"})
    assert unknown.status_code == 400
    assert unknown.json["errors"][0]["field"] == "community"
    assert "北社区" in unknown.json["errors"][0]["message"]

    for grid in ("abc", "0", "99999999999"):
        bad = client.get("/api/v1/buildings", headers=key, query_string={"grid": grid})
        assert bad.status_code == 400, grid
        assert bad.json["errors"][0]["field"] == "grid", grid
    missing = client.get("/api/v1/buildings", headers=key, query_string={"grid": "9999"})
    assert missing.status_code == 400


def test_places_need_a_key(client: FlaskClient) -> None:
    for path in ("/api/v1/communities", "/api/v1/grids", "/api/v1/buildings"):
        refused = client.get(path)
        assert refused.status_code == 401 and refused.mimetype == "application/problem+json"


def test_places_say_nothing_of_households_or_residents(street: Flask) -> None:
    client = street.test_client()
    key = bearer(make_key(street, "personal"))
    bodies = "".join(
        client.get(path, headers=key).get_data(as_text=True)
        for path in ("/api/v1/communities", "/api/v1/grids", "/api/v1/buildings")
    )
    for private in ("o_demo", "101", "household", "resident"):
        assert private not in bodies


def test_a_name_no_community_could_have_is_400_on_every_database(street: Flask) -> None:
    client = street.test_client()
    key = bearer(make_key(street, "agenda:read,polls:read"))
    for path in ("/api/v1/grids", "/api/v1/buildings", "/api/v1/agenda", "/api/v1/polls"):
        for raw in ("community=%E4%B8%9C%00", "community=%FF%FE"):  # a NUL; not UTF-8
            answer = client.get(path, headers=key, query_string=raw)
            assert answer.status_code == 400, (path, raw)

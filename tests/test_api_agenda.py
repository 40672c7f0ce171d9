"""议题 and polls over the API, read only: lists a page at a time, newest first; an item as
`agenda show --json` says it without the proposal's text and proposer unless the key has
`personal`; a poll's counts and decision, never who voted what; another community's → 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from api_keys import bearer, make_key
from conftest import Clock, db_of, make_app
from flask import Flask
from sqlalchemy import select

from bot.config import Settings
from devtools.demo import add_demo_data
from devtools.demo_agenda import PROPOSAL
from models.agenda import PROPOSED, AgendaItem, next_number, title_of
from models.communities import community_by_name, community_names
from models.people import Person
from models.polls import PollSpec, cast_ballot, create_poll, poll_by_number

SECOND = "和平社区"
PEACE_PROPOSAL = "和平社区3号楼想加装一部电梯，住在301的老人上下楼困难"


@pytest.fixture
def street(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The demo street (items #1–#3 and poll #1 in the first community, poll #2 the
    street's), plus an item and a hidden-results poll of 和平社区, and a ballot on #1."""
    app = make_app(backend_settings, clock=clock)
    now = datetime.now(UTC)
    with db_of(app).session() as db:
        add_demo_data(db, now)
        peace = community_by_name(db, SECOND)
        assert peace is not None
        db.add(
            AgendaItem(
                number=next_number(db), title=title_of(PEACE_PROPOSAL), body=PEACE_PROPOSAL,
                community_id=peace.id, stage=PROPOSED, stage_at=now, created_at=now,
            )
        )  # fmt: skip
        spec = PollSpec(title="8号楼门禁换成人脸识别吗", description="", options=["换", "不换"],
                        closes_at=now + timedelta(days=3), community_id=peace.id,
                        hide_results=True)  # fmt: skip
        create_poll(db, spec, now)
    yield app
    db_of(app).dispose()


def key_of(app: Flask, scopes: str, community: str | None = None) -> dict[str, str]:
    community_id = None
    if community is not None:
        with db_of(app).session() as db:
            found = community_by_name(db, community)
            assert found is not None
            community_id = found.id
    return bearer(make_key(app, scopes, community_id=community_id))


def test_the_agenda_lists_newest_first_a_page_at_a_time(street: Flask) -> None:
    client = street.test_client()
    key = key_of(street, "agenda:read")
    first = client.get("/api/v1/agenda", headers=key, query_string={"limit": 3})
    assert first.status_code == 200
    assert [i["number"] for i in first.json["items"]] == [4, 3, 2]
    assert first.json["next_cursor"] == "2"
    rest = client.get("/api/v1/agenda", headers=key, query_string={"limit": 3, "cursor": "2"}).json
    assert [i["number"] for i in rest["items"]] == [1]
    assert rest["next_cursor"] is None
    peace = first.json["items"][0]
    assert (peace["community"], peace["stage"], peace["backing"]) == (SECOND, "proposed", 0)
    assert "text" not in peace  # a summary: the item itself is at /agenda/{number}

    proposed = client.get("/api/v1/agenda", headers=key, query_string={"stage": "proposed"})
    assert [i["number"] for i in proposed.json["items"]] == [4, 1]
    bad = client.get("/api/v1/agenda", headers=key, query_string={"stage": "voted"})
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "stage"
    for cursor in ("abc", "-1", "1" * 12):
        bad = client.get("/api/v1/agenda", headers=key, query_string={"cursor": cursor})
        assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "cursor"


def test_an_item_is_agenda_show_json_without_what_the_resident_wrote(street: Flask) -> None:
    client = street.test_client()
    public = client.get("/api/v1/agenda/1", headers=key_of(street, "agenda:read"))
    assert public.status_code == 200
    item = public.json
    assert item["number"] == 1 and item["stage"] == "proposed"
    assert item["text"] is None and item["proposer"] is None
    assert PROPOSAL not in public.get_data(as_text=True)
    assert "o_demo" not in public.get_data(as_text=True)

    personal = client.get("/api/v1/agenda/1", headers=key_of(street, "agenda:read,personal"))
    assert personal.json["text"] == PROPOSAL
    assert personal.json["proposer"] == {"openid": "o_demo_resident"}

    carried = client.get("/api/v1/agenda/2", headers=key_of(street, "agenda:read")).json
    assert carried["stage"] == "carrying_out" and carried["owner"] == "物业公司"
    assert carried["decision"].startswith("1号楼楼道更换为声控灯")
    assert [p["text"] for p in carried["progress"]] == ["已采购声控灯 12 盏，本周末安装。"]


def test_polls_give_counts_and_decision_never_who_voted_what(street: Flask) -> None:
    with db_of(street).session() as db:
        poll = poll_by_number(db, 2)  # the street's poll: every community votes
        assert poll is not None
        voter = db.scalars(select(Person.id).where(Person.openid == "o_demo_resident")).one()
        cast_ballot(db, poll, voter, "B", datetime.now(UTC))
    client = street.test_client()
    key = key_of(street, "polls:read,personal")
    listed = client.get("/api/v1/polls", headers=key).json
    assert [(p["number"], p["community"], p["ballots"]) for p in listed["items"]] == [
        (3, SECOND, 0),
        (2, None, 1),
        (1, community_names_of(street)[1], 0),
    ]
    street_poll = client.get("/api/v1/polls/2", headers=key)
    assert street_poll.status_code == 200
    body = street_poll.json
    assert body["options"] == {"A": "周六", "B": "周日"}
    assert (body["counts"], body["ballots"], body["leaders"]) == ({"A": 0, "B": 1}, 1, ["B"])
    assert "paper_ballots" not in body
    assert "o_demo" not in street_poll.get_data(as_text=True)

    hidden = client.get("/api/v1/polls/3", headers=key).json
    assert hidden["results_hidden"] is True
    assert (hidden["counts"], hidden["leaders"], hidden["passed"]) == (None, None, None)
    opened = client.get("/api/v1/polls", headers=key, query_string={"status": "open"}).json
    assert len(opened["items"]) == 3


def community_names_of(app: Flask) -> dict[int, str]:
    with db_of(app).session() as db:
        return community_names(db)


def test_a_community_key_sees_its_own_and_the_streets_never_another(street: Flask) -> None:
    client = street.test_client()
    key = key_of(street, "agenda:read,polls:read", community=SECOND)
    agenda = client.get("/api/v1/agenda", headers=key).json
    assert [i["number"] for i in agenda["items"]] == [4]
    polls = client.get("/api/v1/polls", headers=key).json
    assert [(p["number"], p["community"]) for p in polls["items"]] == [(3, SECOND), (2, None)]
    named = client.get("/api/v1/polls", headers=key, query_string={"community": SECOND}).json
    assert [p["number"] for p in named["items"]] == [3]
    assert client.get("/api/v1/polls/2", headers=key).status_code == 200

    for path in ("/api/v1/agenda/1", "/api/v1/polls/1", "/api/v1/agenda/999", "/api/v1/polls/0"):
        refused = client.get(path, headers=key)
        assert refused.status_code == 404, path
        assert refused.mimetype == "application/problem+json"
    home = community_names_of(street)[1]
    for path in ("/api/v1/agenda", "/api/v1/polls"):
        refused = client.get(path, headers=key, query_string={"community": home})
        assert refused.status_code == 403
        assert refused.json["detail"] == f"此密钥只能访问{SECOND}的数据"


def test_agenda_and_polls_need_their_scopes(street: Flask) -> None:
    client = street.test_client()
    tickets_only = key_of(street, "tickets:read,personal")
    for path in ("/api/v1/agenda", "/api/v1/agenda/1"):
        refused = client.get(path, headers=tickets_only)
        assert (
            refused.status_code == 403 and refused.json["detail"] == "此密钥没有 agenda:read 权限"
        )
    for path in ("/api/v1/polls", "/api/v1/polls/1"):
        refused = client.get(path, headers=tickets_only)
        assert refused.status_code == 403 and refused.json["detail"] == "此密钥没有 polls:read 权限"
    assert client.get("/api/v1/agenda/1").status_code == 401

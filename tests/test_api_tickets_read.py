"""GET and PATCH /api/v1/tickets: a platform lists tickets (filters, cursor pages that never
repeat or skip), reads one with its timeline, and acts as the community — 接单, 处理中, 办结,
退回, a note — through the lifecycle, signed with its key's name; an illegal move is a 409
naming the status. A community's key sees and acts in its community only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api_keys import bearer, make_key
from conftest import Clock, db_of, pushes_to, staff
from flask import Flask
from flask.testing import FlaskClient

from models.communities import add_community
from models.staff import add_staff

LIFT = "16号楼电梯坏了，困住了两个老人"
LIGHT = "3号楼楼道灯不亮，晚上看不清台阶"


def order(n: int, text: str = LIFT, **more: str) -> dict[str, Any]:
    return {"text": text, "source": "12345", "external_id": f"GD{n:04d}", **more}


def file(client: FlaskClient, secret: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/v1/tickets", json=body, headers=bearer(secret))
    assert answer.status_code == 201, answer.json
    filed: dict[str, Any] = answer.json
    return filed


def patch(client: FlaskClient, secret: str, number: int, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/v1/tickets/{number}", json=body, headers=bearer(secret))


def test_pages_follow_ids_and_never_repeat_or_skip_under_inserts(
    app: Flask, client: FlaskClient
) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    secret = make_key(app, "tickets:read,tickets:write")
    for n in range(1, 6):
        file(client, secret, order(n))
    first = client.get("/api/v1/tickets?limit=2", headers=bearer(secret)).json
    assert [t["number"] for t in first["items"]] == [1, 2]
    assert "timeline" not in first["items"][0]
    file(client, secret, order(6))  # filed while the platform pages
    seen = [t["number"] for t in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = client.get(f"/api/v1/tickets?limit=2&cursor={cursor}", headers=bearer(secret)).json
        seen += [t["number"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [1, 2, 3, 4, 5, 6]
    default = client.get("/api/v1/tickets", headers=bearer(secret)).json
    assert len(default["items"]) == 6 and default["next_cursor"] is None


def test_filters_status_topic_and_updated_since(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    secret = make_key(app, "tickets:read,tickets:write")
    file(client, secret, order(1))
    file(client, secret, order(2, LIGHT))
    clock.advance(hours=2)
    assert patch(client, secret, 1, {"status": "accepted"}).status_code == 200

    def numbers(query: str) -> list[int]:
        answer = client.get(f"/api/v1/tickets?{query}", headers=bearer(secret))
        assert answer.status_code == 200, answer.json
        return [t["number"] for t in answer.json["items"]]

    assert numbers("status=accepted") == [1]
    assert numbers("status=new") == [2]
    assert numbers("topic=电梯设施") == [1]
    # An hour ago: after filing, before the move; without an offset, the street's time.
    since = (clock() - timedelta(hours=1)).astimezone(app.extensions["yishiting"].settings.tz)
    assert numbers(f"updated_since={since.strftime('%Y-%m-%dT%H:%M:%S')}") == [1]
    assert numbers(f"updated_since={since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}") == [1]
    assert numbers("community=本社区") == [1, 2]
    assert numbers("community=没有的社区") == []  # a filter nothing matches
    assert client.get("/api/v1/tickets?status=lost", headers=bearer(secret)).status_code == 400
    assert client.get("/api/v1/tickets?limit=101", headers=bearer(secret)).status_code == 400
    far = "updated_since=0001-01-01T00:00:00%2B14:00"
    assert client.get(f"/api/v1/tickets?{far}", headers=bearer(secret)).status_code == 400
    bad = client.get("/api/v1/tickets?cursor=bm90LW91cnM", headers=bearer(secret))
    assert bad.status_code == 400 and "cursor" in bad.json["detail"]
    # Named as every other field is (spectree's own errors, /agenda's cursor): "cursor".
    assert [e["field"] for e in bad.json["errors"]] == ["cursor"]


def test_one_ticket_with_its_timeline_and_404_for_none(app: Flask, client: FlaskClient) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    secret = make_key(app, "tickets:read,tickets:write")
    file(client, secret, order(1))
    shown = client.get("/api/v1/tickets/1", headers=bearer(secret)).json
    assert shown["status"] == "new" and shown["outcome"] is None
    assert [e["action"] for e in shown["timeline"]] == ["filed"]
    for number in (2, 0, 2**40):
        missing = client.get(f"/api/v1/tickets/{number}", headers=bearer(secret))
        assert missing.status_code == 404
        assert missing.mimetype == "application/problem+json"


def test_the_community_accepts_notes_and_resolves_signed_with_the_key(
    app: Flask, client: FlaskClient
) -> None:
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    secret = make_key(app, "tickets:read,tickets:write", name="12345平台")
    file(client, secret, order(1))
    accepted = patch(client, secret, 1, {"status": "accepted"})
    assert accepted.status_code == 200
    assert accepted.json["status"] == "accepted"
    assert accepted.json["assignee"]["name"] == "王师傅"  # the holder keeps it
    noted = patch(client, secret, 1, {"note": "已联系维保单位"})
    assert noted.json["status"] == "in_progress"  # 备注 on an accepted ticket, as by chat
    working = patch(client, secret, 1, {"status": "in_progress"})
    assert working.status_code == 200 and working.json["status"] == "in_progress"
    done = patch(client, secret, 1, {"status": "resolved", "outcome": "已更换门机控制板"})
    assert done.status_code == 200
    assert done.json["status"] == "resolved" and done.json["outcome"] == "已更换门机控制板"
    timeline = [(e["action"], e["note"]) for e in done.json["timeline"]]
    assert timeline[1:] == [
        ("note", "平台：12345平台"),
        ("accept", None),
        ("note", "平台：12345平台：已联系维保单位"),
        ("note", "平台：12345平台"),
        ("note", "平台：12345平台"),
        ("resolve", "已更换门机控制板"),
    ]
    again = patch(client, secret, 1, {"status": "accepted"})
    assert again.status_code == 409
    assert again.json["current_status"] == "resolved"
    assert "已办结" in again.json["detail"] and "resolved" in again.json["detail"]
    note_late = patch(client, secret, 1, {"note": "补充"})
    assert note_late.status_code == 409


def test_a_rejection_needs_its_reason_and_an_unheld_ticket_cannot_be_accepted(
    app: Flask, client: FlaskClient
) -> None:
    secret = make_key(app, "tickets:read,tickets:write")
    file(client, secret, order(1))  # nobody handles lifts: 待分派
    unheld = patch(client, secret, 1, {"status": "accepted"})
    assert unheld.status_code == 409 and "待分派" in unheld.json["detail"]
    assert patch(client, secret, 1, {"status": "rejected"}).status_code == 422
    assert patch(client, secret, 1, {"status": "resolved"}).status_code == 422
    assert patch(client, secret, 1, {"outcome": "好了"}).status_code == 422
    assert patch(client, secret, 1, {}).status_code == 422
    assert patch(client, secret, 1, {"status": "closed"}).status_code == 400
    working = patch(client, secret, 1, {"status": "in_progress", "note": "在查"})
    assert working.status_code == 409 and working.json["current_status"] == "new"
    early = patch(client, secret, 1, {"status": "resolved", "outcome": "好了"})
    assert early.status_code == 409 and early.json["current_status"] == "new"
    rejected = patch(client, secret, 1, {"status": "rejected", "reason": "不属于本社区"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert rejected.json["timeline"][-1]["note"] == "不属于本社区"
    shown = client.get("/api/v1/tickets/1", headers=bearer(secret)).json
    assert shown["status"] == "rejected"  # nothing of the refused requests was kept
    assert [e["action"] for e in shown["timeline"]] == ["filed", "note", "reject"]


def two_communities(app: Flask) -> tuple[int, int]:
    """本社区 (1) with 王师傅 for lifts, 西社区 with 李师傅 for lifts."""
    now = datetime.now(UTC)
    with db_of(app).session() as session:
        west = add_community(session, "西社区", now)[0].id
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, now, community_id=1)
        add_staff(session, "o_li", "李师傅", ("电梯设施",), (), None, 1, now, community_id=west)
    return 1, west


def test_a_community_key_sees_and_acts_only_in_its_community(
    app: Flask, client: FlaskClient
) -> None:
    home, west = two_communities(app)
    street = make_key(app, "tickets:read,tickets:write", name="街道")
    file(client, street, order(1))  # 本社区 (no community named: the first)
    filed = file(client, street, order(2, community="西社区"))
    assert filed["community"] == "西社区" and filed["assignee"]["name"] == "李师傅"
    assert "#2" in pushes_to(app, "o_li", "ticket.assigned")[-1]
    east = make_key(app, "tickets:read,tickets:write", name="本社区", community_id=home)

    listed = client.get("/api/v1/tickets", headers=bearer(east)).json
    assert [t["number"] for t in listed["items"]] == [1]
    named = client.get("/api/v1/tickets?community=西社区", headers=bearer(east))
    assert named.status_code == 403 and "本社区" in named.json["detail"]
    assert client.get("/api/v1/tickets/2", headers=bearer(east)).status_code == 404
    assert patch(client, east, 2, {"note": "看看"}).status_code == 404
    elsewhere = client.post(
        "/api/v1/tickets", json=order(3, community="西社区"), headers=bearer(east)
    )
    assert elsewhere.status_code == 403
    # The other community's order number cannot be filed again, nor read through a repeat.
    repeat = client.post("/api/v1/tickets", json=order(2), headers=bearer(east))
    assert repeat.status_code == 409 and LIFT not in repeat.get_data(as_text=True)
    own = client.post("/api/v1/tickets", json=order(4), headers=bearer(east))
    assert own.status_code == 201 and own.json["community"] == "本社区"
    shown = client.get("/api/v1/tickets/2", headers=bearer(street)).json
    assert [e["action"] for e in shown["timeline"]] == ["filed"]  # untouched

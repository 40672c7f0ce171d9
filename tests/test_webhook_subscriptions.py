"""Webhook subscriptions (POST/GET/DELETE /api/v1/subscriptions: the exact contract, the
refusals) and the events the domain records for them (one outbox row per subscription that may
read the event: its scopes, its community, personal or masked)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from api_keys import bearer, make_key
from conftest import csrf_token_of
from flask import Flask
from flask.testing import FlaskClient
from test_webhooks import SECRET, file_directly, json_of, rows_of, subscribe

from bot.extension import yishiting
from bot.filing import policy_from
from models import Ticket
from models.api.orders import HOTLINE, Order, file_order
from models.lifecycle import SYSTEM, reject

# -- the subscriptions API -------------------------------------------------------------------


def test_subscribing_answers_201_with_the_subscription_but_never_its_secret(
    app: Flask, client: FlaskClient
) -> None:
    key = make_key(app, "tickets:read")
    made = subscribe(client, key, "https://platform.example/hooks", ["ticket.resolved"])
    assert set(made) == {"id", "url", "events", "created_at"}
    assert made["url"] == "https://platform.example/hooks"
    assert made["events"] == ["ticket.resolved"]
    listed = client.get("/api/v1/subscriptions", headers=bearer(key)).json
    assert listed == {"items": [made]}
    assert SECRET not in client.get("/api/v1/subscriptions", headers=bearer(key)).get_data(
        as_text=True
    )


def test_a_bad_subscription_is_a_400_naming_each_field(app: Flask, client: FlaskClient) -> None:
    key = make_key(app, "tickets:read,agenda:read")
    answer = client.post(
        "/api/v1/subscriptions",
        json={"url": "ftp://platform.example/", "events": ["ticket.lost"], "secret": "short"},
        headers=bearer(key),
    )
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    fields = {e["field"]: e["message"] for e in json_of(answer)["errors"]}
    assert "http://" in fields["url"]
    assert "ticket.lost" in fields["events"]
    assert "secret" in fields
    for url in ("http://[::1", "https://host.example/a\x00b", "https://a b.example/", "/hooks"):
        body = {"url": url, "events": ["ticket.created"], "secret": SECRET}
        answer = client.post("/api/v1/subscriptions", json=body, headers=bearer(key))
        assert answer.status_code == 400, url
    nul = {"url": "https://x.example/", "events": ["ticket.created"], "secret": SECRET + "\x00"}
    answer = client.post("/api/v1/subscriptions", json=nul, headers=bearer(key))
    assert answer.status_code == 400 and json_of(answer)["errors"][0]["field"] == "secret"
    form = client.post(
        "/api/v1/subscriptions", data={"url": "https://x.example/"}, headers=bearer(key)
    )
    assert form.status_code == 400 and json_of(form)["errors"][0]["field"] == "body"
    too_long = {"url": "https://x.example/" + "a" * 500, "events": ["agenda.*"], "secret": SECRET}
    answer = client.post("/api/v1/subscriptions", json=too_long, headers=bearer(key))
    assert answer.status_code == 400 and json_of(answer)["errors"][0]["field"] == "url"


def test_a_key_subscribes_only_to_events_its_scopes_let_it_read(
    app: Flask, client: FlaskClient
) -> None:
    polls_only = make_key(app, "polls:read")
    body = {"url": "https://p.example/h", "events": ["ticket.created"], "secret": SECRET}
    refused = client.post("/api/v1/subscriptions", json=body, headers=bearer(polls_only))
    assert refused.status_code == 403 and "tickets:read" in json_of(refused)["detail"]
    tickets = make_key(app, "tickets:read")
    body["events"] = ["ticket.created", "agenda.*"]
    refused = client.post("/api/v1/subscriptions", json=body, headers=bearer(tickets))
    assert refused.status_code == 403 and "agenda:read" in json_of(refused)["detail"]


def test_another_keys_subscription_is_404_and_deleting_stops_its_deliveries(
    app: Flask, client: FlaskClient
) -> None:
    mine, theirs = make_key(app, "tickets:read"), make_key(app, "tickets:read", name="网格平台")
    made = subscribe(client, mine, "https://p.example/h", ["ticket.created"])
    assert client.get("/api/v1/subscriptions", headers=bearer(theirs)).json == {"items": []}
    gone = client.delete(f"/api/v1/subscriptions/{made['id']}", headers=bearer(theirs))
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"
    assert (
        client.delete(f"/api/v1/subscriptions/{made['id']}", headers=bearer(mine)).status_code
        == 204
    )
    assert client.get("/api/v1/subscriptions", headers=bearer(mine)).json == {"items": []}
    again = client.delete(f"/api/v1/subscriptions/{made['id']}", headers=bearer(mine))
    assert again.status_code == 404
    huge = client.delete(f"/api/v1/subscriptions/{10**30}", headers=bearer(mine))
    assert huge.status_code == 404


def test_the_openapi_document_describes_the_subscription_routes(client: FlaskClient) -> None:
    paths = json_of(client.get("/api/v1/openapi.json"))["paths"]
    assert set(paths["/api/v1/subscriptions"]) == {"get", "post"}
    deleting = paths["/api/v1/subscriptions/{subscription_id}"]["delete"]["responses"]
    assert "204" in deleting and "application/problem+json" in deleting["404"]["content"]


# -- events ------------------------------------------------------------------------------


def test_filing_without_a_subscription_records_no_delivery(app: Flask) -> None:
    file_directly(app, "电梯坏了", HOTLINE, "A1")
    assert rows_of(app) == []


def test_events_carry_the_ticket_masked_unless_the_key_is_personal(
    app: Flask, client: FlaskClient
) -> None:
    masked = make_key(app, "tickets:read", name="网格平台")
    personal = make_key(app, "tickets:read,personal")
    subscribe(client, masked, "https://grid.example/h", ["ticket.created"])
    subscribe(client, personal, "https://12345.example/h", ["ticket.created", "ticket.resolved"])
    ys = yishiting(app)
    with ys.db.session() as db:
        order = Order(
            "3号楼电梯坏了", HOTLINE, "GD-7", ys.conversation.clock(), phone="13812345678"
        )
        file_order(db, order, policy_from(ys.settings), ys.rulebook)
    grid, hotline = rows_of(app)
    body = json.loads(hotline.payload["body"])
    assert body["type"] == "ticket.created" and body["id"].startswith("evt_")
    assert body["id"] == json.loads(grid.payload["body"])["id"]  # one event, two deliveries
    assert body["data"]["ticket"]["phone"] == "13812345678"
    assert body["data"]["ticket"]["external_id"] == "GD-7"
    assert "timeline" not in body["data"]["ticket"]
    assert json.loads(grid.payload["body"])["data"]["ticket"]["phone"] == "138****5678"
    assert (
        hotline.order_key
        == f"w{hotline.payload['subscription']}:t{str(grid.order_key).split(':t')[1]}"
    )
    assert hotline.person_id is None and hotline.dedupe_key.startswith("webhook:")


def test_a_rejected_hotline_order_is_reported_as_tuidan_with_the_reason(
    app: Flask, client: FlaskClient
) -> None:
    key = make_key(app, "tickets:read")
    subscribe(client, key, "https://12345.example/h", ["ticket.rejected"])
    ys = yishiting(app)
    with ys.db.session() as db:
        clock = ys.conversation.clock
        hot = file_order(
            db,
            Order("楼下占道经营", HOTLINE, "GD-1", clock()),
            policy_from(ys.settings),
            ys.rulebook,
        )
        grid = file_order(
            db, Order("楼道堆物", "grid", "WG-1", clock()), policy_from(ys.settings), ys.rulebook
        )

    for filed, reason in ((hot, "不属于本社区，属城管执法范围"), (grid, "已由物业处理")):
        with ys.db.session() as db:
            reject(db, db.get_one(Ticket, filed.ticket_id), SYSTEM, reason, clock())
    datas = [json.loads(r.payload["body"])["data"] for r in rows_of(app)]
    assert [(d["result"], d["reason"]) for d in datas] == [
        ("退单", "不属于本社区，属城管执法范围"),
        ("退回", "已由物业处理"),
    ]
    assert datas[0]["ticket"]["status"] == "rejected"


def test_tuidan_is_reported_whichever_way_the_order_is_sent_back(
    app: Flask, client: FlaskClient, admin_client: FlaskClient
) -> None:
    """退回 in the console and through PATCH reach the platform as 退单 with the reason, as
    the chat's does (tests/test_hotline_roundtrip.py)."""
    key = make_key(app, "tickets:read,tickets:write")
    subscribe(client, key, "https://12345.example/h", ["ticket.rejected"])
    by_console = file_directly(app, "楼下占道经营", HOTLINE, "GD-1")
    by_api = file_directly(app, "马路中间有坑", HOTLINE, "GD-2")

    page = f"/admin/tickets/{by_console}"
    token = csrf_token_of(admin_client.get(page))
    sent = admin_client.post(
        f"{page}/reject", data={"csrf_token": token, "reason": "属城管执法范围"}
    )
    assert sent.status_code == 303
    patched = client.patch(
        f"/api/v1/tickets/{by_api}",
        json={"status": "rejected", "reason": "属市政道路"},
        headers=bearer(key),
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)

    datas = [json.loads(r.payload["body"])["data"] for r in rows_of(app)]
    assert [(d["ticket"]["number"], d["result"], d["reason"]) for d in datas] == [
        (by_console, "退单", "属城管执法范围"),
        (by_api, "退单", "属市政道路"),
    ]


def test_a_community_key_receives_only_its_communitys_tickets(
    app: Flask, client: FlaskClient
) -> None:
    from models.communities import add_community

    ys = yishiting(app)
    with ys.db.session() as db:
        west, _ = add_community(db, "西社区", datetime.now(UTC))
        west_id = west.id
    west_key = make_key(app, "tickets:read", community_id=west_id)
    street_key = make_key(app, "tickets:read", name="街道平台")
    subscribe(client, west_key, "https://west.example/h", ["ticket.created"])
    subscribe(client, street_key, "https://street.example/h", ["ticket.created"])
    with ys.db.session() as db:
        for text, community in (("西边路灯坏了", west_id), ("东边路灯坏了", None)):
            order = Order(text, "grid", None, ys.conversation.clock(), community_id=community)
            file_order(db, order, policy_from(ys.settings), ys.rulebook)
    got = [(r.payload["url"], r.payload["community_id"]) for r in rows_of(app)]
    assert got.count(("https://street.example/h", west_id)) == 1
    assert ("https://west.example/h", west_id) in got
    assert len([u for u, _ in got if u == "https://west.example/h"]) == 1
    assert len(got) == 3


def test_agenda_events_go_to_agenda_subscribers_of_its_community_and_street_wide_to_all(
    app: Flask, client: FlaskClient
) -> None:
    from models.communities import add_community
    from models.proposals import create

    ys = yishiting(app)
    with ys.db.session() as db:
        west_id = add_community(db, "西社区", datetime.now(UTC))[0].id
    west = make_key(app, "agenda:read", community_id=west_id, name="西社区网格平台")
    street = make_key(app, "agenda:read,tickets:read", name="街道平台")
    subscribe(client, west, "https://west.example/h", ["agenda.*"])
    subscribe(client, street, "https://street.example/h", ["agenda.accepted", "ticket.created"])
    with ys.db.session() as db:
        for title, community in (("东边加装电梯", 1), ("全街道垃圾分类", None)):
            create(
                db,
                title,
                "",
                community,
                datetime.now(UTC),
                actor="管理员",
                unit="household",
                threshold=0,
            )
    got = [(r.payload["url"], json.loads(r.payload["body"])) for r in rows_of(app)]
    assert [(url, body["data"]["agenda"]["title"]) for url, body in got] == [
        ("https://street.example/h", "东边加装电梯"),
        ("https://west.example/h", "全街道垃圾分类"),
        ("https://street.example/h", "全街道垃圾分类"),
    ]
    body = got[0][1]
    assert body["type"] == "agenda.accepted" and body["data"]["agenda"]["stage"] == "accepted"
    assert body["data"]["agenda"]["event"]["kind"] == "accepted"


def test_an_agenda_items_text_goes_only_to_a_key_with_personal(
    app: Flask, client: FlaskClient
) -> None:
    """As GET /api/v1/agenda/{number} shows it: what the proposer wrote only with `personal`."""
    from models.proposals import create

    plain = make_key(app, "agenda:read", name="网格平台")
    personal = make_key(app, "agenda:read,personal", name="街道平台")
    subscribe(client, plain, "https://plain.example/h", ["agenda.*"])
    subscribe(client, personal, "https://personal.example/h", ["agenda.*"])
    wrote = "我是3号楼王阿姨，电话13812345678，想加装电梯"
    with yishiting(app).db.session() as db:
        create(
            db,
            "加装电梯",
            wrote,
            1,
            datetime.now(UTC),
            actor="管理员",
            unit="household",
            threshold=0,
        )
    got = {r.payload["url"]: json.loads(r.payload["body"])["data"]["agenda"] for r in rows_of(app)}
    assert got["https://plain.example/h"]["text"] is None
    assert got["https://personal.example/h"]["text"] == wrote
    assert got["https://plain.example/h"]["title"] == "加装电梯"


def test_a_residents_objection_is_told_as_written_only_to_a_key_with_personal(
    app: Flask, client: FlaskClient
) -> None:
    """The API counts objections (GET /api/v1/agenda: `objections`); what a resident wrote
    in one reaches a platform only with `personal`."""
    from models.agenda import OBJECTION, record
    from models.api.webhooks import RESIDENT_WRITTEN
    from models.proposals import create

    assert OBJECTION in RESIDENT_WRITTEN
    plain = make_key(app, "agenda:read", name="网格平台")
    personal = make_key(app, "agenda:read,personal", name="街道平台")
    subscribe(client, plain, "https://plain.example/h", ["agenda.*"])
    subscribe(client, personal, "https://personal.example/h", ["agenda.*"])
    with yishiting(app).db.session() as db:
        item = create(
            db, "加装电梯", "", 1, datetime.now(UTC), actor="管理员", unit="household", threshold=0
        )
        record(db, item, OBJECTION, datetime.now(UTC), text="我是2单元刘某，反对：噪音太大")
    got = {  # the last delivery to each: the objection
        r.payload["url"]: json.loads(r.payload["body"])["data"]["agenda"]["event"]
        for r in rows_of(app)
    }
    assert got["https://plain.example/h"] == {**got["https://personal.example/h"], "text": None}
    assert got["https://personal.example/h"]["text"] == "我是2单元刘某，反对：噪音太大"


def test_the_hotline_and_its_tuidan_are_named_once() -> None:
    """One name for the hotline's source: the work orders', the marks' and the 退单's."""
    from words.channels import HOTLINE as WORDS_HOTLINE
    from words.channels import rejected_result

    assert HOTLINE is WORDS_HOTLINE
    assert (rejected_result(HOTLINE), rejected_result("grid"), rejected_result(None)) == (
        "退单",
        "退回",
        "退回",
    )

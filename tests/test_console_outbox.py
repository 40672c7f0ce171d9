"""待发消息 in the console: dead and waiting pushes, what they say, and retrying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import Chat, console_login, csrf_token_of, db_of, make_account
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from models import OutboxMessage, Person


def queued(
    app: Flask, kind: str, payload: dict[str, object], status: str, *, openid: str | None = None
) -> int:
    """An outbox row in `status`, as the worker leaves it (dead: tries spent, an error)."""
    now = datetime.now(UTC)
    with db_of(app).session() as session:
        person_id = None
        if openid is not None:
            person_id = session.scalar(select(Person.id).where(Person.openid == openid))
        row = OutboxMessage(
            kind=kind,
            person_id=person_id,
            payload=payload,
            dedupe_key=f"test:{kind}:{status}:{now.timestamp()}:{openid}",
            status=status,
            attempts=5 if status == "dead" else 0,
            next_attempt_at=now,
            last_error="errcode 43004: require subscribe" if status == "dead" else None,
            created_at=now - timedelta(minutes=3),
        )
        session.add(row)
        session.flush()
        return row.id


def status_of(app: Flask, message_id: int) -> tuple[str, int]:
    with db_of(app).session(read_only=True) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row.status, row.attempts


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_a_dead_push_is_listed_with_its_error_and_what_it_says(
    app: Flask, admin_client: FlaskClient, chat: Chat
) -> None:
    chat.say("帮助")  # the resident exists
    dead = queued(app, "binding.approved", {"place": "16-2-501"}, "dead", openid=chat.openid)
    page = text(admin_client.get("/admin/outbox"))
    row = page.split(f'data-message="{dead}"')[1].split("</tr>")[0]
    assert "发送失败" in row and "errcode 43004" in row and "<td>5</td>" in row
    assert "16-2-501" in row  # the rendered push, in the details
    assert "o_re…wang" in row and chat.openid not in row  # the recipient masked
    assert 'data-status="dead"><b>1</b>' in page


def test_retrying_a_dead_push_puts_it_back_in_the_queue(
    app: Flask, admin_client: FlaskClient, chat: Chat
) -> None:
    chat.say("帮助")
    dead = queued(app, "binding.approved", {"place": "16-2-501"}, "dead", openid=chat.openid)
    sent = queued(app, "binding.approved", {"place": "16-2-502"}, "sent", openid=chat.openid)
    token = csrf_token_of(admin_client.get("/admin/outbox"))
    answer = admin_client.post(f"/admin/outbox/{dead}/retry", data={"csrf_token": token})
    assert answer.status_code == 303
    assert f"已将第 {dead} 条消息重新放回发送队列" in text(admin_client.get("/admin/outbox"))
    assert status_of(app, dead) == ("pending", 0)

    again = admin_client.post(f"/admin/outbox/{sent}/retry", data={"csrf_token": token})
    assert "不是发送失败状态" in text(admin_client.get(again.headers["Location"]))
    assert status_of(app, sent)[0] == "sent"


def test_retry_all_dead_requeues_every_dead_push_and_no_other(
    app: Flask, admin_client: FlaskClient
) -> None:
    dead = [queued(app, "notice", {"text": f"停水通知 {n}"}, "dead") for n in range(3)]
    held = queued(app, "notice", {"text": "等待回复"}, "held")
    page = admin_client.get("/admin/outbox")
    assert "重试全部失败消息（3 条）" in text(page)
    answer = admin_client.post("/admin/outbox/retry-dead", data={"csrf_token": csrf_token_of(page)})
    assert "已将 3 条发送失败的消息重新放回发送队列" in text(
        admin_client.get(answer.headers["Location"])
    )
    assert [status_of(app, d)[0] for d in dead] == ["pending"] * 3
    assert status_of(app, held)[0] == "held"


def test_viewers_see_the_outbox_but_cannot_retry(app: Flask) -> None:
    dead = queued(app, "notice", {"text": "停水通知"}, "dead")
    make_account(app, "look", "viewer")
    client = app.test_client()
    console_login(client, "look")
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and "重试" not in text(page)
    token = csrf_token_of(page)
    assert client.post(f"/admin/outbox/{dead}/retry", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/outbox/retry-dead", data={"csrf_token": token}).status_code == 403
    assert status_of(app, dead)[0] == "dead"


def test_the_filter_and_pages_show_older_rows_newest_first(
    app: Flask, admin_client: FlaskClient
) -> None:
    ids = [queued(app, "notice", {"text": f"第{n}号通知"}, "pending") for n in range(55)]
    dead = queued(app, "notice", {"text": "失败的通知"}, "dead")
    first = text(admin_client.get("/admin/outbox"))
    assert first.index(f'data-message="{dead}"') < first.index(f'data-message="{ids[-1]}"')
    # 50 a page: the dead one and the 49 newest pending ones; the link goes on from there.
    assert f'data-message="{ids[6]}"' in first and f'data-message="{ids[5]}"' not in first
    assert f"before={ids[6]}" in first
    older = text(admin_client.get(f"/admin/outbox?before={ids[6]}"))
    assert f'data-message="{ids[5]}"' in older and f'data-message="{ids[0]}"' in older
    assert f'data-message="{ids[6]}"' not in older
    only_dead = text(admin_client.get("/admin/outbox?status=dead"))
    assert f'data-message="{dead}"' in only_dead and f'data-message="{ids[0]}"' not in only_dead


def test_a_push_that_cannot_be_rendered_still_lists(app: Flask, admin_client: FlaskClient) -> None:
    broken = queued(app, "no.such.kind", {}, "dead")
    page = admin_client.get("/admin/outbox")
    assert page.status_code == 200
    assert "无法生成这条消息的内容" in text(page).split(f'data-message="{broken}"')[1]

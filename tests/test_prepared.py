"""The hot-path statements store exactly what the ORM reads back, and fail the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.db import Database
from models import InboundMessage, Person, Role, claim_inbound, record_reply, touch_person


@pytest.fixture
def db(backend_settings: Settings) -> Iterator[Database]:
    database = Database(backend_settings)
    yield database
    database.dispose()


def test_rows_written_by_the_hot_path_read_back_through_the_orm(db: Database) -> None:
    now = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
    with db.transaction() as conn:
        inbound_id = claim_inbound(
            conn, key="msg:1", openid="o_1", kind="text", msg_id="1", content="灯坏了", now=now
        )
        person = touch_person(conn, "o_1", now, wrote=True)
        record_reply(conn, inbound_id, person_id=person.id, reply="已收到")
    assert (person.role, person.following) == (Role.RESIDENT, True)

    later = now + timedelta(hours=3)
    with db.transaction() as conn:
        again = touch_person(conn, "o_1", later, wrote=False)
    assert again.id == person.id

    with db.session(read_only=True) as s:
        row = s.scalars(select(InboundMessage)).one()
        assert (row.dedupe_key, row.content, row.reply, row.person_id) == (
            "msg:1",
            "灯坏了",
            "已收到",
            person.id,
        )
        assert row.received_at == now
        stored = s.get(Person, person.id)
        assert stored is not None
        assert stored.first_seen_at == now
        assert stored.last_seen_at == later
        assert stored.last_message_at == now  # an event does not move the 48-hour window


def test_a_taken_dedupe_key_raises_sqlalchemys_integrity_error(db: Database) -> None:
    now = datetime.now(UTC)
    kwargs = {"key": "msg:2", "openid": "o", "kind": "text", "msg_id": "2", "content": ""}
    with db.transaction() as conn:
        claim_inbound(conn, now=now, **kwargs)
    with pytest.raises(IntegrityError), db.transaction() as conn:
        claim_inbound(conn, now=now, **kwargs)


def test_times_are_stored_in_the_same_text_form_as_the_orm_writes(db: Database) -> None:
    """SQLite compares times as text: both paths must write one fixed-width form."""
    on_the_second = datetime(2026, 11, 22, 8, 30, 15, tzinfo=UTC)  # no microseconds
    with db.transaction() as conn:
        claim_inbound(
            conn, key="msg:3", openid="o", kind="text", msg_id="3", content="", now=on_the_second
        )
    with db.session() as s:
        s.add(
            InboundMessage(
                dedupe_key="msg:4",
                openid="o",
                kind="text",
                received_at=on_the_second,
                status="done",
            )
        )
    with db.engine.connect() as conn:
        stored = (
            conn.exec_driver_sql(
                "SELECT CAST(received_at AS TEXT) FROM inbound_message ORDER BY dedupe_key"
            )
            .scalars()
            .all()
        )
    assert stored[0] == stored[1]
    assert stored[0] in ("2026-11-22 08:30:15.000000", "2026-11-22 08:30:15")  # SQLite, PG

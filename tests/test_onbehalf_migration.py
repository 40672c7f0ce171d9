"""Migration 0016 on a database with tickets: every existing ticket came in by WeChat, and
afterwards a ticket may have no person (a resident the account does not know), on both
databases; going back below 0016 is refused while such a ticket exists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text

from bot.config import Settings
from bot.db import Database, alembic_config

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def migrate_to(db: Database, revision: str, *, down: bool) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def add_ticket(db: Database, number: int, person: bool) -> None:
    with db.engine.begin() as conn:
        person_id = None
        if person:
            person_id = conn.execute(
                text(
                    "INSERT INTO person (openid, role, following, first_seen_at, last_seen_at,"
                    " cs_sent, held_pushes, staff_level, rate_minute, rate_minute_count,"
                    " rate_day, rate_day_count) VALUES (:o, 'resident', true, :t, :t,"
                    " 0, 0, 0, 0, 0, 0, 0) RETURNING id"
                ),
                {"o": f"o_{number}", "t": NOW},
            ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO ticket (number, person_id, text, text_key, unsure, topic_confirmed,"
                " status, created_at, updated_at, level, reopen_count, supporters)"
                " VALUES (:n, :p, '楼道灯坏了', 'k', false, false, 'new', :t, :t, 1, 0, 0)"
            ),
            {"n": number, "p": person_id, "t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO ticket_event (ticket_id, at, action)"
                " SELECT id, :t, 'filed' FROM ticket WHERE number = :n"
            ),
            {"n": number, "t": NOW},
        )


def test_existing_tickets_become_wechat_ones_and_later_ones_may_have_no_person(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    try:
        migrate_to(db, "0015", down=True)
        add_ticket(db, 1, person=True)  # referred to by its timeline: SQLite may not rebuild it
        with pytest.raises(Exception, match="(?i)null"):
            add_ticket(db, 2, person=False)
        db.migrate()
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT channel, filed_by_id, phone FROM ticket")).one()
        assert tuple(row) == ("wechat", None, None)
        add_ticket(db, 2, person=False)
        with pytest.raises(RuntimeError, match="cannot downgrade below 0016"):
            migrate_to(db, "0015", down=True)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "DELETE FROM ticket_event WHERE ticket_id IN"
                    " (SELECT id FROM ticket WHERE person_id IS NULL)"
                )
            )
            conn.execute(text("DELETE FROM ticket WHERE person_id IS NULL"))
        migrate_to(db, "0015", down=True)
        with pytest.raises(Exception, match="(?i)null"):
            add_ticket(db, 3, person=False)  # NOT NULL is back
        db.migrate()
    finally:
        db.dispose()

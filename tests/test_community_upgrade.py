"""A database made by the previous release (migration 0016: one community, no communities
table) upgrades in place with `yishiting init`: every row stays as it was, everything lands in
one community named by `[app] community_name`, and the bot works on it. Downgrading back to
0016 works while there is one community, and is refused, saying why, once there are two.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, select, text

from bot.config import Settings
from bot.db import Database, alembic_config

ROOT = Path(__file__).resolve().parent.parent
PREVIOUS = "0016"
NAME = "幸福社区"
AT = datetime(2026, 11, 2, 9, 30)  # naive UTC, as the columns store it
LATER = datetime(2026, 12, 30, 12, 0)

Rows = dict[str, list[dict[str, Any]]]


def _person(pid: int, openid: str, role: str, level: int = 0, name: str | None = None) -> Any:
    return {
        "id": pid,
        "openid": openid,
        "role": role,
        "following": True,
        "first_seen_at": AT,
        "last_seen_at": AT,
        "last_message_at": AT,
        "name": name,
        "staff_level": level,
    }


def _ticket(tid: int, person: int, status: str, **more: Any) -> dict[str, Any]:
    row = {
        "id": tid,
        "number": tid,
        "person_id": person,
        "text": f"第{tid}件：楼道灯坏了" if tid == 1 else "垃圾桶满了没人清",
        "text_key": f"key{tid}",
        "topic_id": tid,
        "unsure": False,
        "topic_confirmed": True,
        "status": status,
        "created_at": AT,
        "updated_at": AT,
        "assignee_id": 1,
        "grid_id": 1,
        "building_id": 1,
        "place": "16-1-101",
        "due_at": LATER,
        "level": 1,
    }
    row.update(more)
    return row


def _poll(pid: int, unit: str, **more: Any) -> dict[str, Any]:
    row = {
        "id": pid,
        "number": pid,
        "title": "16号楼前道路重铺" if pid == 1 else "加装电梯",
        "description": "",
        "options_json": json.dumps(["沥青", "水泥"], ensure_ascii=False),
        "scope": "all",
        "unit": unit,
        "max_choices": 1,
        "anonymous": False,
        "hide_results": False,
        "eligibility": "bound",
        "opens_at": AT,
        "closes_at": LATER,
        "quorum": 0.0,
        "threshold": 0.5,
        "status": "open",
        "created_at": AT,
    }
    row.update(more)
    return row


def previous_release_rows() -> Rows:
    """What a street office's single community had in the previous release."""
    return {
        "person": [
            _person(1, "o_grid_worker", "staff", 1, "王网格"),
            _person(2, "o_supervisor", "staff", 2, "李主任"),
            _person(3, "o_street", "staff", 3, "赵科长"),
            _person(4, "o_resident_a", "resident"),
            _person(5, "o_resident_b", "resident"),
            _person(6, "o_resident_c", "resident"),
        ],
        "topic": [
            {"id": 1, "name": "物业服务", "description": "", "enabled": True, "sla_hours": 48,
             "sort_order": 1},
            {"id": 2, "name": "环境卫生", "description": "", "enabled": True, "sla_hours": 24,
             "sort_order": 2},
        ],
        "keyword_rule": [
            {"id": 1, "topic_id": 1, "keyword": "路灯", "weight": 2.0, "kind": "include",
             "enabled": True, "updated_by": "admin", "updated_at": AT},
            {"id": 2, "topic_id": 2, "keyword": "垃圾", "weight": 1.0, "kind": "include",
             "enabled": True, "updated_by": "admin", "updated_at": AT},
        ],
        "rule_audit": [
            {"id": 1, "at": AT, "actor": "admin", "action": "add", "topic": "物业服务",
             "keyword": "路灯", "before": None, "after": "2.0"},
        ],
        "grid": [
            {"id": 1, "name": "第一网格", "worker_id": 1},
            {"id": 2, "name": "第二网格", "worker_id": None},
        ],
        "building": [
            {"id": 1, "name": "16", "grid_id": 1},
            {"id": 2, "name": "17", "grid_id": 1},
            {"id": 3, "name": "18", "grid_id": 2},
        ],
        "household": [
            {"id": 1, "building_id": 1, "unit": "1", "room": "101", "listed": True},
            {"id": 2, "building_id": 2, "unit": "2", "room": "502", "listed": True},
            {"id": 3, "building_id": 3, "unit": "1", "room": "301", "listed": False},
        ],
        "binding": [
            {"id": 1, "person_id": 4, "household_id": 1, "status": "approved", "phone": None,
             "created_at": AT, "decided_at": AT, "decided_by": "王网格"},
            {"id": 2, "person_id": 5, "household_id": 1, "status": "approved",
             "phone": "13800001234", "created_at": AT, "decided_at": AT, "decided_by": "admin"},
            {"id": 3, "person_id": 6, "household_id": 3, "status": "pending", "phone": None,
             "created_at": AT, "decided_at": None, "decided_by": None},
        ],
        "staff_grid": [{"id": 1, "person_id": 1, "grid_id": 1}],
        "staff_topic": [{"id": 1, "person_id": 1, "topic_id": 1}],
        "ticket": [
            _ticket(1, 4, "assigned", assigned_reason="grid"),
            _ticket(2, 5, "closed", resolved_at=AT, closed_at=AT, outcome="已清运", on_time=True,
                    rating=1, rated_at=AT),
        ],
        "ticket_event": [
            {"id": 1, "ticket_id": 1, "at": AT, "actor_id": None, "action": "created",
             "from_status": None, "to_status": "new", "note": None},
            {"id": 2, "ticket_id": 1, "at": AT, "actor_id": 1, "action": "assigned",
             "from_status": "new", "to_status": "assigned", "note": "第一网格"},
            {"id": 3, "ticket_id": 2, "at": AT, "actor_id": 1, "action": "resolved",
             "from_status": "assigned", "to_status": "resolved", "note": "已清运"},
        ],
        "ticket_supporter": [{"id": 1, "ticket_id": 1, "person_id": 5, "created_at": AT}],
        "poll": [_poll(1, "person"), _poll(2, "household", quorum=0.5)],
        "ballot": [
            {"id": 1, "poll_id": 1, "unit_key": "p4", "voter_id": 4, "household_id": 1,
             "choices": "A", "cast_at": AT, "replaced_at": None},
            {"id": 2, "poll_id": 2, "unit_key": "h1", "voter_id": 5, "household_id": 1,
             "choices": "B", "cast_at": AT, "replaced_at": AT},
        ],
        "counter": [{"name": "ticket_number", "value": 2}, {"name": "poll_number", "value": 2}],
        "console_account": [
            {"id": 1, "username": "admin", "password_hash": "pbkdf2:sha256:1$x$y", "role": "admin",
             "person_id": None, "created_at": AT, "last_login_at": AT},
            {"id": 2, "username": "wang", "password_hash": "pbkdf2:sha256:1$x$z", "role": "staff",
             "person_id": 1, "created_at": AT, "last_login_at": None},
        ],
        "announcement": [
            {"id": 1, "key": "water-1201", "text": "12月1日停水通知", "audience": "all",
             "broadcast": False, "created_by": "cli", "created_at": AT, "recipients": 3},
        ],
    }  # fmt: skip


def migrate(engine: Engine, revision: str, down: bool = False, name: str = NAME) -> None:
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        cfg.attributes["community_name"] = name
        (command.downgrade if down else command.upgrade)(cfg, revision)


def fill(engine: Engine, rows: Rows) -> None:
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table, values in rows.items():
            if table == "counter":  # the migrations start the counters; these are further on
                counter = meta.tables[table]
                names = [row["name"] for row in values]
                conn.execute(counter.delete().where(counter.c.name.in_(names)))
            for row in values:  # one by one: the rows of a table need not name the same columns
                conn.execute(meta.tables[table].insert(), row)
        if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for table in rows:
                if "id" in meta.tables[table].c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )


def snapshot(engine: Engine, tables: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """Every row of these tables, only these columns, in primary-key order."""
    meta = MetaData()
    meta.reflect(engine, only=list(tables))
    found = {}
    with engine.connect() as conn:
        for name, columns in tables.items():
            table = meta.tables[name]
            order = list(table.primary_key.columns) or [table.c[columns[0]]]
            query = select(*(table.c[c] for c in columns)).order_by(*order)
            found[name] = [dict(row._mapping) for row in conn.execute(query)]
    return found


def unchanged(before: Rows, after: Rows) -> None:
    """Every row of `before` is in `after` as it was. New rows may follow (init seeds the
    default topics the old database lacked, and so bumps the rules' version counter; new
    counters, keyed by name, may sort anywhere among the old)."""
    for table, rows in before.items():
        old, new = rows, after[table][: len(rows)]
        if table == "counter":
            old = _without_rules_version(old)
            new = [row for row in _without_rules_version(after[table]) if row in old]
        assert new == old, table


def _without_rules_version(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["name"] != "rules_version"]


def old_schema(engine: Engine) -> dict[str, list[str]]:
    meta = MetaData()
    meta.reflect(engine)
    return {
        name: [column.name for column in table.columns]
        for name, table in meta.tables.items()
        if name != "alembic_version"
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def previous(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Settings:
    """The settings of a database the previous release made and filled."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'previous.db'}"
    else:
        url = request.getfixturevalue("postgres_cluster").new_database()
    old = settings.replace(app={"database_url": url})
    db = Database(old)
    try:
        migrate(db.engine, PREVIOUS)
        fill(db.engine, previous_release_rows())
    finally:
        db.dispose()
    return old


def yishiting(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args, "--config", settings.source],
        cwd=ROOT,
        env={
            **os.environ,
            "YISHITING_APP_DATABASE_URL": settings.app.database_url,
            "YISHITING_APP_COMMUNITY_NAME": NAME,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def column(engine: Engine, table: str, key: str = "id") -> dict[Any, Any]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {key}, community_id FROM {table} ORDER BY {key}"))
        return {row[0]: row[1] for row in rows}


def test_init_upgrades_the_previous_release_in_place(previous: Settings) -> None:
    db = Database(previous)
    tables = old_schema(db.engine)
    before = snapshot(db.engine, tables)
    upgraded = yishiting(previous, "init")
    assert upgraded.returncode == 0, upgraded.stderr
    unchanged(before, snapshot(db.engine, tables))
    assert lines(yishiting(previous, "community", "list", "--json")) == [
        {"name": NAME, "grids": 2, "buildings": 3, "households": 3}
    ]
    # Community staff and residents are the community's; street staff (level 3) the street's.
    assert column(db.engine, "person") == {1: 1, 2: 1, 3: None, 4: 1, 5: 1, 6: 1}
    for table in ("grid", "building", "ticket", "poll", "announcement"):
        assert set(column(db.engine, table).values()) == {1}, table
    db.dispose()

    tickets = lines(yishiting(previous, "tickets", "list", "--json"))
    assert sorted((t["number"], t["community"]) for t in tickets) == [(1, NAME), (2, NAME)]
    shown = yishiting(previous, "poll", "show", "2", "--json")
    poll = json.loads(shown.stdout)
    assert (poll["community"], poll["ballots"], poll["eligible"]) == (NAME, 1, 2)
    assert poll["counts"] == {"A": 0, "B": 1}


def test_downgrade_to_the_previous_release_while_there_is_one_community(
    previous: Settings,
) -> None:
    db = Database(previous)
    tables = old_schema(db.engine)
    before = snapshot(db.engine, tables)
    assert yishiting(previous, "init").returncode == 0
    migrate(db.engine, PREVIOUS, down=True)
    assert old_schema(db.engine) == tables
    unchanged(before, snapshot(db.engine, tables))
    db.dispose()


def test_downgrade_is_refused_once_there_is_a_second_community(previous: Settings) -> None:
    assert yishiting(previous, "init").returncode == 0
    added = yishiting(previous, "community", "add", "和平社区")
    assert added.returncode == 0, added.stderr
    db = Database(previous)
    with pytest.raises(RuntimeError, match="the database holds more than one community"):
        migrate(db.engine, PREVIOUS, down=True)
    db.dispose()
    assert len(lines(yishiting(previous, "community", "list", "--json"))) == 2

"""`yishiting api-key create|list|revoke` as an admin uses them: the key alone on create's last
line (the contract scripts read), shown once and kept hashed, the list with last use and
revocation, revoking by id or prefix, and every refusal naming what was wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_keys import bearer
from click.testing import CliRunner, Result
from conftest import db_of
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models.api.key_admin import find_key
from models.api.keys import SHOWN, ApiKey, ApiKeyError, digest
from models.communities import STREET, add_community


def cli(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["api-key", args[0], "--config", str(config), *args[1:]])


def create(config: Path, *extra: str, name: str = "12345平台", scope: str = "tickets:read") -> str:
    made = cli(config, "create", "--name", name, "--scope", scope, *extra)
    assert made.exit_code == 0, made.output
    return made.stdout.splitlines()[-1]


def communities(app: Flask, *names: str) -> None:
    with db_of(app).session() as db:
        for name in names:
            add_community(db, name, datetime.now(UTC))


def test_create_prints_the_key_alone_on_its_last_line_and_keeps_only_its_hash(
    app: Flask, config_path: Path
) -> None:
    made = cli(config_path, "create", "--name", "12345平台", "--scope", "tickets:read,agenda:read")
    assert made.exit_code == 0, made.output
    *before, secret = made.stdout.splitlines()
    assert secret.startswith("yst_") and " " not in secret and len(secret) > 40
    assert "只显示这一次" in "\n".join(before)
    assert "tickets:read,agenda:read" in "\n".join(before)
    with db_of(app).session(read_only=True) as db:
        key = db.scalars(select(ApiKey)).one()
        stored = [str(getattr(key, c.key)) for c in ApiKey.__table__.columns]
    assert key.key_hash == digest(secret) and key.shown == secret[:SHOWN]
    assert not any(secret in value for value in stored)  # the key itself is nowhere
    assert key.created_by == "命令行" and key.community_id is None
    answer = app.test_client().get("/api/v1/topics", headers=bearer(secret))
    assert answer.status_code == 200


def test_a_community_key_and_who_made_it(app: Flask, config_path: Path) -> None:
    communities(app, "甲社区", "乙社区")
    made = cli(
        config_path, "create", "--name", "网格平台", "--scope", "tickets:write",
        "--community", "乙社区", "--by", "王主任",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "乙社区" in made.stdout
    with db_of(app).session(read_only=True) as db:
        key = db.scalars(select(ApiKey)).one()
        community = key.community_id
        assert key.created_by == "王主任" and key.scopes == "tickets:write"
    assert community is not None
    listed = [json.loads(line) for line in cli(config_path, "list", "--json").stdout.splitlines()]
    assert [(k["name"], k["community"], k["created_by"]) for k in listed] == [
        ("网格平台", "乙社区", "王主任")
    ]
    assert cli(config_path, "list", "--community", "甲社区", "--json").stdout == ""


def test_refusals_name_the_problem(app: Flask, config_path: Path) -> None:
    for args, named in [
        (["--name", "x", "--scope", "tickets:read,tickets:delete"], "tickets:delete"),
        (["--name", "x", "--scope", " , "], "--scope"),
        (["--name", "  ", "--scope", "tickets:read"], "--name is empty"),
        (["--name", "长" * 65, "--scope", "tickets:read"], "too long"),
        (["--name", "x", "--scope", "tickets:read", "--community", "丙社区"], "丙社区"),
    ]:
        refused = cli(config_path, "create", *args)
        assert refused.exit_code == 1, args
        assert named in refused.output and "Traceback" not in refused.output, refused.output
    with db_of(app).session(read_only=True) as db:
        assert db.scalars(select(ApiKey)).all() == []


def test_list_shows_last_use_and_revocation(app: Flask, config_path: Path) -> None:
    assert cli(config_path, "list").stdout.startswith("no API keys yet")
    used = create(config_path, name="12345平台")
    create(config_path, name="网格平台", scope="agenda:read,polls:read")
    app.test_client().get("/api/v1/topics", headers=bearer(used))
    lines = cli(config_path, "list").stdout.splitlines()
    assert lines[0].startswith("#2 ") and "网格平台" in lines[0] and "last used never" in lines[0]
    assert "agenda:read,polls:read" in lines[0] and "街道" in lines[0] and "active" in lines[0]
    assert f"{used[:SHOWN]}…" in lines[1] and "last used never" not in lines[1]
    assert "created " in lines[1] and "by 命令行" in lines[1]
    assert used not in cli(config_path, "list").output  # never the key itself

    revoked = cli(config_path, "revoke", "1", "--by", "李四")
    assert revoked.exit_code == 0 and "revoked: #1" in revoked.stdout
    row = json.loads(cli(config_path, "list", "--json").stdout.splitlines()[1])
    assert set(row) == {
        "id", "name", "shown", "scopes", "community", "created_by", "created_at",
        "last_used_at", "revoked_at", "revoked_by",
    }  # fmt: skip
    assert row["revoked_by"] == "李四" and row["revoked_at"] and row["last_used_at"]
    assert "revoked " in cli(config_path, "list").stdout.splitlines()[1]


def test_revoke_by_prefix_refuses_the_key_from_then_on(app: Flask, config_path: Path) -> None:
    secret = create(config_path)
    client = app.test_client()
    assert client.get("/api/v1/topics", headers=bearer(secret)).status_code == 200
    done = cli(config_path, "revoke", secret[:SHOWN])
    assert done.exit_code == 0, done.output
    answer = client.get("/api/v1/topics", headers=bearer(secret))
    assert answer.status_code == 401 and "吊销" in answer.json["detail"]
    again = cli(config_path, "revoke", secret[:SHOWN])
    assert again.exit_code == 0 and "already revoked" in again.stdout


def test_revoke_refuses_what_it_cannot_name(app: Flask, config_path: Path) -> None:
    communities(app, "甲社区", "乙社区")
    first = create(config_path, "--community", "乙社区")
    create(config_path, "--community", "乙社区")
    for ref, named in [("99", "no API key '99'"), ("yst_", "several keys"), ("", "no API key")]:
        refused = cli(config_path, "revoke", ref)
        assert refused.exit_code == 1 and named in refused.output, refused.output
    # Another community's key is not there for 甲社区, by id, prefix or whole key.
    for ref in ("1", first[:SHOWN], first):
        refused = cli(config_path, "revoke", ref, "--community", "甲社区")
        assert refused.exit_code == 1 and "no API key" in refused.output
        assert first not in refused.output  # a whole key is never repeated back in full
    assert cli(config_path, "revoke", first, "--community", "乙社区").exit_code == 0
    with db_of(app).session(read_only=True) as db:
        assert [k.revoked_at is not None for k in db.scalars(select(ApiKey))] == [True, False]


def test_a_prefix_names_a_key_exactly_on_both_databases(backend_settings: Settings) -> None:
    """Prefixes are mixed-case and hold `_`: neither SQLite's case-folding LIKE nor the
    wildcard may make one prefix name another key."""
    db = Database(backend_settings)
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            for n, shown in enumerate(["yst_aBcDeF", "yst_AbCdEf", "yst1aBcDeF"]):
                session.add(
                    ApiKey(name=f"k{n}", shown=shown, key_hash=f"{n:064d}", scopes="tickets:read",
                           created_by="测试", created_at=now)
                )  # fmt: skip
        with db.session() as session:
            assert find_key(session, "yst_aBc", STREET).name == "k0"
            assert find_key(session, "yst_AbC", STREET).name == "k1"
            with pytest.raises(ApiKeyError) as several:
                find_key(session, "yst", STREET)
            assert several.value.reason == "several"
            with pytest.raises(ApiKeyError):
                find_key(session, "yst_abc", STREET)
    finally:
        db.dispose()

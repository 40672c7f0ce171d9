"""`init --demo` (what `make run` uses) shows a street with two communities."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import Clock, write_config
from desk import Desk

from bot.cli import main
from bot.config import load_settings
from bot.db import Database
from devtools.demo import add_demo_tickets
from devtools.demo_street import POLL_TITLE


def test_init_demo_makes_a_street_of_two_communities_once(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml",
        app={
            "database_url": "sqlite:///demo.db",
            "secret_key": "s3cret-for-tests",
            "mode": "development",
            "community_name": "幸福社区",
        },
        wechat={"token": "t"},
    )
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--config", str(config), "--demo"])
    assert first.exit_code == 0, first.output
    for line in (
        "demo: + community 和平社区",
        "demo: + staff o_demo_street 赵科长 (level 3)",
        "demo: + staff o_demo_peace_staff 陈师傅 (和平社区 第一网格)",
        f"demo: + poll #2 {POLL_TITLE} (street-wide",
    ):
        assert line in first.output
    again = runner.invoke(main, ["init", "--config", str(config), "--demo"])
    assert again.exit_code == 0, again.output
    assert "demo data: up to date" in again.output and "demo: +" not in again.output
    listed = runner.invoke(main, ["community", "list", "--config", str(config), "--json"])
    assert [json.loads(line) for line in listed.stdout.splitlines()] == [
        {"name": "幸福社区", "grids": 1, "buildings": 3, "households": 24},
        {"name": "和平社区", "grids": 1, "buildings": 2, "households": 8},
    ]
    db = Database(load_settings(config, environ={}))
    try:
        with db.session() as session:
            filed = add_demo_tickets(session, datetime.now(UTC))
        with db.session() as session:
            assert add_demo_tickets(session, datetime.now(UTC)) == []  # once
    finally:
        db.dispose()
    assert filed[1] == "+ ticket #2 1号楼电梯这两天总是停在三楼不动"
    tickets = runner.invoke(main, ["tickets", "list", "--config", str(config), "--json"])
    communities = sorted(json.loads(line)["community"] for line in tickets.stdout.splitlines())
    assert communities == ["和平社区", "和平社区", "幸福社区"]


def test_the_demo_residents_see_their_community_poll_and_the_street_poll(
    tmp_path: Path, clock: Clock
) -> None:
    config = write_config(
        tmp_path / "config.toml",
        app={"database_url": "sqlite:///demo.db", "secret_key": "s", "mode": "development"},
        wechat={"token": "t"},
    )
    assert CliRunner().invoke(main, ["init", "--config", str(config), "--demo"]).exit_code == 0
    desk = Desk(load_settings(config, environ={}), clock)
    try:
        first = desk.chat("o_demo_resident").say("投票")
        second = desk.chat("o_demo_peace_resident").say("投票")
    finally:
        desk.close()
    assert first is not None and second is not None
    assert "1号楼是否加装电动自行车充电桩" in first and POLL_TITLE in first
    assert "充电桩" not in second and POLL_TITLE in second

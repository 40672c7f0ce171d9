"""`init --demo` (what `make run` uses) starts a 议 cycle: a proposal being backed, and an
item through a meeting and a household vote to 公示 — on the 议题 tab, the 工作台's pipeline and
the annual report; once, however often it runs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import console_login, make_account, write_config
from sqlalchemy import func, select

from bot.app import create_app
from bot.cli import main
from bot.config import load_settings
from devtools.demo_agenda import DECIDED, DECISION, MINUTES_TEXT, PROPOSAL
from models.agenda import AgendaBacking, AgendaItem, backing_count
from models.agenda_json import agenda_json
from models.meetings import Meeting
from models.polls import Poll, tally


def test_init_demo_runs_a_cycle_once(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config.toml",
        app={"database_url": "sqlite:///demo.db", "secret_key": "s", "mode": "development"},
        wechat={"token": "t"},
    )
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--config", str(config), "--demo"])
    assert first.exit_code == 0, first.output
    assert "demo: + 议题 #1 我提议在小区北门空地增加一组健身器材" in first.output
    assert "(meeting #1, poll #3, 公示中)" in first.output
    again = runner.invoke(main, ["init", "--config", str(config), "--demo"])
    assert "demo: +" not in again.output

    settings = load_settings(config, environ={})
    app = create_app(settings)
    db = app.extensions["yishiting"].db
    with db.session(read_only=True) as s:
        assert s.scalar(select(func.count(AgendaItem.id))) == 2
        proposal = s.scalars(select(AgendaItem).where(AgendaItem.body == PROPOSAL)).one()
        assert (proposal.stage, backing_count(s, proposal.id)) == ("proposed", 2)
        decided = s.scalars(select(AgendaItem).where(AgendaItem.body == DECIDED)).one()
        shown = agenda_json(s, decided, settings.tz, "http://127.0.0.1:5000")
        assert (shown["stage"], shown["decision"], shown["meetings"]) == (
            "publicised",
            DECISION,
            [1],
        )
        assert shown["public_url"].startswith("http://127.0.0.1:5000/p/")
        poll = s.scalars(select(Poll).where(Poll.agenda_id == decided.id)).one()
        result = tally(s, poll)
        assert (poll.status, result.ballots, result.counts["A"]) == ("decided", 2, 2)
        assert s.scalars(select(Meeting)).one().minutes == MINUTES_TEXT
        assert s.scalar(select(func.count(AgendaBacking.id))) == 3
    make_account(app, "boss", "admin")
    client = app.test_client()
    assert console_login(client, "boss").status_code == 303
    listed = client.get("/admin/agenda").get_data(as_text=True)
    assert "我提议在小区北门空地增加一组健身器材" in listed and "1号楼楼道的灯" in listed
    board = client.get("/admin").get_data(as_text=True)
    assert "共 2 个" in board
    year = datetime.now(UTC).astimezone(settings.tz).year
    report = client.get(f"/admin/agenda/report.csv?year={year}").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(report)))
    assert [r["阶段"] for r in rows] == ["待立项", "公示中"]
    assert rows[1]["表决（编号 选票数 各选项票数）"] == "#3 2票 同意更换声控灯2 维持现状0"
    db.dispose()

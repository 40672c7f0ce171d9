"""`init --demo` (what `make run` uses) starts the 议 cycle: a proposal being backed, and a
meeting that agreed on one item (made public, now being carried out) and put another to the
demo's household poll — on the 议题 tab, the 工作台's pipeline and the annual report; once,
however often it runs, and without a poll of its own (README's walkthrough numbers them)."""

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
from devtools.demo import POLL_TITLE
from devtools.demo_agenda import DECIDED, DECISION, PROGRESS_TEXT, PROPOSAL
from models.agenda import AgendaItem, backing_count
from models.agenda_json import agenda_json
from models.meetings import Meeting, meeting_json
from models.polls import Poll


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
    assert "demo: + 议事会 #1 十一月居民议事会 (议题 #2, #3)" in first.output
    assert "(表决中: poll #1)" in first.output
    again = runner.invoke(main, ["init", "--config", str(config), "--demo"])
    assert "demo: +" not in again.output

    settings = load_settings(config, environ={})
    app = create_app(settings)
    db = app.extensions["yishiting"].db
    with db.session(read_only=True) as s:
        assert s.scalar(select(func.count(Poll.id))) == 2  # the demo's two polls, no more
        proposal = s.scalars(select(AgendaItem).where(AgendaItem.body == PROPOSAL)).one()
        assert (proposal.stage, backing_count(s, proposal.id)) == ("proposed", 2)
        lamp = s.scalars(select(AgendaItem).where(AgendaItem.body == DECIDED)).one()
        shown = agenda_json(s, lamp, settings.tz, "http://127.0.0.1:5000")
        assert (shown["stage"], shown["decision"], shown["meetings"]) == (
            "carrying_out",
            DECISION,
            [1],
        )
        assert (shown["owner"], shown["owner_staff"]) == ("物业公司", "王师傅")
        assert [p["text"] for p in shown["progress"]] == [PROGRESS_TEXT]
        assert shown["public_url"].startswith("http://127.0.0.1:5000/p/")
        poll = s.scalars(select(Poll).where(Poll.title == POLL_TITLE)).one()
        charging = s.get(AgendaItem, poll.agenda_id)
        assert charging is not None and charging.stage == "voting"
        meeting = meeting_json(s, s.scalars(select(Meeting)).one(), settings.tz)
        assert (meeting["agenda"], meeting["invited"], meeting["attending"]) == ([2, 3], 2, 1)
    make_account(app, "boss", "admin")
    client = app.test_client()
    assert console_login(client, "boss").status_code == 303
    listed = client.get("/admin/agenda").get_data(as_text=True)
    assert "我提议在小区北门空地增加一组健身器材" in listed and "1号楼楼道的灯" in listed
    board = client.get("/admin").get_data(as_text=True)
    assert "共 3 个" in board
    year = datetime.now(UTC).astimezone(settings.tz).year
    report = client.get(f"/admin/agenda/report.csv?year={year}").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(report)))
    assert [r["阶段"] for r in rows] == ["待立项", "落实中", "表决中"]
    assert rows[2]["表决（编号 选票数 各选项票数）"].startswith("#1 0票 同意加装0")
    assert rows[2]["提出方"] == "李主任发起"
    db.dispose()

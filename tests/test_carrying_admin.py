"""落实 by an admin: `yishiting agenda assign|progress|complete` and the 议题 page's forms do
what the chat does, and say why when they refuse; the page shows the owner, the progress,
the result, the ratings with their 满意率 and the 回头看's answers. The operations on both
databases: an outside party's name past its column is refused before the database sees it,
and a person's second rating replaces the first on the one row (agenda_id, person_id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from carrying_world import publicised_item
from click.testing import CliRunner
from conftest import csrf_token_of, db_of, pushes_to
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models.agenda import AgendaError, AgendaItem, AgendaRating, agenda_by_number
from models.agenda_json import agenda_json
from models.agenda_ratings import answer_review, ask_review, rate
from models.carrying import assign, complete, report_progress

SHANGHAI = ZoneInfo("Asia/Shanghai")


def later(days: int) -> str:
    return f"{datetime.now(SHANGHAI) + timedelta(days=days):%Y-%m-%d}"


def cli(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--config", str(config_path)])
    return result.exit_code, result.output


def test_the_cli_assigns_reports_and_completes(app: Flask, config_path: Path) -> None:
    with db_of(app).session() as s:
        n = publicised_item(s, datetime.now(UTC), settled=False).number
    code, out = cli(config_path, "agenda", "assign", str(n), "--owner", "王芳", "--due", later(9))
    assert code == 1
    assert f"#{n}'s publicity (公示) is still open until" in out
    with db_of(app).session() as s:
        item = agenda_by_number(s, n)
        assert item is not None
        item.objections_until = datetime.now(UTC) - timedelta(minutes=1)

    args = ["agenda", "assign", str(n), "--due", later(9)]
    assert cli(config_path, *args, "--owner", "张三") == (
        1,
        f"Error: no staff member named '张三' works in #{n}'s community or for the street "
        "(see `staff list`)\n",
    )
    assert cli(config_path, *args[:3], "--due", "next week", "--owner", "王芳")[0] == 2
    code, out = cli(config_path, *args, "--owner", "物业公司", "--answerable", "王芳")
    assert (code, out) == (
        0,
        f"#{n} assigned to 物业公司 (王芳 answerable), due {later(9)} 23:59\n",
    )
    assert "由物业公司实施，请您负责督促落实" in pushes_to(app, "o_wang", "agenda.")[0]
    code, out = cli(config_path, *args[:3], "--due", later(12), "--owner", "李主任")
    assert (code, out) == (0, f"#{n} reassigned to 李主任, due {later(12)} 23:59\n")
    assert len(pushes_to(app, "o_li", "agenda.assigned")) == 1

    assert cli(config_path, "agenda", "progress", str(n), "器材已订购") == (
        0,
        f"#{n} progress recorded, 3 residents told\n",
    )
    assert pushes_to(app, "o_back", "agenda.progress")[0].endswith("：器材已订购")
    assert cli(config_path, "agenda", "complete", str(n), " ")[1] == "Error: the text is empty\n"
    assert cli(config_path, "agenda", "complete", str(n), "已安装") == (
        0,
        f"#{n} done: 4 residents asked to rate it, review in 30 days\n",
    )
    assert cli(config_path, "agenda", "progress", str(n), "又修了")[1] == (
        f"Error: #{n} is done: progress is reported while it is being carried out\n"
    )
    assert cli(config_path, "agenda", "complete", "404", "x")[1] == "Error: no 议题 #404\n"


def test_the_item_page_assigns_reports_completes_and_shows_the_ratings(
    app: Flask, admin_client: FlaskClient
) -> None:
    with db_of(app).session() as s:
        world = publicised_item(s, datetime.now(UTC))
    n, page = world.number, f"/admin/agenda/{world.number}"
    answer = admin_client.get(page)
    assert "明确落实责任（通知负责人）" in answer.get_data(as_text=True)
    token = csrf_token_of(answer)

    def post(action: str, **form: str) -> str:
        sent = admin_client.post(f"{page}/{action}", data={"csrf_token": token, **form})
        assert sent.status_code == 303
        return admin_client.get(sent.headers["Location"]).get_data(as_text=True)

    shown = post("assign", owner="赵大", due=later(9))
    assert "没有找到名为「赵大」的工作人员（本社区或街道）。" in shown
    shown = post("assign", owner="物业公司", answerable="王芳", due=later(9))
    assert f"议题 #{n} 已明确落实责任：物业公司（王芳负责），期限 {later(9)} 23:59。" in shown
    assert "物业公司（王芳负责）" in shown and "调整落实责任" in shown
    shown = post("progress", text="器材已订购，<b>下周</b>进场")
    assert "&lt;b&gt;下周&lt;/b&gt;" in shown  # as written, and escaped
    assert f"已记录议题 #{n} 的落实进展，并告知 3 位居民。" in shown
    shown = post("complete", result="已安装并验收")
    assert f"议题 #{n} 已落实完成，已请 4 位居民评议。" in shown
    with db_of(app).session() as s:
        item = agenda_by_number(s, n)
        assert item is not None
        for openid, score in [("o_prop", 1), ("o_back", 2), ("o_vote", 3), ("o_meet", 1)]:
            rate(s, item, world.people[openid], score, datetime.now(UTC))
        assert ask_review(s, item, datetime.now(UTC)) == 4
        answer_review(s, item, world.people["o_back"], False, "又坏了", datetime.now(UTC))
    shown = admin_client.get(page).get_data(as_text=True)
    assert "满意率：<strong>75%</strong>（4 人评议：满意 2 · 基本满意 1 · 不满意 1）" in shown
    assert '出现反复：<span class="text">又坏了</span>' in shown
    assert post("progress", text="还在修").count("现在是「已完成」，不能记录进展。") == 1


@pytest.mark.parametrize("street_wide", [False, True])
def test_carrying_out_on_both_databases(backend_settings: Settings, street_wide: bool) -> None:
    db, now = Database(backend_settings), datetime.now(UTC)
    try:
        with db.session() as s:
            world = publicised_item(s, now, community_id=None if street_wide else 1)
            item = s.get(AgendaItem, world.item_id)
            assert item is not None
            with pytest.raises(AgendaError) as refused:
                assign(s, item, now, owner="物" * 65, answerable="王芳", due_at=now + timedelta(1))
            assert refused.value.reason == "party_long"
            assign(s, item, now, owner="物" * 64, answerable="王芳", due_at=now + timedelta(1))
            assert report_progress(s, item, "进场", now, person_id=world.people["o_wang"]) == 3
            assert complete(s, item, "完成", now, review_days=30) == 4
        with db.session() as s:
            item = s.get(AgendaItem, world.item_id)
            assert item is not None
            assert not rate(s, item, world.people["o_prop"], 3, now)
        with db.session() as s:
            item = s.get(AgendaItem, world.item_id)
            assert item is not None
            assert rate(s, item, world.people["o_prop"], 1, now)  # replaced
            ask_review(s, item, now)
            answer_review(s, item, world.people["o_prop"], True, "", now)
            rows = s.scalar(select(func.count(AgendaRating.id)))
            data = agenda_json(s, item, SHANGHAI)
        assert rows == 1
        assert data["ratings"] == {"1": 1, "2": 0, "3": 0}
        assert data["review"] == {"held": 1, "not_held": 0}
        assert data["owner"] == "物" * 64 and data["owner_staff"] == "王芳"
        assert [p["text"] for p in data["progress"]] == ["进场"]
    finally:
        db.dispose()


def test_a_rating_that_races_another_for_the_same_person_keeps_one_row(
    backend_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two answers of one person at once (two messages, two processes): the second finds the
    first's row on the unique (agenda_id, person_id) and replaces its rating, on SQLite and on
    PostgreSQL (where a failed INSERT would abort the whole transaction without a savepoint)."""
    import models.agenda_ratings as ratings

    db, now = Database(backend_settings), datetime.now(UTC)
    try:
        with db.session() as s:
            world = publicised_item(s, now)
            item = s.get(AgendaItem, world.item_id)
            assert item is not None
            assign(s, item, now, owner="王芳", due_at=now + timedelta(days=1))
            complete(s, item, "完成", now, review_days=30)
            rate(s, item, world.people["o_prop"], 3, now)
        with db.session() as s:
            item = s.get(AgendaItem, world.item_id)
            assert item is not None
            real = s.scalar
            calls = {"n": 0}

            def unseen_once(query: Any, *args: Any, **kw: Any) -> Any:
                # The first look misses the row, as one made by a concurrent transaction.
                calls["n"] += 1
                return None if calls["n"] == 1 else real(query, *args, **kw)

            monkeypatch.setattr(s, "scalar", unseen_once)
            ratings._row(s, item, world.people["o_prop"]).rating = 1
            monkeypatch.undo()
            assert calls["n"] == 1  # found after the INSERT failed, not by looking again
        with db.session(read_only=True) as s:
            rows = s.execute(select(AgendaRating.person_id, AgendaRating.rating)).all()
        assert [tuple(r) for r in rows] == [(world.people["o_prop"], 1)]
    finally:
        db.dispose()

"""`yishiting poll create|list|show|close|decide` as an admin uses them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import touch_person
from models.polls import cast_ballot, poll_by_number

LATER = "2099-06-01T20:00"  # naive: Asia/Shanghai, the default [app] timezone


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["poll", args[0], "--config", str(config), *args[1:]])


def create(config: Path, *extra: str, title: str = "16号楼前道路重铺") -> Result:
    return run(
        config,
        "create",
        "--title",
        title,
        "--option",
        "沥青",
        "--option",
        "水泥",
        "--option",
        "透水砖",
        *extra,
    )


def show_json(config: Path, number: int) -> dict[str, Any]:
    result = run(config, "show", str(number), "--json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def vote(settings: Settings, number: int, choices: dict[str, str]) -> None:
    """Each openid (created if new) votes its choice in poll #number, now."""
    db = Database(settings)
    now = datetime.now(UTC)
    try:
        with db.transaction() as conn:
            ids = {openid: touch_person(conn, openid, now, wrote=True).id for openid in choices}
        with db.session() as session:
            poll = poll_by_number(session, number)
            assert poll is not None
            for openid, choice in choices.items():
                cast_ballot(session, poll, ids[openid], choice, now)
    finally:
        db.dispose()


def test_create_prints_the_number_and_title_first(config_path: Path) -> None:
    first = create(config_path, "--closes-at", LATER)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.splitlines()[0] == "#1 16号楼前道路重铺"
    assert "closes 2099-06-01 20:00" in first.stderr
    second = create(config_path, "--closes-at", LATER, title="垃圾分类点位置")
    assert second.exit_code == 0, second.stderr
    assert second.stdout.splitlines()[0] == "#2 垃圾分类点位置"


def test_naive_times_are_local_and_offsets_are_kept(config_path: Path) -> None:
    assert create(config_path, "--closes-at", "2099-06-01T20:00").exit_code == 0
    assert create(config_path, "--closes-at", "2099-06-01T20:00+09:00").exit_code == 0
    assert create(config_path, "--closes-at", "2099-06-01T12:00Z").exit_code == 0
    later = create(config_path, "--opens-at", "2099-05-01 08:00", "--closes-at", "2099-06-01 20:00")
    assert later.exit_code == 0, later.stderr
    assert show_json(config_path, 1)["closes_at"] == "2099-06-01T12:00:00+00:00"
    assert show_json(config_path, 2)["closes_at"] == "2099-06-01T11:00:00+00:00"
    assert show_json(config_path, 3)["closes_at"] == "2099-06-01T12:00:00+00:00"
    draft = show_json(config_path, 4)
    assert draft["opens_at"] == "2099-05-01T00:00:00+00:00"
    assert draft["status"] == "draft"
    assert "opens 2099-05-01 08:00" in later.stderr


def test_a_bad_time_is_a_usage_error_naming_the_option(config_path: Path) -> None:
    result = create(config_path, "--closes-at", "next friday")
    assert result.exit_code == 2
    assert "--closes-at" in result.stderr
    assert result.stdout == ""
    result = create(config_path, "--opens-at", "2099-13-01", "--closes-at", LATER)
    assert result.exit_code == 2
    assert "--opens-at" in result.stderr


def test_refusals_name_the_reason_and_leave_no_poll(config_path: Path) -> None:
    past = create(config_path, "--closes-at", "2020-01-01 08:00")
    assert past.exit_code == 1
    assert "(closes_at)" in past.stderr  # the rule refusing it, whichever message it gives
    one = run(
        config_path, "create", "--title", "单选", "--option", "只有一个", "--closes-at", LATER
    )
    assert one.exit_code == 1
    assert "options" in one.stderr
    grid = create(config_path, "--scope", "grid:没有这个网格", "--closes-at", LATER)
    assert grid.exit_code == 1
    assert "unknown grid" in grid.stderr
    scope = create(config_path, "--scope", "street:1", "--closes-at", LATER)
    assert scope.exit_code == 2
    assert "--scope" in scope.stderr
    # Nothing was created, and the numbering was not used up.
    assert run(config_path, "list").stdout == ""
    assert create(config_path, "--closes-at", LATER).stdout.startswith("#1 ")


def test_show_json_before_and_after_ballots(config_path: Path, settings: Settings) -> None:
    result = create(config_path, "--anyone", "--hide-results", "--closes-at", LATER)
    assert result.exit_code == 0, result.stderr
    before = show_json(config_path, 1)
    assert before["number"] == 1
    assert before["status"] == "open"
    assert before["title"] == "16号楼前道路重铺"
    assert before["options"] == {"A": "沥青", "B": "水泥", "C": "透水砖"}
    assert before["counts"] == {"A": 0, "B": 0, "C": 0}
    assert before["ballots"] == 0
    assert before["eligible"] == 0
    assert before["turnout"] is None
    assert before["quorum"] == 0.0
    assert before["quorum_met"] is False
    assert before["leaders"] == []
    assert before["tie"] is False
    assert before["passed"] is False
    assert before["decision"] is None
    assert before["eligibility"] == "followers"
    assert datetime.fromisoformat(before["opens_at"]) <= datetime.now(UTC)

    vote(settings, 1, {"o_wang": "A", "o_li": "A", "o_zhao": "B", "o_sun": "C"})
    after = show_json(config_path, 1)
    assert after["counts"] == {"A": 2, "B": 1, "C": 1}
    assert after["ballots"] == 4
    assert after["eligible"] == 4  # everyone following
    assert after["turnout"] == 1.0
    assert after["quorum_met"] is True
    assert after["leaders"] == ["A"]
    assert after["tie"] is False
    assert after["passed"] is True  # 2 of 4 reaches the 0.5 threshold

    # The text view shows the counts to the admin even while they are hidden.
    text = run(config_path, "show", "1")
    assert text.exit_code == 0, text.stderr
    assert "A. 沥青  2" in text.stdout
    assert "turnout 4/4" in text.stdout
    assert "leader: A" in text.stdout
    assert "hidden" in text.stdout


def test_a_tie_is_reported_as_a_tie(config_path: Path, settings: Settings) -> None:
    assert create(config_path, "--anyone", "--closes-at", LATER).exit_code == 0
    vote(settings, 1, {"o_a": "A", "o_b": "B"})
    data = show_json(config_path, 1)
    assert data["leaders"] == ["A", "B"]
    assert data["tie"] is True
    assert data["passed"] is False
    assert "tie: A, B" in run(config_path, "show", "1").stdout


def test_close_then_decide(config_path: Path, settings: Settings) -> None:
    assert create(config_path, "--anyone", "--closes-at", LATER).exit_code == 0
    vote(settings, 1, {"o_wang": "B"})

    early = run(config_path, "decide", "1", "采用水泥路面")
    assert early.exit_code == 1
    assert "close the poll" in early.stderr
    assert show_json(config_path, 1)["status"] == "open"

    closed = run(config_path, "close", "1")
    assert closed.exit_code == 0, closed.stderr
    assert closed.stdout.startswith("#1 closed: 1/1 ballots, leader B")
    assert show_json(config_path, 1)["status"] == "closed"

    again = run(config_path, "close", "1")
    assert again.exit_code == 0
    assert "already closed" in again.stdout

    decided = run(config_path, "decide", "1", "  采用水泥路面 ")
    assert decided.exit_code == 0, decided.stderr
    assert decided.stdout.strip() == "#1 decided: 采用水泥路面"
    data = show_json(config_path, 1)
    assert data["status"] == "decided"
    assert data["decision"] == "采用水泥路面"
    assert data["decided_at"] is not None
    assert "decision: 采用水泥路面" in run(config_path, "show", "1").stdout

    empty = run(config_path, "decide", "1", "  ")
    assert empty.exit_code == 1
    assert "empty" in empty.stderr


def test_unknown_numbers_are_errors(config_path: Path) -> None:
    for command in (["show", "7"], ["close", "7"], ["decide", "7", "决议"]):
        result = run(config_path, *command)
        assert result.exit_code == 1
        assert "no poll #7" in result.stderr


def test_list_shows_number_status_local_close_and_title(config_path: Path) -> None:
    assert create(config_path, "--closes-at", "2099-06-01T20:00").exit_code == 0
    assert create(config_path, "--closes-at", "2099-07-01T12:00Z", title="加装电梯").exit_code == 0
    assert run(config_path, "close", "2").exit_code == 0
    listed = run(config_path, "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "#2  closed  closes 2099-07-01 20:00  加装电梯",
        "#1  open  closes 2099-06-01 20:00  16号楼前道路重铺",
    ]
    only_open = run(config_path, "list", "--status", "open")
    assert only_open.stdout.splitlines() == ["#1  open  closes 2099-06-01 20:00  16号楼前道路重铺"]


def test_times_in_show_are_utc_iso(config_path: Path) -> None:
    start = datetime.now(UTC)
    assert create(config_path, "--closes-at", LATER).exit_code == 0
    data = show_json(config_path, 1)
    opens = datetime.fromisoformat(data["opens_at"])
    assert opens.utcoffset() == timedelta(0)
    assert start - timedelta(seconds=5) <= opens <= datetime.now(UTC)


def test_closes_in_counts_from_now_so_an_example_never_goes_stale(config_path: Path) -> None:
    before = datetime.now(UTC)
    made = create(config_path, "--closes-in", "7d")
    assert made.exit_code == 0, made.stderr
    assert made.stdout.startswith("#1 ")
    closes = datetime.fromisoformat(show_json(config_path, 1)["closes_at"])
    assert before + timedelta(days=7) <= closes <= datetime.now(UTC) + timedelta(days=7)
    assert create(config_path, "--closes-in", "1d12h").exit_code == 0
    closes = datetime.fromisoformat(show_json(config_path, 2)["closes_at"])
    assert timedelta(hours=36) <= closes - before < timedelta(hours=36, minutes=1)


def test_closing_needs_exactly_one_of_closes_at_and_closes_in(config_path: Path) -> None:
    neither = create(config_path)
    assert neither.exit_code == 2
    assert "--closes-at" in neither.stderr and "--closes-in" in neither.stderr
    both = create(config_path, "--closes-at", LATER, "--closes-in", "7d")
    assert both.exit_code == 2
    assert "one of them" in both.stderr
    for bad in ("7", "7x", "0d", "-1d", "d"):
        wrong = create(config_path, "--closes-in", bad)
        assert wrong.exit_code == 2, bad
        assert "--closes-in" in wrong.stderr and "duration" in wrong.stderr
    assert run(config_path, "list").stdout == ""

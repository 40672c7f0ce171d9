"""`yishiting rules …`, `classify` and `tickets …` as an admin uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat, count_rows, make_app
from flask import Flask
from sqlalchemy import select

from bot.classify import RuleBook, load_rules_file
from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import KeywordRule, RuleAudit, Topic

SMALL = """
[[topic]]
name = "电梯设施"
sla_hours = 24
sort_order = 4
rules = [
  { keyword = "电梯", weight = 3 },
  { keyword = "电梯广告", kind = "exclude" },
]
"""


def run(*args: str, input: str | None = None) -> object:
    return CliRunner().invoke(main, list(args), input=input)


@pytest.fixture
def seeded(config_path: Path, settings: Settings) -> Path:
    """The database as `yishiting init` leaves it (the test config's database already is)."""
    return config_path


def test_init_seeds_twelve_topics_with_dozens_of_rules_once(
    seeded: Path, settings: Settings
) -> None:
    assert count_rows(settings, Topic) == 12
    assert count_rows(settings, KeywordRule) >= 12 * 24
    again = CliRunner().invoke(main, ["init", "--config", str(seeded)])
    assert "seeded" not in again.stdout
    assert count_rows(settings, Topic) == 12


def test_export_then_import_changes_nothing(
    seeded: Path, tmp_path: Path, settings: Settings
) -> None:
    out = tmp_path / "rules.toml"
    runner = CliRunner()
    assert (
        runner.invoke(main, ["rules", "export", "--config", str(seeded), str(out)]).exit_code == 0
    )
    assert len(load_rules_file(out)) == 12
    audits = count_rows(settings, RuleAudit)
    result = runner.invoke(main, ["rules", "import", "--config", str(seeded), str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no changes" in result.stderr
    assert count_rows(settings, RuleAudit) == audits


def test_dry_run_prints_the_diff_and_changes_nothing(
    seeded: Path, tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    rules_before = count_rows(settings, KeywordRule)
    result = CliRunner().invoke(
        main, ["rules", "import", "--config", str(seeded), "--dry-run", str(path)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    # The file gives no description: the topic keeps its own (its SLA is the same 24 h).
    assert not any(line.startswith("~ 电梯设施 (") for line in lines), lines
    assert any(line.startswith("- 电梯设施 / ") for line in lines)  # starter rules dropped
    assert "would change" in result.stderr
    assert count_rows(settings, KeywordRule) == rules_before


def test_import_applies_audits_and_bumps_the_version(
    seeded: Path, tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["rules", "import", "--config", str(seeded), "--actor", "admin_wang", str(path)]
    )
    assert result.exit_code == 0, result.output
    db = Database(settings)
    with db.session(read_only=True) as s:
        lift = s.scalars(select(Topic).where(Topic.name == "电梯设施")).one()
        assert sorted(r.keyword for r in lift.rules) == ["电梯", "电梯广告"]
        assert lift.sla_hours == 24
        dropped = s.scalars(
            select(RuleAudit).where(RuleAudit.action == "delete", RuleAudit.actor == "admin_wang")
        ).all()
        assert dropped and all(a.before and not a.after for a in dropped)
        assert count_rows(settings, Topic) == 12  # topics not in the file are left alone
    db.dispose()


def test_an_invalid_file_is_refused_whole(seeded: Path, tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        SMALL.replace("weight = 3", 'weight = 3 }, { keyword = "", weight = 1'), encoding="utf-8"
    )
    before = count_rows(settings, KeywordRule)
    result = CliRunner().invoke(main, ["rules", "import", "--config", str(seeded), str(path)])
    assert result.exit_code == 1
    assert "a rule without a keyword" in result.stderr and "nothing imported" in result.stderr
    assert count_rows(settings, KeywordRule) == before


def test_a_rule_change_reaches_a_running_process_within_seconds(
    settings: Settings, tmp_path: Path, config_path: Path
) -> None:
    app = make_app(settings)
    now = [0.0]
    book = RuleBook(
        app.extensions["yishiting"].db,
        threshold=2,
        margin=1,
        reload_seconds=2,
        clock=lambda: now[0],
    )
    assert book.current().classify("电梯广告贴满了").topic != "电梯设施"  # the seeded veto
    path = tmp_path / "small.toml"
    path.write_text(
        SMALL.replace('  { keyword = "电梯广告", kind = "exclude" },\n', ""), encoding="utf-8"
    )
    assert (
        CliRunner()
        .invoke(main, ["rules", "import", "--config", str(config_path), str(path)])
        .exit_code
        == 0
    )
    assert book.current().classify("电梯广告贴满了").topic != "电梯设施"  # cached for 2 s
    now[0] = 2.5
    assert book.current().classify("电梯广告贴满了").topic == "电梯设施"


def test_classify_reads_jsonl_and_echoes_ids(tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(SMALL, encoding="utf-8")
    lines = [
        {"id": 7, "text": "电梯坏了"},
        {"id": "a-1", "text": "你好"},
        {"id": None, "text": "电梯广告"},
    ]
    stdin = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
    result = CliRunner().invoke(
        main, ["classify", "--rules", str(rules)], input=stdin, env={"YISHITING_CONFIG": ""}
    )
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out == [
        {"id": 7, "topic": "电梯设施", "score": 3.0, "unsure": False, "by": "rules"},
        {"id": "a-1", "topic": None, "score": 0.0, "unsure": True, "by": None},
        {"id": None, "topic": None, "score": 0.0, "unsure": True, "by": None},
    ]


def test_classify_explains_on_request(tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["classify", "--rules", str(rules), "--explain"],
        input='{"id": 1, "text": "電梯廣告又貼滿了"}\n',
        env={"YISHITING_CONFIG": ""},
    )
    assert result.exit_code == 0, result.stderr
    line = json.loads(result.stdout)
    assert "电梯广告" in line["tokens"]
    assert {(m["keyword"], m["kind"]) for m in line["matches"]} == {
        ("电梯广告", "exclude"),
        ("电梯", "include"),
    }
    assert (line["topic"], line["vetoed"]) == (None, ["电梯设施"])


def test_classify_reports_bad_lines_by_number(tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(SMALL, encoding="utf-8")
    stdin = '{"id": 1, "text": "电梯坏了"}\nnot json\n{"id": 3}\n'
    result = CliRunner().invoke(
        main, ["classify", "--rules", str(rules)], input=stdin, env={"YISHITING_CONFIG": ""}
    )
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    assert "stdin line 2" in result.stderr and "stdin line 3" in result.stderr


def test_classify_in_parallel_keeps_the_order_and_the_line_numbers(tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(SMALL, encoding="utf-8")
    lines = [json.dumps({"id": i, "text": "电梯坏了" if i % 2 else "你好"}) for i in range(2500)]
    lines[1499] = "{broken"
    result = CliRunner().invoke(
        main,
        ["classify", "--rules", str(rules), "--jobs", "2"],
        input="\n".join(lines) + "\n",
        env={"YISHITING_CONFIG": ""},
    )
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [i for i in range(2500) if i != 1499]
    assert all((o["topic"] == "电梯设施") == bool(o["id"] % 2) for o in out)
    assert "stdin line 1500:" in result.stderr


def test_classify_uses_the_database_rules(seeded: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["classify", "--config", str(seeded)],
        input='{"id": 1, "text": "电梯坏了，困在里面了"}\n',
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["topic"] == "电梯设施"


LABELED = [
    ("电梯坏了卡在三楼", "电梯设施"),
    ("电梯又坏了没人修", "电梯设施"),
    ("电梯门夹人", "电梯设施"),
    ("楼上装修电钻太吵", "噪音扰民"),
    ("广场舞音响太吵了", "噪音扰民"),
    ("半夜装修电钻声", "噪音扰民"),
]


def _labeled(tmp_path: Path) -> Path:
    path = tmp_path / "labeled.jsonl"
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": label, "extra": 1}, ensure_ascii=False) + "\n"
            for t, label in LABELED
        ),
        encoding="utf-8",
    )
    return path


def test_suggest_mines_separating_keywords_as_a_rules_file(tmp_path: Path) -> None:
    out = tmp_path / "suggested.toml"
    result = CliRunner().invoke(
        main, ["rules", "suggest", str(_labeled(tmp_path)), "--top", "5", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    specs = {s.name: s for s in load_rules_file(out)}
    assert set(specs) == {"电梯设施", "噪音扰民"}
    assert "电梯" in {r.keyword for r in specs["电梯设施"].rules}
    assert {r.keyword for r in specs["噪音扰民"].rules} >= {"装修", "电钻"}
    assert all(len(s.rules) <= 5 for s in specs.values())


def test_backtest_reports_precision_recall_and_confusions(tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(SMALL, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["rules", "backtest", str(_labeled(tmp_path)), "--rules", str(rules), "--json"],
        env={"YISHITING_CONFIG": ""},
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"] == 6
    assert report["accuracy"] == 0.5  # the lift texts right, the noise texts unmatched
    lift = next(t for t in report["topics"] if t["topic"] == "电梯设施")
    assert (lift["precision"], lift["recall"]) == (1.0, 1.0)
    assert {"label": "噪音扰民", "predicted": "（无匹配）", "count": 3} in report["confusions"]
    text = CliRunner().invoke(
        main,
        ["rules", "backtest", str(_labeled(tmp_path)), "--rules", str(rules)],
        env={"YISHITING_CONFIG": ""},
    )
    assert "accuracy: 50.0%" in text.stdout and "most confused" in text.stdout


def test_retopic_confirms_and_export_yields_labeled_lines(
    app: Flask, chat: Chat, config_path: Path, clock: Clock
) -> None:
    chat.say("16号楼的电梯又坏了，早上卡在5楼半天才出来")
    chat.say("那个事情到底什么时候能有个说法啊")
    runner = CliRunner()
    assert (
        runner.invoke(
            main, ["tickets", "retopic", "--config", str(config_path), "2", "物业服务"]
        ).stdout.strip()
        == "#2 → 物业服务 (confirmed)"
    )
    shown = json.loads(
        runner.invoke(main, ["tickets", "show", "--config", str(config_path), "2", "--json"]).stdout
    )
    assert (shown["number"], shown["topic"], shown["topic_confirmed"]) == (2, "物业服务", True)
    exported = runner.invoke(
        main, ["tickets", "export", "--config", str(config_path), "--confirmed"]
    )
    assert [json.loads(line) for line in exported.stdout.splitlines()] == [
        {"number": 2, "text": "那个事情到底什么时候能有个说法啊", "label": "物业服务"}
    ]
    missing = runner.invoke(
        main, ["tickets", "retopic", "--config", str(config_path), "2", "没有这类"]
    )
    assert missing.exit_code == 1 and "no topic named" in missing.stderr


def test_tickets_show_unknown_number(config_path: Path, app: Flask, wechat: WeChat) -> None:
    result = CliRunner().invoke(main, ["tickets", "show", "--config", str(config_path), "99"])
    assert result.exit_code == 1 and "no ticket #99" in result.stderr

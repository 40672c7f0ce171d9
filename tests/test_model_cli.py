"""`yishiting model train|show`, `classify` and `rules backtest` with the learned model, as an
admin uses them: from a labeled file without a database, and from the database's confirmed
tickets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Clock
from desk import Desk

from bot.classify.model import Model
from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Ticket
from models.learned import ClassifierModel, newest_model

# A labeled set of our own: peacocks (a word no rule knows) under 绿化园林, lifts, noise.
LABELED = [
    ("孔雀在花坛里吃花", "绿化园林"),
    ("孔雀把草坪踩坏了", "绿化园林"),
    ("小区花园里有孔雀", "绿化园林"),
    ("孔雀啄坏了树苗", "绿化园林"),
    ("电梯坏了卡在三楼", "电梯设施"),
    ("电梯又坏了没人修", "电梯设施"),
    ("电梯门夹人", "电梯设施"),
    ("电梯按钮失灵", "电梯设施"),
    ("楼上装修电钻太吵", "噪音扰民"),
    ("广场舞音响太吵了", "噪音扰民"),
    ("半夜装修电钻声", "噪音扰民"),
    ("楼下音响声音太大", "噪音扰民"),
]
PROBE = "那只孔雀又来了"  # no rule matches it; the model has learned the peacock

RULES = """
[[topic]]
name = "电梯设施"
rules = [{ keyword = "电梯", weight = 3 }]

[[topic]]
name = "噪音扰民"
rules = [{ keyword = "太吵", weight = 3 }]

[[topic]]
name = "绿化园林"
rules = [{ keyword = "草坪", weight = 3 }]
"""

NO_CONFIG = {"YISHITING_CONFIG": ""}


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env)


def write_labeled(path: Path, items: list[tuple[str, str]] = LABELED) -> Path:
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": label, "source": "test"}, ensure_ascii=False) + "\n"
            for t, label in items
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    out = tmp_path / "peacock.model"
    result = run(
        "model", "train", str(write_labeled(tmp_path / "l.jsonl")), "-o", str(out), env=NO_CONFIG
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


def test_train_from_a_file_says_what_it_learned_and_writes_the_model(tmp_path: Path) -> None:
    out = tmp_path / "m.model"
    labeled = write_labeled(tmp_path / "l.jsonl")
    result = run("model", "train", str(labeled), "-o", str(out), env=NO_CONFIG)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"learned from 12 labeled texts: {labeled}"
    assert lines[1] == "3 topics: 噪音扰民 4  电梯设施 4  绿化园林 4"
    assert lines[2].endswith(" s") and "features; took" in lines[2]
    assert lines[3] == f"wrote {out}"
    assert Model.load(out).labels == ("噪音扰民", "电梯设施", "绿化园林")


def test_a_bad_labeled_line_stops_training_with_its_number(tmp_path: Path) -> None:
    path = write_labeled(tmp_path / "l.jsonl")
    path.write_text(path.read_text(encoding="utf-8") + '{"text": "没有标签"}\n', encoding="utf-8")
    result = run("model", "train", str(path), "-o", str(tmp_path / "m"), env=NO_CONFIG)
    assert result.exit_code == 1
    assert "line 13" in result.stderr and '"label"' in result.stderr
    assert not (tmp_path / "m").exists()


def test_one_topic_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = write_labeled(tmp_path / "l.jsonl", LABELED[:4])
    result = run("model", "train", str(path), "-o", str(tmp_path / "m"), env=NO_CONFIG)
    assert result.exit_code == 1
    assert "one topic (绿化园林)" in result.stderr and "at least two" in result.stderr


def test_a_labeled_file_needs_an_output(tmp_path: Path) -> None:
    result = run("model", "train", str(write_labeled(tmp_path / "l.jsonl")), env=NO_CONFIG)
    assert result.exit_code == 2 and "-o MODEL" in result.stderr


def test_a_file_in_another_encoding_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write_labeled(tmp_path / "l.jsonl")
    gbk = '{"text": "电梯坏了", "label": "电梯设施"}\n'.encode("gbk")
    path.write_bytes(path.read_bytes() + gbk)
    result = run("model", "train", str(path), "-o", str(tmp_path / "m"), env=NO_CONFIG)
    assert result.exit_code == 1
    assert "line 13: not UTF-8" in result.stderr and "codec" not in result.stderr


def test_a_labeled_file_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    path = write_labeled(tmp_path / "l.jsonl")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Excel and Notepad save UTF-8
    result = run("model", "train", str(path), "-o", str(tmp_path / "m"), env=NO_CONFIG)
    assert result.exit_code == 0, result.output
    assert "learned from 12 labeled texts" in result.stdout


@pytest.mark.parametrize("where", ["folder", "missing/m.model"])
def test_an_output_that_cannot_be_written_is_said_plainly(tmp_path: Path, where: str) -> None:
    (tmp_path / "folder").mkdir()
    labeled = write_labeled(tmp_path / "l.jsonl")
    out = tmp_path / where
    result = run("model", "train", str(labeled), "-o", str(out), env=NO_CONFIG)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot write {out}: ")
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_show_a_model_file(model_file: Path) -> None:
    result = run("model", "show", str(model_file), env=NO_CONFIG)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{model_file}: trained 20") and lines[0].endswith(" UTC by cli")
    assert lines[1] == "learned from 12 labeled texts: l.jsonl"
    assert lines[2] == "3 topics: 噪音扰民 4  电梯设施 4  绿化园林 4"
    facts = json.loads(run("model", "show", str(model_file), "--json", env=NO_CONFIG).stdout)
    assert (facts["examples"], facts["by"]) == (12, "cli")


def test_something_else_is_not_a_model(tmp_path: Path) -> None:
    path = write_labeled(tmp_path / "l.jsonl")
    result = run("model", "show", str(path), env=NO_CONFIG)
    assert result.exit_code == 1
    assert "not a classifier model" in result.stderr and "pickle" not in result.stderr


def test_a_model_given_as_the_rules_is_named_as_a_model(model_file: Path) -> None:
    result = run("classify", "--rules", str(model_file), input="电梯坏了\n", env=NO_CONFIG)
    assert result.exit_code == 1
    assert "a classifier model" in result.stderr and "not a rules file" in result.stderr
    assert "codec" not in result.stderr


def test_a_model_of_other_topics_is_warned_about(tmp_path: Path, rules_file: Path) -> None:
    """A model trained on labels these rules do not have (another taxonomy, codes) would
    never decide: said once on stderr, the lines still classified by the rules."""
    other = write_labeled(tmp_path / "o.jsonl", [("电梯坏了", "A01"), ("太吵了", "B02")])
    out = tmp_path / "other.model"
    assert run("model", "train", str(other), "-o", str(out), env=NO_CONFIG).exit_code == 0
    args = ["classify", "--rules", str(rules_file), "--model", str(out)]
    result = run(*args, input='{"text": "电梯坏了"}\n', env=NO_CONFIG)
    assert result.exit_code == 0
    assert (
        result.stderr
        == f"warning: {out} learned none of these rules' topics (A01、B02): it will never decide\n"
    )
    assert json.loads(result.stdout)["by"] == "rules"


def test_classify_falls_back_on_the_model_and_says_who_decided(
    rules_file: Path, model_file: Path
) -> None:
    lines = [
        {"id": 1, "text": "电梯坏了"},
        {"id": 2, "text": PROBE},
        {"id": 3, "text": "你好"},
    ]
    result = run(
        "classify",
        "--rules",
        str(rules_file),
        "--model",
        str(model_file),
        input="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
        env=NO_CONFIG,
    )
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["topic"], o["unsure"], o["by"]) for o in out[:2]] == [
        (1, "电梯设施", False, "rules"),
        (2, "绿化园林", False, "model"),
    ]
    assert (out[2]["unsure"], out[2]["by"]) == (True, None)  # nobody knows "你好"
    without = run("classify", "--rules", str(rules_file), input=json.dumps(lines[1]) + "\n")
    assert json.loads(without.stdout)["by"] is None


def test_classify_explains_the_model_ranking_and_its_terms(
    rules_file: Path, model_file: Path
) -> None:
    result = run(
        "classify",
        "--rules",
        str(rules_file),
        "--model",
        str(model_file),
        "--explain",
        input=json.dumps({"id": 1, "text": PROBE}, ensure_ascii=False) + "\n",
        env=NO_CONFIG,
    )
    assert result.exit_code == 0, result.stderr
    line = json.loads(result.stdout)
    assert (line["by"], line["matches"]) == ("model", [])
    assert [topic for topic, _ in line["model"]][0] == "绿化园林"
    assert sum(p for _, p in line["model"]) == pytest.approx(1.0, abs=1e-3)
    assert "孔雀" in [term for term, _ in line["model_terms"]]
    sure = run(
        "classify",
        "--rules",
        str(rules_file),
        "--model",
        str(model_file),
        "--explain",
        input='{"id": 2, "text": "电梯坏了"}\n',
        env=NO_CONFIG,
    )
    line = json.loads(sure.stdout)
    assert (line["topic"], line["by"]) == ("电梯设施", "rules")


def test_classify_in_parallel_with_the_model(rules_file: Path, model_file: Path) -> None:
    lines = [json.dumps({"id": i, "text": PROBE if i % 2 else "电梯坏了"}) for i in range(2500)]
    result = run(
        "classify",
        "--rules",
        str(rules_file),
        "--model",
        str(model_file),
        "--jobs",
        "2",
        input="\n".join(lines) + "\n",
        env=NO_CONFIG,
    )
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == list(range(2500))
    assert all(o["by"] == ("model" if o["id"] % 2 else "rules") for o in out)


def test_backtest_puts_rules_model_and_both_side_by_side(
    tmp_path: Path, rules_file: Path, model_file: Path
) -> None:
    held = write_labeled(
        tmp_path / "held.jsonl",
        [(PROBE, "绿化园林"), ("电梯坏了", "电梯设施"), ("草坪被孔雀踩了", "绿化园林")],
    )
    args = ["rules", "backtest", str(held), "--rules", str(rules_file), "--model", str(model_file)]
    text = run(*args, env=NO_CONFIG)
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0] == "texts: 3"
    assert lines[1].split() == [
        *("filed", "right", "unsure", "when", "sure", "best", "topic", "macro-F1")
    ]
    rules_only, model_only, combined = (line.split() for line in lines[2:5])
    assert rules_only[:4] == ["rules", "only", "66.7%", "33.3%"]  # the peacock: no rule
    assert model_only[:2] == ["model", "only"]
    assert combined[:3] == ["combined", "100.0%", "0.0%"]
    # A text the rules are unsure about counts as wrong even when their likeliest topic is
    # its label: the resident was asked.
    tied = write_labeled(
        tmp_path / "tied.jsonl", [("电梯太吵", "电梯设施"), ("电梯坏了", "电梯设施")]
    )
    lines = run(
        "rules",
        "backtest",
        str(tied),
        "--rules",
        str(rules_file),
        "--model",
        str(model_file),
        env=NO_CONFIG,
    ).stdout.splitlines()
    assert lines[2].split()[:4] == ["rules", "only", "50.0%", "50.0%"]
    report = json.loads(run(*args, "--json", env=NO_CONFIG).stdout)
    assert (report["accuracy"], report["unsure_share"]) == (1.0, 0.0)  # combined
    assert report["filed_right"] == 1.0  # right, and nothing was asked
    assert report["rules_only"]["filed_right"] == pytest.approx(0.6667, abs=1e-3)
    assert report["rules_only"]["unsure_share"] == pytest.approx(0.3333, abs=1e-3)
    assert report["model_only"]["total"] == 3
    plain = json.loads(
        run("rules", "backtest", str(held), "--rules", str(rules_file), "--json").stdout
    )
    assert "rules_only" not in plain and plain["accuracy"] == pytest.approx(0.6667, abs=1e-3)


# -- from the database ---------------------------------------------------------------------


@pytest.fixture
def desk(settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """The conversation service; training learns from the test's own tickets alone (the
    starter set's thousands of texts would outweigh them, and take seconds each time)."""
    leave_out_the_starter_set(monkeypatch)
    found = Desk(settings, clock)
    yield found
    found.close()


def leave_out_the_starter_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.classify.model.STARTER", Path("/nonexistent/starter.jsonl"))


def file_reports(desk: Desk, texts: list[str]) -> None:
    """Residents report, one each (ticket #1, #2, … in this order)."""
    for i, text in enumerate(texts):
        desk.chat(f"o_resident_{i}").say(text)


def confirm(config: Path, number: int, topic: str) -> None:
    result = run("tickets", "retopic", "--config", str(config), str(number), topic)
    assert result.exit_code == 0, result.output


def tickets_of(settings: Settings) -> list[tuple[int, str, bool]]:
    db = Database(settings)
    with db.session(read_only=True) as s:
        found = [
            (t.number, t.text, t.topic_confirmed) for t in s.query(Ticket).order_by(Ticket.number)
        ]
    db.dispose()
    return found


def stored(settings: Settings) -> tuple[ClassifierModel | None, Model | None]:
    db = Database(settings)
    with db.session(read_only=True) as s:
        row = newest_model(s)
        if row is not None:
            s.expunge(row)
    db.dispose()
    return row, Model.from_bytes(row.data) if row is not None else None


REPORTS = [
    "3号楼电梯坏了，困在里面半小时",  # 1: confirmed 电梯设施
    "楼上装修电钻声吵得睡不着",  # 2: confirmed 噪音扰民
    "小区的孔雀把花坛的花都吃光了",  # 3: confirmed 绿化园林
    "鸵鸟跑进了电梯间",  # 4: never confirmed: not learned from
]


def test_train_learns_from_confirmed_tickets_only_and_shows_it(
    desk: Desk, settings: Settings, config_path: Path
) -> None:
    file_reports(desk, REPORTS)
    assert [number for number, _, _ in tickets_of(settings)] == [1, 2, 3, 4]
    for number, topic in ((1, "电梯设施"), (2, "噪音扰民"), (3, "绿化园林")):
        confirm(config_path, number, topic)
    before = run("model", "show", "--config", str(config_path), "--json")
    assert json.loads(before.stdout)["confirmed_since"] == 3
    result = run("model", "train", "--config", str(config_path), "--by", "admin_wang")
    assert result.exit_code == 0, result.output
    row, model = stored(settings)
    assert row is not None and model is not None
    assert (row.created_by, row.confirmed, row.last_ticket_id) == ("admin_wang", 3, 3)
    assert "鸵鸟" not in model.vocabulary and "w:鸵鸟" not in model.vocabulary
    assert "w:孔雀" in model.vocabulary
    assert ", 3 confirmed ticket(s)" in result.stdout.splitlines()[0]
    assert (
        result.stdout.splitlines()[-1]
        == f"saved as model #{row.id}: every process uses it within 2 s"
    )
    shown = run("model", "show", "--config", str(config_path)).stdout.splitlines()
    assert shown[0].startswith(f"model #{row.id} (in use): trained 20")
    assert shown[0].endswith(" by admin_wang")
    assert ", 3 confirmed ticket(s)" in shown[1]
    assert shown[2] == "confirmed since: 0 (the nightly retrain runs from 20)"
    confirm(config_path, 4, "电梯设施")
    facts = json.loads(run("model", "show", "--config", str(config_path), "--json").stdout)
    assert (facts["model"], facts["confirmed"], facts["confirmed_since"]) == (row.id, 3, 1)


def test_a_single_confirmed_topic_without_a_starter_set_is_refused(
    desk: Desk, settings: Settings, config_path: Path
) -> None:
    file_reports(desk, REPORTS[:1])
    confirm(config_path, 1, "电梯设施")
    before, _ = stored(settings)
    result = run("model", "train", "--config", str(config_path))
    assert result.exit_code == 1
    assert "cannot train" in result.stderr and "one topic (电梯设施)" in result.stderr
    assert "nothing saved" in result.stderr
    after, _ = stored(settings)
    assert (after.id if after else None) == (before.id if before else None)


def test_classify_with_the_database_uses_its_model(
    desk: Desk, settings: Settings, config_path: Path
) -> None:
    probe = json.dumps({"id": 1, "text": PROBE}, ensure_ascii=False) + "\n"
    file_reports(desk, REPORTS[:3])
    for number, topic in ((1, "电梯设施"), (2, "噪音扰民"), (3, "绿化园林")):
        confirm(config_path, number, topic)
    assert run("model", "train", "--config", str(config_path)).exit_code == 0
    result = run("classify", "--config", str(config_path), input=probe)
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["by"] == "model" and verdict["topic"] == "绿化园林"
    report = run(
        "rules",
        "backtest",
        "--config",
        str(config_path),
        str(write_labeled(config_path.parent / "held.jsonl", [(PROBE, "绿化园林")])),
        "--json",
    )
    assert json.loads(report.stdout)["rules_only"]["accuracy"] == 0.0


def test_the_model_row_is_saved_and_read_on_both_databases(backend_settings: Settings) -> None:
    from bot.classify.evaluate import Labeled
    from bot.classify.training import save_trained, train_items

    trained = train_items([Labeled(t, label) for t, label in LABELED], [], by="test")
    db = Database(backend_settings)
    with db.session() as session:
        row_id = save_trained(session, trained, now=datetime.now(UTC)).id
    with db.session(read_only=True) as session:
        row = newest_model(session)
        assert row is not None and row.id == row_id
        loaded = Model.from_bytes(bytes(row.data))
    db.dispose()
    assert loaded.rank(PROBE) == trained.model.rank(PROBE)
    assert loaded.terms == trained.model.terms


def test_tickets_teach_their_topic_under_its_current_name_even_switched_off(
    desk: Desk, settings: Settings, config_path: Path
) -> None:
    from models import Topic, topic_by_name

    file_reports(desk, REPORTS[:3])
    for number, topic in ((1, "电梯设施"), (2, "噪音扰民"), (3, "绿化园林")):
        confirm(config_path, number, topic)
    db = Database(settings)
    with db.session() as s:  # renamed by hand in the database; another switched off
        lift = topic_by_name(s, "电梯设施")
        noise = topic_by_name(s, "噪音扰民")
        assert isinstance(lift, Topic) and isinstance(noise, Topic)
        lift.name = "电梯维修"
        noise.enabled = False
    db.dispose()
    assert run("model", "train", "--config", str(config_path)).exit_code == 0
    _, model = stored(settings)
    assert model is not None
    assert set(model.labels) == {"电梯维修", "噪音扰民", "绿化园林"}


def test_a_text_retention_replaced_is_not_learned(
    desk: Desk, settings: Settings, config_path: Path
) -> None:
    from models.privacy import EXPIRED_TEXT

    file_reports(desk, REPORTS[:3])
    for number, topic in ((1, "电梯设施"), (2, "噪音扰民"), (3, "绿化园林")):
        confirm(config_path, number, topic)
    db = Database(settings)
    with db.session() as s:  # as [privacy] retain_days leaves an old closed ticket
        s.query(Ticket).filter(Ticket.number == 3).one().text = EXPIRED_TEXT
    db.dispose()
    result = run("model", "train", "--config", str(config_path))
    assert result.exit_code == 0, result.output
    row, model = stored(settings)
    assert row is not None and model is not None
    assert row.confirmed == 2 and set(model.labels) == {"电梯设施", "噪音扰民"}

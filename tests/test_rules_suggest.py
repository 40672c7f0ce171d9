"""`yishiting rules suggest` as an admin uses it: keywords worth adopting, never fillers,
numbers or codes, and `--effect`, what each would change on the labeled texts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from bot.classify import load_rules_file
from bot.cli import main

NO_CONFIG = {"YISHITING_CONFIG": ""}

# Residents write like this: the same fillers, numbers and anonymised codes run through every
# message of one export. Before, 电梯设施's list read i6, 早上, 师傅, 很多, and only then 电梯 (each
# of those is in every one of its texts and in none of the others').
CITIZENS = [
    ("师傅您看一下，我们i6楼3号的电梯很多天了早上都坏", "电梯设施"),
    ("师傅帮忙看一下，我们i6楼3号电梯门很多次夹人，早上又夹了", "电梯设施"),
    ("我们i6楼3号又困人了，很多人下不去，师傅快来看一下，早上的事", "电梯设施"),
    ("某某楼xx单元***的电梯按钮坏了，我们i6楼3号很多人一下等了半小时，早上", "电梯设施"),
    ("楼上装修电钻声音太吵，噪音受不了", "噪音扰民"),
    ("广场舞音响噪音太大了", "噪音扰民"),
    ("半夜装修电钻噪音", "噪音扰民"),
    ("卫生间漏水，楼下天花板也漏水了", "水电气暖"),
    ("水管漏水了，地上全是水", "水电气暖"),
    ("停水了没通知", "水电气暖"),
    ("外来车辆乱停车，停车位都占满了", "停车交通"),
    ("停车收费太贵，停车位不够", "停车交通"),
    ("消防通道被停车堵住了", "停车交通"),
]
NEVER = {"一下", "很多", "我们", "i6", "3号", "3", "早上", "师傅", "某某", "xx", "***", "一", "三"}


def write_labeled(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "label": lb}, ensure_ascii=False) + "\n" for t, lb in rows),
        encoding="utf-8",
    )
    return path


def suggested(tmp_path: Path, rows: list[tuple[str, str]], *args: str) -> dict[str, list[str]]:
    out = tmp_path / "suggested.toml"
    labeled = write_labeled(tmp_path / "labeled.jsonl", rows)
    result = CliRunner().invoke(main, ["rules", "suggest", str(labeled), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return {s.name: [r.keyword for r in s.rules] for s in load_rules_file(out)}


def test_fillers_numbers_and_codes_are_never_suggested_topic_words_are(tmp_path: Path) -> None:
    mined = suggested(tmp_path, CITIZENS)
    everything = {k for keywords in mined.values() for k in keywords}
    assert not everything & NEVER, everything & NEVER
    assert mined["电梯设施"][0] == "电梯"
    assert "噪音" in mined["噪音扰民"] and "电钻" in mined["噪音扰民"]
    assert "漏水" in mined["水电气暖"]
    assert "停车" in mined["停车交通"]


def test_numbers_in_any_form_and_placeholders_are_never_suggested(tmp_path: Path) -> None:
    rows = [
        (f"{filler}电梯坏了", "电梯设施")
        for filler in (
            "十二楼 501 张三 老王 a3b 今天 天天 三栋",
            "十二楼 501 张三 老王 a3b 今天 天天 三栋",
        )
    ] + [("楼上噪音太吵", "噪音扰民"), ("噪音扰民睡不着", "噪音扰民")]
    mined = suggested(tmp_path, rows)
    assert mined["电梯设施"] == ["电梯"]  # the only word in them that names a topic
    assert mined["噪音扰民"] == ["噪音"]


def test_a_word_spread_over_most_labels_is_not_suggested(tmp_path: Path) -> None:
    # 楼下 is in both 电梯 texts and one text of each other label: a little more common in
    # 电梯设施, so it was suggested there before, but it says nothing about any topic.
    rows = [("楼下电梯坏了", "电梯设施"), ("电梯又坏了楼下", "电梯设施")]
    for label, words in [
        ("噪音扰民", "噪音"),
        ("水电气暖", "漏水"),
        ("停车交通", "停车"),
        ("环境卫生", "垃圾"),
    ]:
        rows += [(f"楼下{words}", label), (f"{words}好几天", label)]
    mined = suggested(tmp_path, rows)
    assert mined["电梯设施"] == ["电梯"]
    assert all("楼下" not in keywords for keywords in mined.values())
    assert mined["水电气暖"] == ["漏水"] and mined["停车交通"] == ["停车"]


# --- --effect ------------------------------------------------------------------------------

CURRENT = """
[[topic]]
name = "噪音扰民"
rules = [{ keyword = "噪音", weight = 3 }]

[[topic]]
name = "邻里纠纷"
rules = [{ keyword = "邻居", weight = 2 }]
"""
# 装修 is in three 噪音扰民 texts and one 邻里纠纷 text: suggested with weight 2 (75 %).
# Added to CURRENT it files the first two (nothing matched them: +2), leaves the third (噪音
# already decides it), and makes the fourth a tie with 邻居, so it is asked instead (-1).
SMALL = [
    ("装修声音太大", "噪音扰民"),
    ("周末装修吵死了", "噪音扰民"),
    ("装修噪音", "噪音扰民"),
    ("邻居装修占了走廊", "邻里纠纷"),
    ("邻居占用走廊", "邻里纠纷"),
    ("跟邻居吵架了", "邻里纠纷"),
]


def effect(tmp_path: Path, *args: str) -> Result:
    labeled = write_labeled(tmp_path / "small.jsonl", SMALL)
    return CliRunner().invoke(
        main, ["rules", "suggest", str(labeled), "--effect", *args], env=NO_CONFIG
    )


def test_effect_counts_what_a_keyword_fixes_and_breaks(tmp_path: Path) -> None:
    rules = tmp_path / "current.toml"
    rules.write_text(CURRENT, encoding="utf-8")
    result = effect(tmp_path, "--rules", str(rules), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["against"], report["texts"], report["right_before"]) == (str(rules), 6, 4)
    row = next(k for k in report["keywords"] if k["keyword"] == "装修")
    assert row == {
        "topic": "噪音扰民",
        "keyword": "装修",
        "weight": 2.0,
        "matches": 4,
        "with_label": 3,
        "precision": 0.75,
        "fixed": 2,
        "broken": 1,
        "net": 1,
        "in_rules": False,
    }
    already = next(k for k in report["keywords"] if k["keyword"] == "邻居")
    assert already["in_rules"] and already["net"] == 0

    table = effect(tmp_path, "--rules", str(rules))
    assert table.exit_code == 0, table.output
    line = next(x for x in table.stdout.splitlines() if "装修" in x)
    assert line.split() == ["噪音扰民", "装修", "2", "4", "75%", "+2", "-1", "+1"]
    assert "filed right without asking: 4 (66.7%)" in table.stdout
    assert "in rules" in next(x for x in table.stdout.splitlines() if " 邻居 " in x)


def test_effect_against_no_rules_and_the_rules_file_still_written(tmp_path: Path) -> None:
    out = tmp_path / "mined.toml"
    result = effect(tmp_path, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "against: no rules" in result.stdout
    assert "filed right without asking: 0 (0.0%)" in result.stdout
    assert {s.name for s in load_rules_file(out)} == {"噪音扰民", "邻里纠纷"}
    # Alone against no rules, 装修 (weight 2) files the three noise texts and misfiles one.
    line = next(x for x in result.stdout.splitlines() if "装修" in x)
    assert line.split()[-3:] == ["+3", "-0", "+3"]


def test_effect_against_the_database_rules(config_path: Path, tmp_path: Path) -> None:
    labeled = write_labeled(
        tmp_path / "lift.jsonl",
        [("电梯坏了", "电梯设施"), ("电梯又坏了", "电梯设施"), ("楼上装修太吵", "噪音扰民")],
    )
    result = CliRunner().invoke(
        main,
        ["rules", "suggest", str(labeled), "--effect", "--config", str(config_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["against"] == "the database's rules"
    assert report["right_before"] == 3  # the starter rules file all three
    lift = next(k for k in report["keywords"] if k["keyword"] == "电梯")
    assert lift["in_rules"] and lift["matches"] == 2


def test_effect_options_that_do_not_fit_are_refused(tmp_path: Path) -> None:
    labeled = write_labeled(tmp_path / "small.jsonl", SMALL)
    runner = CliRunner()
    stdout_taken = runner.invoke(
        main, ["rules", "suggest", str(labeled), "--effect", "-o", "-"], env=NO_CONFIG
    )
    assert stdout_taken.exit_code == 2 and "-o FILE" in stdout_taken.stderr
    json_alone = runner.invoke(main, ["rules", "suggest", str(labeled), "--json"], env=NO_CONFIG)
    assert json_alone.exit_code == 2 and "go with --effect" in json_alone.stderr
    plain = runner.invoke(main, ["rules", "suggest", str(labeled)], env=NO_CONFIG)
    assert plain.exit_code == 0 and "[[topic]]" in plain.stdout  # the rules file, as before


def test_a_bad_rules_file_stops_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[topic]]\nname = "噪音扰民"\nrules = [{ keyword = "" }]\n', encoding="utf-8")
    out = tmp_path / "mined.toml"
    result = effect(tmp_path, "--rules", str(bad), "-o", str(out))
    assert result.exit_code == 1 and "bad.toml" in result.stderr
    assert not out.exists() and result.stdout == ""

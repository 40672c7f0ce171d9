"""The keyword classifier: folding, tokens, phrases, vetoes, threshold and margin."""

from __future__ import annotations

import pytest

from bot.classify import Classifier, RulesFileError, dump_rules, parse_rules
from words import fold, text_key

RULES = """
[[topic]]
name = "电梯设施"
sort_order = 1
rules = [
  { keyword = "电梯", weight = 3 },
  { keyword = "电悌", weight = 3 },
  { keyword = "困人", weight = 2 },
  { keyword = "电梯广告", kind = "exclude" },
]

[[topic]]
name = "噪音扰民"
sort_order = 2
rules = [
  { keyword = "吵", weight = 2 },
  { keyword = "广场舞", weight = 3 },
  { keyword = "装修", weight = 1 },
]

[[topic]]
name = "安全隐患"
sort_order = 3
rules = [
  { keyword = "高空抛物", weight = 3 },
  { keyword = "飞线充电", weight = 3 },
]

[[topic]]
name = "垃圾分类"
sort_order = 4
rules = [
  { keyword = "装修垃圾", weight = 3 },
  { keyword = "垃圾", weight = 1 },
]
"""


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(parse_rules(RULES), threshold=2.0, margin=1.0)


def test_a_clear_text_gets_its_topic(classifier: Classifier) -> None:
    verdict = classifier.classify("3号楼电梯困人了，快来人")
    assert (verdict.topic, verdict.score, verdict.unsure) == ("电梯设施", 5.0, False)


def test_traditional_full_width_and_typos_are_folded(classifier: Classifier) -> None:
    assert classifier.classify("電梯壞了").topic == "电梯设施"
    assert classifier.classify("电悌不动了").topic == "电梯设施"
    assert fold("ＡＢＣ１２３　電梯") == "abc123 电梯"
    assert text_key("電梯壞了！") == text_key("电梯坏了")


def test_an_exclude_rule_vetoes_its_topic(classifier: Classifier) -> None:
    verdict = classifier.classify("电梯广告太多了")
    assert verdict.topic is None  # only the veto matched: no topic at all
    explained = classifier.explain("电梯广告太多了")
    assert explained.vetoed == ["电梯设施"]


def test_a_weak_match_is_unsure_but_names_its_best_guess(classifier: Classifier) -> None:
    verdict = classifier.classify("楼上在装修")
    assert (verdict.topic, verdict.unsure) == ("噪音扰民", True)  # 1 < threshold 2


def test_a_close_runner_up_makes_it_unsure(classifier: Classifier) -> None:
    verdict = classifier.classify("电梯里有人高空抛物")  # 3 against 3
    assert verdict.unsure
    assert {name for name, _ in verdict.candidates} == {"电梯设施", "安全隐患"}


def test_nothing_matched_is_no_topic(classifier: Classifier) -> None:
    verdict = classifier.classify("请问社区几点下班")
    assert (verdict.topic, verdict.score, verdict.unsure) == (None, 0.0, True)


def test_a_phrase_kept_whole_outranks_its_parts(classifier: Classifier) -> None:
    explained = classifier.explain("楼道里堆满了装修垃圾")
    assert "装修垃圾" in explained.tokens
    assert explained.result.topic == "垃圾分类"
    assert {m.rule.keyword for m in explained.matches} >= {"装修垃圾", "垃圾"}


def test_a_keyword_inside_a_longer_token_still_counts(classifier: Classifier) -> None:
    explained = classifier.explain("电梯间的灯不亮")
    vias = {m.rule.keyword: m.via for m in explained.matches}
    assert "电梯" in vias


def test_each_rule_counts_once_per_text(classifier: Classifier) -> None:
    assert classifier.classify("吵吵吵，吵死了，太吵").score == 2.0


def test_a_rules_file_round_trips() -> None:
    specs = parse_rules(RULES)
    assert parse_rules(dump_rules(specs)) == specs


@pytest.mark.parametrize(
    "text, line, reason",
    [
        (
            '[[topic]]\nname = "A"\nrules = [\n  { keyword = "x", weight = -1 },\n]\n',
            4,
            "weight must be a number above 0",
        ),
        (
            '[[topic]]\nname = "A"\nrules = [\n  { keyword = "x", kind = "maybe" },\n]\n',
            4,
            'kind must be "include" or "exclude"',
        ),
        (
            '[[topic]]\nname = "A"\nrules = [\n'
            '  { keyword = "電梯" },\n  { keyword = "电梯" },\n]\n',
            5,
            "repeats",
        ),
        ('[[topic]]\nname = "A"\ncolour = "red"\n', 2, "unknown key 'colour'"),
        ('[[topic]]\nname = "A"\nsla_hours = 0\n', 2, "sla_hours must be a positive"),
        ('[[topic]]\nname = "A"\n[[topic]]\nname = "A"\n', 2, "twice"),
        ('[[topic]\nname = "A"\n', 1, "not valid TOML"),
        ("", 0, "no [[topic]] tables"),
    ],
)
def test_a_bad_rules_file_is_refused_with_line_and_reason(
    text: str, line: int, reason: str
) -> None:
    with pytest.raises(RulesFileError) as caught:
        parse_rules(text)
    assert caught.value.line == line
    assert reason in caught.value.reason


def test_cost_does_not_depend_on_the_number_of_rules() -> None:
    """Every lookup is a dictionary hit: 10,000 rules do the same work per token as 10."""
    many = "\n".join(
        ["[[topic]]", 'name = "大"', "rules = ["]
        + [f'  {{ keyword = "词{i:05d}", weight = 1 }},' for i in range(10_000)]
        + ["]"]
    )
    big = Classifier(parse_rules(many), 2.0, 1.0)
    assert len(big.index) == 10_000
    # Six-character keywords in jieba's dictionary come out whole: one lookup each.
    assert {m.via for m in big.explain("这里有词00042").matches} == {"token"}
    assert big.classify("这里有词00042和词09999").score == 2.0

"""Who decides a text's topic (bot/classify/engine.py): the rules when they are sure, the
learned model when they are not or when it is strongly against them, else nobody (the
resident is asked, offered the likeliest topics) — and the model itself: kept as bytes,
read back the same, and refusing anything else."""

from __future__ import annotations

import pytest
from small_model import BY_MODEL, NOBODY_SURE, small_model

from bot.classify import Classifier, parse_rules
from bot.classify.evaluate import Labeled
from bot.classify.model import Model, train

RULES = """
[[topic]]
name = "噪音扰民"
rules = [
    {keyword = "噪音", weight = 3}, {keyword = "吵", weight = 2}, {keyword = "楼上", weight = 1},
]

[[topic]]
name = "电梯设施"
rules = [{keyword = "电梯", weight = 3}]

[[topic]]
name = "物业服务"
rules = [{keyword = "物业", weight = 3}, {keyword = "楼上", weight = 1}]

[[topic]]
name = "环境卫生"
rules = [{keyword = "垃圾", weight = 3}]

[[topic]]
name = "政策咨询"
rules = [{keyword = "咨询", weight = 1}]

[[topic]]
name = "停车交通"
rules = [{keyword = "停车", weight = 3}]

[[topic]]
name = "绿化园林"
rules = [{keyword = "绿化", weight = 3}]

[[topic]]
name = "水电气暖"
rules = [{keyword = "停水", weight = 3}]

[[topic]]
name = "养老助老"
rules = [{keyword = "老人", weight = 3}]
"""


def classifier(model: Model | None = None, **numbers: float) -> Classifier:
    return Classifier(parse_rules(RULES), 2.0, 1.0, model, **numbers)


def test_without_a_model_the_rules_decide_alone() -> None:
    verdict = classifier().classify(BY_MODEL)
    assert (verdict.topic, verdict.unsure, verdict.by) == (None, True, None)
    assert classifier().classify("电梯坏了").by == "rules"


def test_the_rules_decide_when_they_are_beyond_doubt() -> None:
    # 噪音 (3) + 吵 (2) = 5 against nothing: the model is not even asked.
    verdict = classifier(small_model()).classify("噪音太吵了")
    assert (verdict.topic, verdict.unsure, verdict.by) == ("噪音扰民", False, "rules")
    explained = classifier(small_model()).explain("噪音太吵了")
    assert explained.model_ranked == []


def test_when_no_rule_matches_a_sure_model_decides() -> None:
    verdict = classifier(small_model()).classify(BY_MODEL)
    assert (verdict.topic, verdict.unsure, verdict.by) == ("噪音扰民", False, "model")
    assert 0.5 < verdict.score <= 1.0  # its probability


def test_a_tie_in_the_rules_is_broken_by_the_model() -> None:
    # 楼上 counts 1 for 噪音扰民 and 1 for 物业服务: the rules cannot choose.
    rules_only = classifier().classify("楼上的狗天天叫")
    assert rules_only.unsure
    verdict = classifier(small_model()).classify("楼上的狗天天叫")
    assert (verdict.topic, verdict.by) == ("噪音扰民", "model")


def test_when_nobody_is_sure_the_likeliest_three_are_offered() -> None:
    verdict = classifier(small_model()).classify(NOBODY_SURE)
    assert verdict.unsure and verdict.by is None
    assert len(verdict.candidates) == 3
    assert verdict.topic == verdict.candidates[0][0]
    probabilities = [p for _, p in verdict.candidates]
    assert probabilities == sorted(probabilities, reverse=True)


def test_the_rules_best_is_among_the_topics_offered() -> None:
    # 咨询 is too weak to decide, and the model never learned 政策咨询 (nor is it sure of
    # anything at this threshold): 政策咨询 is still offered.
    verdict = classifier(small_model(), model_threshold=0.95).classify("想咨询一件事")
    assert verdict.unsure
    assert "政策咨询" in [name for name, _ in verdict.candidates]


def test_a_model_strongly_against_weak_rules_overrules_them() -> None:
    model = train(
        [Labeled(f"物业{n}号楼的狗天天叫", "噪音扰民") for n in range(8)]
        + [Labeled(f"电梯{n}号又停了", "电梯设施") for n in range(8)]
    )
    # 物业 (2.5) against 天天 (1): the rules are sure of 物业服务, by a lead of 1.5 — less
    # than the threshold (2), so not beyond doubt.
    rules = parse_rules(
        RULES.replace('keyword = "物业", weight = 3', 'keyword = "物业", weight = 2.5').replace(
            '{keyword = "楼上", weight = 1},\n]',
            '{keyword = "楼上", weight = 1},\n    {keyword = "天天", weight = 1},\n]',
            1,
        )
    )
    text = "物业楼下的狗天天叫"
    assert Classifier(rules, 2.0, 1.0).classify(text).topic == "物业服务"
    verdict = Classifier(rules, 2.0, 1.0, model).classify(text)
    assert (verdict.topic, verdict.by) == ("噪音扰民", "model")
    # Unless overruling is switched off.
    kept = Classifier(rules, 2.0, 1.0, model, model_override=1.0).classify(text)
    assert (kept.topic, kept.by) == ("物业服务", "rules")


def test_the_model_names_only_topics_this_rule_set_has_enabled() -> None:
    # A community that switched 噪音扰民 off: the model's favourite is not on offer.
    fewer = "\n[[topic]]".join(
        part for part in RULES.split("\n[[topic]]") if '"噪音扰民"' not in part
    )
    verdict = Classifier(parse_rules(fewer), 2.0, 1.0, small_model()).classify(BY_MODEL)
    assert "噪音扰民" not in {name for name, _ in verdict.candidates}
    assert verdict.topic != "噪音扰民"


def test_a_model_reads_back_the_same_and_refuses_anything_else(tmp_path) -> None:
    model = small_model()
    path = tmp_path / "model.npz"
    model.save(path)
    again = Model.load(path)
    assert again.labels == model.labels
    assert again.rank(BY_MODEL) == model.rank(BY_MODEL)
    assert again.weigh(BY_MODEL, "噪音扰民") == model.weigh(BY_MODEL, "噪音扰民")
    for junk in (b"", b"not a model", path.read_bytes()[:100]):
        with pytest.raises(ValueError, match="not a classifier model"):
            Model.from_bytes(junk)


def test_the_weighed_features_are_those_of_the_text() -> None:
    terms = dict(small_model().weigh(BY_MODEL, "噪音扰民", n=5))
    assert terms and all(term in BY_MODEL for term in terms)
    assert list(terms.values()) == sorted(terms.values(), reverse=True)


def test_training_needs_two_topics() -> None:
    with pytest.raises(ValueError, match="two topics"):
        train([Labeled("电梯坏了", "电梯设施"), Labeled("电梯停了", "电梯设施")])

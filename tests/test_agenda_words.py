"""What free text "reads like a proposal" (words/agenda.py): the hint's one rule, both ways."""

from __future__ import annotations

import pytest

from models.agenda import EVENTS, STAGES
from words.agenda import EVENT_NAMES, STAGE_NAMES, reads_like_proposal


@pytest.mark.parametrize(
    "text",
    [
        "建议在小区门口增设一个公交站牌",
        "我提议在小区北门空地增加一组健身器材",
        "我们建议每月组织一次义诊",
        "希望增加几个快递柜",
        "希望能在3号楼旁边加装一个充电桩",
        "能不能增加一些路灯，晚上太黑了",
        "小区里可不可以设置一个旧衣回收箱",
        "能否在广场开设一个儿童游乐区",
        "我们想在小区里办一个邻里节",
        "建議增設無障礙坡道",  # traditional script folds to simplified
    ],
)
def test_proposals_read_like_proposals(text: str) -> None:
    assert reads_like_proposal(text)


@pytest.mark.parametrize(
    "text",
    [
        "3号楼2单元电梯坏了，有人被困",
        "楼上噪音太大了，希望尽快处理",
        "电梯坏了三天了，建议物业尽快修",
        "垃圾桶满了没人清理",
        "楼道灯坏了，能不能派人来看看",
        "我想咨询一下居住证怎么办",
    ],
)
def test_complaints_do_not(text: str) -> None:
    assert not reads_like_proposal(text)


def test_every_stage_and_event_has_a_name() -> None:
    assert set(STAGE_NAMES) == set(STAGES)
    assert set(EVENTS) <= set(EVENT_NAMES)

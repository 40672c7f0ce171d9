"""Every 议 chat command answers bad input with a polite Chinese message, and another
community's 议题 is answered like a missing number, whatever the command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from carrying_desk import NOW, FixedClock, said
from carrying_world import publicised_item
from desk import Desk

from bot.config import Settings
from models import Person, Role
from models.communities import add_community


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    found = Desk(settings, FixedClock())
    yield found
    found.close()


def street(desk: Desk) -> int:
    """A 议题 of the first community in 公示, and a resident of 和平社区 beside it."""
    with desk.db.session() as s:
        peace, _ = add_community(s, "和平社区", NOW)
        world = publicised_item(s, NOW, settled=False)
        s.add(
            Person(
                openid="o_peace",
                role=Role.RESIDENT,
                following=True,
                first_seen_at=NOW,
                last_seen_at=NOW,
                cs_sent=0,
                community_id=peace.id,
            )
        )
    return world.number


@pytest.mark.parametrize(
    "command", ["议题 {n}", "附议 {n}", "异议 {n} 太吵", "评议 {n} 1", "参加 1", "请假 1 出差"]
)
def test_another_communitys_item_is_a_missing_number(desk: Desk, command: str) -> None:
    n = street(desk)
    reply = said(desk, "o_peace", command.format(n=n))
    assert reply.startswith("没有找到") and "#1" in reply, reply


BAD = [
    ("o_back", "附议"),
    ("o_back", "附议 北门"),
    ("o_back", "附议 1"),  # 公示 already: too late to back
    ("o_back", "议题 99"),
    ("o_back", "异议"),
    ("o_back", "异议 1"),
    ("o_back", "异议 99 太吵"),
    ("o_back", "评议 1"),
    ("o_back", "评议 1 5"),
    ("o_back", "评议 1 1"),  # not done yet
    ("o_back", "评议 99 1"),
    ("o_back", "参加"),
    ("o_back", "参加 99"),
    ("o_back", "进展 1 已开工"),  # a resident
    ("o_wang", "进展"),
    ("o_wang", "进展 1"),
    ("o_wang", "进展 99 已开工"),
    ("o_wang", "完成 1 已安装"),  # not assigned yet
]


@pytest.mark.parametrize(("openid", "text"), BAD)
def test_bad_input_gets_a_polite_chinese_answer(desk: Desk, openid: str, text: str) -> None:
    street(desk)
    reply = said(desk, openid, text)
    assert reply and not reply.isascii()

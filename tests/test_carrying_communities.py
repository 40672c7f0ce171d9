"""落实 in a street of several communities: a community's 议题 is carried out by its own
staff or the street's, goes up its own community's ladder, and is "not found" by another
community's staff; a street-wide 议题 climbs the street's own ladder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from carrying_desk import NOW, FixedClock, assigned, said, sweep, told
from carrying_world import publicised_item
from desk import Desk
from sqlalchemy import select

from bot.config import Settings
from models.agenda import AgendaError, AgendaItem
from models.carrying import assign
from models.communities import HOME_ID, add_community
from models.staff import LEVEL_COMMUNITY, add_staff


@pytest.fixture
def fixed() -> FixedClock:
    return FixedClock()


@pytest.fixture
def desk(settings: Settings, fixed: FixedClock) -> Iterator[Desk]:
    found = Desk(settings, fixed)
    yield found
    found.close()


def street(desk: Desk, community_id: int | None) -> int:
    """和平社区 beside the first; each has a supervisor; the 议题 is `community_id`'s."""
    with desk.db.session() as s:
        peace, _ = add_community(s, "和平社区", NOW)
        add_staff(s, "o_qian", "钱书记", (), (), None, LEVEL_COMMUNITY, NOW, community_id=peace.id)
        add_staff(s, "o_sun", "孙主任", (), (), None, LEVEL_COMMUNITY, NOW, community_id=HOME_ID)
        world = publicised_item(s, NOW, community_id=community_id)
    assigned(desk, world, days=1)
    return world.number


def test_another_communitys_staff_neither_find_nor_own_it(desk: Desk) -> None:
    n = street(desk, HOME_ID)
    assert said(desk, "o_qian", f"进展 {n} 我来报") == f"没有找到议题 #{n}。"
    assert said(desk, "o_sun", f"进展 {n} 已督促").startswith(f"已记录议题 #{n}")
    with desk.db.session() as s:
        item = s.scalars(select(AgendaItem)).one()
        with pytest.raises(AgendaError) as refused:
            assign(s, item, NOW, owner="钱书记", due_at=NOW + timedelta(days=3))
    assert refused.value.reason == "owner_unknown"


@pytest.mark.parametrize(
    ("community_id", "supervisor"), [(HOME_ID, "o_sun"), (None, "o_li")], ids=["own", "street"]
)
def test_late_work_climbs_its_own_ladder(
    desk: Desk, fixed: FixedClock, settings: Settings, community_id: int | None, supervisor: str
) -> None:
    street(desk, community_id)
    fixed.advance(days=2)
    sweep(desk, settings)
    fixed.advance(hours=49)
    sweep(desk, settings)
    assert "落实督办·社区" in told(desk, supervisor)[0]
    others = {"o_sun", "o_li", "o_qian"} - {supervisor}
    assert all(told(desk, openid) == [] for openid in others)


def test_the_streets_owner_reads_the_item_they_carry_out(desk: Desk) -> None:
    n = street(desk, HOME_ID)  # 王芳 is the street's staff, the owner of #n
    assert f"#{n}" in told(desk, "o_wang")[0]
    shown = said(desk, "o_wang", f"议题 {n}")
    assert shown.startswith(f"议题 #{n}") and "阶段：落实中" in shown, shown
    assert said(desk, "o_qian", f"议题 {n}").startswith("没有找到")  # another community's
    assert f"#{n} " in said(desk, "o_wang", "议题")  # the street's staff list every community's
    assert f"#{n} " not in said(desk, "o_qian", "议题")  # another community's staff do not
    assert said(desk, "o_wang", f"附议 {n}").startswith("附议需要先绑定住址")  # not "no #n"

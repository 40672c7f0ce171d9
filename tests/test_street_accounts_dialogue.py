"""A street with a community account each for 东社区 and 西社区, and one street-wide account.

A resident writing to a community's account is that community's; a resident writing to the
street's account, with no household bound, is asked which community before the report is
filed there. Each community's supervisor gets the reports nobody more specific handles.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from accounts import Account
from conftest import db_of
from flask import Flask
from sqlalchemy import select

from models import Person, Ticket
from models.communities import add_community
from models.staff import LEVEL_COMMUNITY, add_staff

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
UNCLEAR = "小区里那个事情到底什么时候能有个说法啊"
ANOTHER = "楼道里的灯坏了好几天了一直没人修"


@pytest.fixture
def street(multi_app: Flask) -> Iterator[Flask]:
    with db_of(multi_app).session() as session:
        for name, who in (("东社区", "东主任"), ("西社区", "西主任")):
            community, _ = add_community(session, name, NOW)
            person = add_staff(session, f"o_{who}", who, [], [], None, LEVEL_COMMUNITY, NOW)
            person.community_id = community.id
    yield multi_app


def tickets(app: Flask) -> list[tuple[int, str, str | None]]:
    """Each ticket's number, community and holder."""
    with db_of(app).session(read_only=True) as session:
        rows = session.scalars(select(Ticket).order_by(Ticket.number)).all()
        return [
            (
                t.number,
                t.community.name,
                session.get(Person, t.assignee_id).name if t.assignee_id else None,  # type: ignore[union-attr]
            )
            for t in rows
        ]


def test_a_community_accounts_residents_reports_go_to_that_community(street: Flask) -> None:
    client = street.test_client()
    east, west = Account(client, "a"), Account(client, "b")

    assert (east.say("/wechat/a", "o_east", UNCLEAR) or "").startswith(
        "已登记您反映的问题，编号 #1"
    )
    assert (west.say("/wechat/b", "o_west", UNCLEAR) or "").startswith(
        "已登记您反映的问题，编号 #2"
    )

    assert tickets(street) == [(1, "东社区", "东主任"), (2, "西社区", "西主任")]


def test_the_street_accounts_resident_says_which_community_and_the_report_goes_there(
    street: Flask,
) -> None:
    client = street.test_client()
    hall = Account(client, "street")

    asked = hall.say("/wechat/street", "o_new", UNCLEAR)
    assert asked == (
        "为了把您的诉求转给对应的社区，请问您住在哪个社区？回复数字：\n1 本社区\n2 东社区\n3 西社区"
    )
    assert tickets(street) == []  # waiting for the answer, not filed anywhere yet

    # A command is answered as usual; the report keeps waiting.
    assert (hall.say("/wechat/street", "o_new", "帮助") or "").startswith("议事厅可以为您办理")
    assert hall.say("/wechat/street", "o_new", "9") == "请回复 1 到 3 之间的数字。"
    again = hall.say("/wechat/street", "o_new", "西边那个")
    assert again is not None and again.startswith("请先回复数字选择您所在的社区")

    chosen = hall.say("/wechat/street", "o_new", "3")
    assert chosen is not None
    assert chosen.startswith("好的，已记下您是西社区的居民。\n已登记您反映的问题，编号 #1")
    assert tickets(street) == [(1, "西社区", "西主任")]

    # Their community is known now: the next report is filed at once, in 西社区.
    later = hall.say("/wechat/street", "o_new", ANOTHER)
    assert later is not None and "编号 #2" in later
    assert tickets(street)[1][1] == "西社区"

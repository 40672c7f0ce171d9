"""Where the problem is, as residents and grid workers see it: "3号楼电梯坏了" from a resident of
building 1 goes to building 3's grid worker, whose push says 地点：3号楼（居民住1号楼）.

The community is tests/data/places_dev.toml: buildings 1–2 in 第一网格 (o_grid1), 3–9 in
第二网格 (o_grid2), 10–18 in 第三网格 (o_grid3); 东门 by building 1, 地下车库 (地库) in 第三网格.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import Clock
from desk import Desk, Resident
from sqlalchemy import select

from bot.delivery import render
from models import Attachment, OutboxMessage, Person, ticket_by_number
from models.places import approve_binding, request_binding
from models.placesfile import import_places, parse_places

PLACES = Path(__file__).parent / "data" / "places_dev.toml"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def community(desk: Desk) -> Desk:
    with desk.db.session() as session:
        import_places(session, parse_places(PLACES.read_text(encoding="utf-8")), NOW)
    return desk


def lives_in_building_1(desk: Desk, openid: str = "o_resident") -> Resident:
    resident = desk.chat(openid)
    resident.follow()
    with desk.db.session() as session:
        person = session.scalars(select(Person).where(Person.openid == openid)).one()
        request_binding(session, person.id, "1", "2", "501", NOW)
        approve_binding(session, person.id, "test", NOW)
    return resident


def pushes_to(desk: Desk, openid: str) -> list[str]:
    with desk.db.session(read_only=True) as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.payload)
            .join(Person, Person.id == OutboxMessage.person_id)
            .where(Person.openid == openid, OutboxMessage.kind.startswith("ticket."))
            .order_by(OutboxMessage.id)
        ).all()
    return [render(kind, payload).text for kind, payload in rows]


def ticket_of(desk: Desk, number: int) -> dict[str, object]:
    with desk.db.session(read_only=True) as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None
        holder = session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
        attachments = session.scalars(
            select(Attachment.kind).where(Attachment.ticket_id == ticket.id)
        ).all()
        return {
            "holder": holder.openid if holder else None,
            "spot": ticket.spot,
            "spot_from": ticket.spot_from,
            "place": ticket.place,
            "attachments": list(attachments),
        }


def test_a_lift_in_another_building_goes_to_that_buildings_grid_worker(community: Desk) -> None:
    resident = lives_in_building_1(community)
    reply = resident.say("3号楼电梯坏了，困人了")
    assert reply is not None and "编号 #1" in reply
    assert ticket_of(community, 1) == {
        "holder": "o_grid2",
        "spot": "3号楼",
        "spot_from": "text",
        "place": "1-2-501",
        "attachments": [],
    }
    [push] = pushes_to(community, "o_grid2")
    assert "地点：3号楼（居民住1号楼）" in push
    assert pushes_to(community, "o_grid1") == []


def test_a_unit_and_room_are_kept_in_the_spot(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.say("12栋2单元501楼上漏水到我家了")
    assert ticket_of(community, 1)["spot"] == "12号楼2单元501"
    assert ticket_of(community, 1)["holder"] == "o_grid3"


def test_a_floor_is_not_a_building_the_ticket_stays_at_home(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.say("我家3楼楼道灯坏了，晚上看不见")
    assert ticket_of(community, 1) == {
        "holder": "o_grid1",
        "spot": None,
        "spot_from": None,
        "place": "1-2-501",
        "attachments": [],
    }
    [push] = pushes_to(community, "o_grid1")
    assert "地点：1-2-501" in push and "居民住" not in push


def test_a_building_the_community_does_not_have_is_no_place(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.say("25号楼的电梯坏了")
    assert ticket_of(community, 1)["spot"] is None
    assert ticket_of(community, 1)["holder"] == "o_grid1"


def test_a_named_place_routes_to_its_grid(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.say("地库里好多积水，车都开不进去")
    assert ticket_of(community, 1)["spot"] == "地下车库"
    assert ticket_of(community, 1)["holder"] == "o_grid3"
    [push] = pushes_to(community, "o_grid3")
    assert "地点：地下车库（居民住1号楼）" in push


def test_someone_with_no_home_gets_the_place_alone(community: Desk) -> None:
    stranger = community.chat("o_stranger")
    stranger.say("东门的路灯坏了，晚上黑乎乎的")
    found = ticket_of(community, 1)
    assert (found["spot"], found["place"], found["holder"]) == ("东门", None, "o_grid1")
    [push] = pushes_to(community, "o_grid1")
    assert "地点：东门\n" in push


def test_a_location_then_words_puts_the_ticket_at_the_nearest_building(community: Desk) -> None:
    resident = lives_in_building_1(community)
    # 20 m from building 3 (31.2310, 121.4710); no ticket yet: the usual answer.
    reply = resident.send(
        "location", location_x="31.23115", location_y="121.47105", label="幸福小区"
    )
    assert reply == "已收到您的位置：幸福小区。如需反映这里的问题，请再发一段文字说明情况。"
    assert resident.say("帮助") is not None  # a command in between does not eat it
    resident.send("image", picurl="http://x/p.jpg", mediaid="m1")
    reply = resident.say("这里的路灯坏了好几天了")
    assert reply is not None and "编号 #1" in reply
    assert ticket_of(community, 1) == {
        "holder": "o_grid2",
        "spot": "3号楼",
        "spot_from": "location",
        "place": "1-2-501",
        "attachments": ["location", "image"],
    }
    # Kept for one ticket only: the next report is where its words say.
    resident.say("12号楼门口的垃圾没人清理")
    assert ticket_of(community, 2)["spot"] == "12号楼"


def test_the_words_win_over_a_location(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.send("location", location_x="31.23115", location_y="121.47105")
    resident.say("东门的路灯坏了")
    found = ticket_of(community, 1)
    assert (found["spot"], found["spot_from"], found["attachments"]) == (
        "东门",
        "text",
        ["location"],
    )


def test_a_location_far_from_every_building_is_no_place(community: Desk) -> None:
    resident = lives_in_building_1(community)
    resident.send("location", location_x="31.2400", location_y="121.4800")  # ~1.4 km away
    resident.say("路灯坏了好几天了")
    found = ticket_of(community, 1)
    assert (found["spot"], found["holder"], found["attachments"]) == (None, "o_grid1", ["location"])


def test_a_photo_never_followed_by_words_simply_expires(community: Desk, clock: Clock) -> None:
    resident = lives_in_building_1(community)
    resident.send("image", picurl="http://x/p.jpg", mediaid="m1")
    clock.advance(minutes=11)  # [tickets] attach_minutes is 10
    resident.say("3号楼电梯坏了")
    assert ticket_of(community, 1)["attachments"] == []


def test_the_push_payload_keeps_the_spot(community: Desk) -> None:
    lives_in_building_1(community).say("3号楼电梯坏了")
    with community.db.session(read_only=True) as session:
        payload = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == "ticket.assigned")
        ).one()
    assert payload["spot"] == "3号楼"


def test_a_topic_chosen_later_keeps_the_ticket_where_the_problem_is(community: Desk) -> None:
    resident = lives_in_building_1(community)
    reply = resident.say("3号楼那个事情到底什么时候能有个说法啊")
    assert reply is not None and "请问属于哪一类" in reply
    assert ticket_of(community, 1)["holder"] == "o_grid2"
    resident.say("1")
    assert ticket_of(community, 1)["holder"] == "o_grid2"
    assert ticket_of(community, 1)["spot"] == "3号楼"


def test_staff_filing_for_a_caller_routes_by_the_place_the_caller_names(
    community: Desk,
) -> None:
    """The building staff give is where the caller lives (the form's 楼栋); the problem's
    place in what they wrote down still decides, as when residents write it themselves. A
    platform's order names where the problem is: its building stands."""
    from models.intake import Policy, Report, intake
    from models.places import building_by_name

    def file(channel: str, text: str) -> dict[str, object]:
        with community.db.session() as session:
            home = building_by_name(session, "1")
            assert home is not None
            report = Report(text, channel, None, NOW, phone="13800138000", building_id=home.id)
            number = intake(session, report, Policy(), community.conversation.rulebook).number
        assert number is not None
        return ticket_of(community, number)

    by_phone = file("phone", "3号楼电梯又停了，有人被困")
    assert (by_phone["holder"], by_phone["spot"]) == ("o_grid2", "3号楼")
    assert str(by_phone["place"]).startswith("1")  # the caller's home, as given

    order = file("api", "3号楼电梯又停了，有人被困")
    assert (order["holder"], order["spot"]) == ("o_grid1", None)

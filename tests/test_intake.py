"""The one intake operation, called the way every channel calls it: `intake(db, report, ...)`.

A small community on both databases: building 16 in 第一网格 (网格员 赵网格), building 18 in
no grid, 王师傅 for 电梯设施, 李主任 on duty; 张 and 陈 live in 16, 远 in 18. Each test takes
reports in, each in its own transaction, and reads what a resident or staff member would
see: the outcome and number, the ticket's holder, the push to them, the supporter count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from models import (
    Building,
    Classification,
    Grid,
    OutboxMessage,
    Person,
    Ticket,
    TicketEvent,
    Topic,
    ticket_by_number,
    touch_person,
)
from models.intake import Hint, Intake, Outcome, Policy, Report, intake
from models.places import approve_binding, request_binding
from models.routing import Place, Route
from models.staff import LEVEL_COMMUNITY, add_staff

# Naming no building: about the writer's home (a text naming one is about that building:
# models/spots.py, tests/test_spots_dialogue.py).
ELEVATOR = "2单元的电梯又坏了，困住了两个老人，一直在报警"
ELEVATOR_AGAIN = "2单元的电梯又坏了！困住了两个老人，一直在报警。"
UNCLEAR = "那个事情到底什么时候能有个说法啊"
POLICY = Policy(max_open_tickets=3)
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@dataclass
class Community:
    db: Database
    classify: Callable[[str], Classification]
    people: dict[str, int]  # name → person id

    def take(self, who: str, text: str, *, policy: Policy = POLICY, **fields: object) -> Intake:
        """One report in its own transaction, as a channel sends it (`fields`: Report's)."""
        report = replace(Report(text, "wechat", self.people[who], NOW), **fields)  # type: ignore[arg-type]
        with self.db.session() as session:
            return intake(session, report, policy, self.classify)

    def ticket(self, number: int | None) -> tuple[str | None, str | None, int]:
        """Who holds ticket `number`, its topic, and how many residents seconded it."""
        assert number is not None
        with self.db.session(read_only=True) as session:
            found = ticket_by_number(session, number)
            assert found is not None
            holder = session.get(Person, found.assignee_id) if found.assignee_id else None
            topic = found.topic.name if found.topic else None
            return (holder.name if holder else None, topic, found.supporters)

    def pushed_to(self, who: str) -> list[int]:
        """The ticket numbers of the 'ticket.assigned' pushes queued for `who`."""
        with self.db.session(read_only=True) as session:
            rows = session.scalars(
                select(OutboxMessage.payload).where(
                    OutboxMessage.person_id == self.people[who],
                    OutboxMessage.kind == "ticket.assigned",
                )
            )
            return [payload["number"] for payload in rows]

    def count(self) -> int:
        with self.db.session(read_only=True) as session:
            return len(session.scalars(select(Ticket.id)).all())


def _resident(session: Session, openid: str, place: str | None) -> int:
    person = touch_person(session.connection(), openid, NOW, wrote=True)
    if place is not None:
        building, unit, room = place.split("-")
        request_binding(session, person.id, building, unit, room, NOW, phone="13800001234")
        approve_binding(session, person.id, "test", NOW)
    return person.id


@pytest.fixture
def community(backend_settings: Settings) -> Iterator[Community]:
    app = make_app(backend_settings)
    ext = app.extensions["yishiting"]
    with ext.db.session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18")])
        session.flush()
        people = {
            "王师傅": add_staff(session, "o_wang", "王师傅", ["电梯设施"], [], None, 1, NOW).id,
            "李主任": add_staff(session, "o_li", "李主任", [], [], None, LEVEL_COMMUNITY, NOW).id,
            "赵网格": add_staff(session, "o_zhao", "赵网格", [], [], None, 1, NOW).id,
        }
        grid.worker_id = people["赵网格"]
        for name, place in (("张", "16-2-501"), ("陈", "16-2-702"), ("远", "18-1-101")):
            people[name] = _resident(session, f"o_{name}", place)
        people["新"] = _resident(session, "o_new", None)
    yield Community(ext.db, ext.rulebook.current().classify, people)
    ext.db.dispose()


def test_a_report_is_filed_under_its_topic_and_its_holder_is_told(community: Community) -> None:
    filed = community.take("新", ELEVATOR)

    assert (filed.outcome, filed.number, filed.topic) == (Outcome.FILED, 1, "电梯设施")
    assert community.ticket(1) == ("王师傅", "电梯设施", 0)
    assert filed.assignee_id == community.people["王师傅"]
    assert community.pushed_to("王师傅") == [1]


def test_an_unclear_report_is_filed_in_triage_and_comes_back_with_topics_to_offer(
    community: Community,
) -> None:
    filed = community.take("新", UNCLEAR)

    assert (filed.outcome, filed.number, filed.topic) == (Outcome.UNSURE, 1, None)
    assert community.ticket(1) == ("李主任", None, 0)  # nobody for no topic: the duty supervisor
    assert community.count() == 1  # filed at once: nothing waits unfiled


def test_the_same_text_again_is_the_ticket_already_filed(community: Community) -> None:
    first = community.take("张", ELEVATOR)
    again = community.take("张", f"{ELEVATOR}。", now=NOW + timedelta(minutes=5))
    later = community.take("张", ELEVATOR, now=NOW + timedelta(minutes=11))

    assert (again.outcome, again.number, again.topic) == (Outcome.SAME_AGAIN, 1, "电梯设施")
    assert first.ticket_id == again.ticket_id
    assert later.outcome == Outcome.FILED and later.number == 2  # past same_text_minutes


def test_a_neighbour_reporting_the_same_problem_supports_the_first_ticket_without_a_hint(
    community: Community,
) -> None:
    """No pre-routing happened (hint=None): intake finds the neighbour's building itself."""
    community.take("张", ELEVATOR)

    seconded = community.take("陈", ELEVATOR_AGAIN, hint=None)
    twice = community.take("陈", ELEVATOR, hint=None)
    elsewhere = community.take("远", ELEVATOR, hint=None)  # building 18: another lift

    assert (seconded.outcome, seconded.number) == (Outcome.SUPPORTED, 1)
    assert (twice.outcome, twice.number) == (Outcome.SUPPORTED_AGAIN, 1)
    assert (elsewhere.outcome, elsewhere.number) == (Outcome.FILED, 2)
    assert community.ticket(1) == ("赵网格", "电梯设施", 1)  # 16 is in 赵网格's grid


def test_a_resident_over_the_open_ticket_cap_is_told_which_tickets_are_open(
    community: Community,
) -> None:
    texts = ["楼道灯坏了好几天了", "小区门口的车乱停，堵了消防通道", "楼上装修噪音太大了"]
    for n, text in enumerate(texts):
        community.take("新", text, now=NOW + timedelta(minutes=n))

    over = community.take("新", ELEVATOR, now=NOW + timedelta(minutes=5))

    assert over.outcome == Outcome.TOO_MANY_OPEN
    assert (over.open_count, over.open_numbers) == (3, (3, 2, 1))
    assert community.count() == 3


def test_staff_and_reports_filed_on_a_residents_behalf_are_never_capped_nor_seconded(
    community: Community,
) -> None:
    community.take("张", ELEVATOR)
    tight = Policy(max_open_tickets=1)

    by_staff = community.take("赵网格", ELEVATOR_AGAIN, policy=tight)
    on_behalf = {"channel": "phone", "filed_by": community.people["赵网格"]}
    by_phone = community.take("陈", ELEVATOR_AGAIN, policy=tight, **on_behalf)

    # A walk-in taken down by someone the console or CLI cannot name is still on behalf.
    by_someone = community.take("张", ELEVATOR_AGAIN + "（来访）", policy=tight, channel="visit")

    assert (by_staff.outcome, by_phone.outcome) == (Outcome.FILED, Outcome.FILED)
    assert by_someone.outcome == Outcome.FILED
    with community.db.session(read_only=True) as session:
        actor = session.scalars(
            select(TicketEvent.actor_id).where(TicketEvent.ticket_id == by_phone.ticket_id)
        ).one()
    assert actor == community.people["赵网格"]  # who filed it, on 陈's ticket


def test_the_ticket_records_the_channel_who_filed_it_and_the_phone_given(
    community: Community,
) -> None:
    """Written by intake as it files, so every channel (and later the API) gets it alike."""
    own = community.take("张", ELEVATOR)
    on_behalf = {"channel": "phone", "filed_by": community.people["赵网格"], "phone": "13900001111"}
    called = community.take("陈", "18号楼门口的路灯不亮了，晚上看不见路", **on_behalf)

    with community.db.session(read_only=True) as session:
        origins = [
            (t.channel, t.filed_by_id, t.phone)
            for t in (session.get(Ticket, own.ticket_id), session.get(Ticket, called.ticket_id))
            if t is not None
        ]
    assert origins == [
        ("wechat", None, None),
        ("phone", community.people["赵网格"], "13900001111"),
    ]


def test_a_building_hint_places_and_routes_the_report_there(community: Community) -> None:
    """A channel that knows where the problem is (a phone call about building 16)."""
    with community.db.session(read_only=True) as session:
        sixteen = session.scalars(select(Building.id).where(Building.name == "16")).one()

    filed = community.take("新", "楼道灯坏了好几天了", building_id=sixteen)

    assert community.ticket(filed.number)[0] == "赵网格"  # the building's grid worker
    with community.db.session(read_only=True) as session:
        ticket = session.get(Ticket, filed.ticket_id)
        assert ticket is not None and (ticket.building_id, ticket.place) == (sixteen, "16")


def test_a_hint_made_for_someone_else_is_not_trusted(community: Community) -> None:
    """Speculative routing that does not fit the report is worked out again."""
    stray = Hint(
        person_id=community.people["远"],
        building_id=None,
        community_id=None,
        topic="电梯设施",
        topic_id=None,
        sla_hours=None,
        route=Route(community.people["李主任"], "supervisor", Place(None, "18-1-101")),
    )

    filed = community.take("新", ELEVATOR, hint=stray)

    assert community.ticket(filed.number) == ("王师傅", "电梯设施", 0)


def test_a_hint_that_fits_saves_routing_inside_the_transaction(community: Community) -> None:
    """Made for this person and topic a moment before: its route is taken as it is."""
    with community.db.session(read_only=True) as session:
        lifts = session.scalars(select(Topic.id).where(Topic.name == "电梯设施")).one()
    fitting = Hint(
        person_id=community.people["新"],
        building_id=None,
        community_id=None,
        topic="电梯设施",
        topic_id=lifts,
        sla_hours=72,
        route=Route(community.people["李主任"], "supervisor", None),  # 王师傅 was away then
        text=ELEVATOR,  # the text whose place it looked for
    )

    filed = community.take("新", ELEVATOR, hint=fitting)

    assert (filed.outcome, community.ticket(filed.number)) == (
        Outcome.FILED,
        ("李主任", "电梯设施", 0),
    )

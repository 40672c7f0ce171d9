"""The street part of the demo data: a second community (和平社区) beside the first, each
community's supervisor, the street's duty officer, a few tickets in each community, and a
street-wide poll — so `make run` shows one street office running two communities.

Places and names repeat across the communities on purpose (each has a 第一网格 with a 1号楼):
names are unique within a community only. Running it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person, Ticket, touch_person
from models.communities import HOME_ID, add_community
from models.intake import Policy, Report, intake
from models.places import APPROVED, Binding, Building, Grid, Household
from models.polls import DRAFT, OPEN, Poll, PollSpec, create_poll
from models.rules import Classification
from models.staff import LEVEL_COMMUNITY, LEVEL_STAFF, LEVEL_STREET, StaffGrid, add_staff
from models.topics import topic_by_name

SECOND = "和平社区"
GRID = "第一网格"
# A 1号楼 as the first community has (names are per community), and an 8号楼 it has not.
BUILDINGS = ("1", "8")
ROOMS = ("101", "102", "201", "202")
WORKER = ("o_demo_peace_staff", "陈师傅", ("电梯设施", "物业服务", "环境卫生"))
# (openid, name, where, level): the escalation ladder's upper rungs.
LADDER = (
    ("o_demo_supervisor", "李主任", "first", LEVEL_COMMUNITY),
    ("o_demo_peace_supervisor", "周主任", "second", LEVEL_COMMUNITY),
    ("o_demo_street", "赵科长", "street", LEVEL_STREET),
)
# (openid, building, unit, room) in the second community.
RESIDENTS = (
    ("o_demo_peace_resident", "1", "1", "101"),
    ("o_demo_peace_neighbour", "8", "1", "202"),
)
# (openid, topic, text): the tickets each community starts with.
TICKETS = (
    ("o_demo_neighbour", "环境卫生", "2号楼门口的垃圾桶满了两天没人清运"),
    ("o_demo_peace_resident", "电梯设施", "1号楼电梯这两天总是停在三楼不动"),
    ("o_demo_peace_neighbour", "物业服务", "8号楼单元门的门禁坏了，外人随便进出"),
)
POLL_TITLE = "街道便民服务日放在周六还是周日"
POLL_DESCRIPTION = "街道每月举办一次便民服务日（义诊、理发、家电维修），请各社区居民投票选择日子。"
POLL_OPTIONS = ["周六", "周日"]
POLL_DAYS = 10


def add_street_data(db: Session, now: datetime) -> list[str]:
    """Make what is missing of the street's demo; one line per change."""
    second, made = add_community(db, SECOND, now)
    changes = [f"+ community {SECOND}"] if made else []
    changes += _places(db, second.id)
    changes += _residents(db, second.id, now)
    changes += _staff(db, second.id, now)
    changes += _poll(db, now)
    return changes


def add_demo_tickets(db: Session, now: datetime) -> list[str]:
    """A few tickets in each community, filed as the residents' messages would be.

    Apart from the places and people, and not (yet) added by `init --demo`: the README's
    walkthrough on the demo, and tests that file their own tickets on it, expect the first
    ticket they file to be #1."""
    return _tickets(db, now)


def _places(db: Session, community_id: int) -> list[str]:
    grid = _grid(db, community_id)
    if grid is not None:
        return []
    grid = Grid(name=GRID, community_id=community_id)
    db.add(grid)
    db.flush()
    for name in BUILDINGS:
        building = Building(name=name, community_id=community_id, grid_id=grid.id)
        db.add(building)
        db.flush()
        db.add_all(
            Household(building_id=building.id, unit="1", room=room, listed=True) for room in ROOMS
        )
    db.flush()
    return [
        f"+ {SECOND} grid {GRID}: buildings {'、'.join(BUILDINGS)}, {len(ROOMS)} households each"
    ]


def _grid(db: Session, community_id: int) -> Grid | None:
    return db.scalars(
        select(Grid).where(Grid.name == GRID, Grid.community_id == community_id)
    ).one_or_none()


def _residents(db: Session, community_id: int, now: datetime) -> list[str]:
    changes: list[str] = []
    for openid, building, unit, room in RESIDENTS:
        person = _person(db, openid)
        if person is None:
            touch_person(db.connection(), openid, now, wrote=False)
            person = _person(db, openid)
            assert person is not None
            changes.append(f"+ resident {openid} ({SECOND})")
        person.community_id = community_id
        if db.scalar(select(Binding.id).where(Binding.person_id == person.id)) is None:
            household = db.scalars(
                select(Household)
                .join(Building, Building.id == Household.building_id)
                .where(
                    Building.community_id == community_id,
                    Building.name == building,
                    Household.unit == unit,
                    Household.room == room,
                )
            ).one()
            db.add(
                Binding(
                    person_id=person.id,
                    household_id=household.id,
                    status=APPROVED,
                    created_at=now,
                    decided_at=now,
                    decided_by="demo",
                )
            )
            changes.append(f"+ binding {openid} → {SECOND} {building}-{unit}-{room} (approved)")
    db.flush()
    return changes


def _staff(db: Session, community_id: int, now: datetime) -> list[str]:
    """The second community's grid worker, and each level's person on duty."""
    changes: list[str] = []
    openid, name, topics = WORKER
    if _person(db, openid) is None:
        found = [t for t in topics if topic_by_name(db, t) is not None]
        worker = add_staff(db, openid, name, found, [], None, LEVEL_STAFF, now)
        worker.community_id = community_id
        grid = _grid(db, community_id)
        assert grid is not None
        grid.worker_id = worker.id
        db.add(StaffGrid(person_id=worker.id, grid_id=grid.id))
        changes.append(f"+ staff {openid} {name} ({SECOND} {GRID})")
    communities = {"first": HOME_ID, "second": community_id, "street": None}
    for openid, name, where, level in LADDER:
        if _person(db, openid) is not None:
            continue
        person = add_staff(db, openid, name, [], [], None, level, now)
        person.community_id = communities[where]
        changes.append(f"+ staff {openid} {name} (level {level})")
    db.flush()
    return changes


def _tickets(db: Session, now: datetime) -> list[str]:
    changes: list[str] = []
    policy = Policy(same_text_minutes=0, max_open_tickets=0)
    for openid, topic, text in TICKETS:
        person = _person(db, openid)
        if person is None:
            continue  # the first community's residents are made by demo.py first
        if db.scalar(select(Ticket.id).where(Ticket.person_id == person.id, Ticket.text == text)):
            continue
        report = Report(text=text, channel="wechat", person_id=person.id, now=now)
        taken = intake(db, report, policy, _classified_as(topic))
        changes.append(f"+ ticket #{taken.number} {text}")
    return changes


def _classified_as(topic: str) -> Callable[[str], Classification]:
    """The demo knows each ticket's topic: no classifier needed."""
    return lambda _text: Classification(topic=topic, score=1.0, unsure=False)


def open_poll_once(db: Session, spec: PollSpec, now: datetime) -> Poll | None:
    """Create the demo poll `spec` unless one with its title is still running (None then):
    running the demo again adds nothing."""
    running = db.scalars(
        select(Poll.id).where(Poll.title == spec.title, Poll.status.in_((DRAFT, OPEN))).limit(1)
    ).first()
    return create_poll(db, spec, now) if running is None else None


def _poll(db: Session, now: datetime) -> list[str]:
    spec = PollSpec(
        title=POLL_TITLE,
        description=POLL_DESCRIPTION,
        options=POLL_OPTIONS,
        closes_at=now + timedelta(days=POLL_DAYS),
        community_id=None,  # street-wide: every community's residents
    )
    poll = open_poll_once(db, spec, now)
    if poll is None:
        return []
    return [f"+ poll #{poll.number} {POLL_TITLE} (street-wide, open {POLL_DAYS} days)"]


def _person(db: Session, openid: str) -> Person | None:
    return db.scalars(select(Person).where(Person.openid == openid)).one_or_none()

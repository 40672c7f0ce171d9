"""The 议 part of the demo data: in the first community, one resident's proposal with some
backing (待立项), and one item that has been through the whole way to 公示 — accepted, put to a
meeting with minutes, voted on by household and decided — so that `make run` shows the 议题 tab,
an item's timeline and the pipeline on the 工作台 with content.

Made with the tables and models.agenda's `move` / `record` (the stage operations are their own
modules); the poll with the polls' own operations. The times are in the recent past, relative
to `now`. Running it again changes nothing: an item whose text is there already is left alone.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person
from models.agenda import (
    ACCEPTED,
    DELIBERATING,
    MEETING,
    MINUTES,
    POLL,
    PROPOSED,
    PUBLICISED,
    VOTING,
    AgendaBacking,
    AgendaItem,
    move,
    next_number,
    record,
    title_of,
)
from models.communities import HOME_ID
from models.meetings import ATTEND, Meeting, MeetingAgenda, MeetingInvite
from models.meetings import next_number as next_meeting
from models.places import approved_binding
from models.polls import HOUSEHOLD_UNIT, PollSpec, cast_ballot, close_poll, create_poll, decide_poll

RESIDENT, NEIGHBOUR = "o_demo_resident", "o_demo_neighbour"
BACKING_NEEDED = 10  # [deliberation] backing_threshold's default
PROPOSAL = "我提议在小区北门空地增加一组健身器材，方便老人锻炼。\n具体位置可以在议事会上商量。"
DECIDED = "1号楼楼道的灯经常不亮，建议换成声控灯，晚上回家安全些。"
MEETING_TITLE = "十一月居民议事会"
MINUTES_TEXT = "与会居民一致认为1号楼楼道照明需要改善，同意提交全楼住户表决。"
POLL_OPTIONS = ["同意更换声控灯", "维持现状"]
DECISION = "1号楼楼道更换为声控灯，费用由公共维修资金列支，12月底前完成。"
PUBLICITY_DAYS = 5


def add_demo_agenda(db: Session, now: datetime) -> list[str]:
    """Make what is missing of the demo's 议题; one line per change."""
    people = [_person_id(db, openid) for openid in (RESIDENT, NEIGHBOUR)]
    if None in people:
        return []  # the residents come first (demo.py); nothing to propose without them
    resident, neighbour = (p for p in people if p is not None)
    changes = []
    if _item(db, PROPOSAL) is None:
        item = _propose(db, PROPOSAL, resident, now - timedelta(days=2))
        for person in (resident, neighbour):
            _back(db, item, person, now - timedelta(days=1))
        changes.append(f"+ 议题 #{item.number} {item.title} (待立项, 2 backing)")
    if _item(db, DECIDED) is None:
        item = _propose(db, DECIDED, neighbour, now - timedelta(days=20))
        _back(db, item, resident, now - timedelta(days=19))
        meeting = _meeting(db, item, (resident, neighbour), now)
        poll = _vote(db, item, (resident, neighbour), now)
        _publish(db, item, now)
        changes.append(
            f"+ 议题 #{item.number} {item.title} (meeting #{meeting}, poll #{poll}, 公示中)"
        )
    return changes


def _person_id(db: Session, openid: str) -> int | None:
    return db.scalar(select(Person.id).where(Person.openid == openid))


def _item(db: Session, body: str) -> AgendaItem | None:
    return db.scalars(select(AgendaItem).where(AgendaItem.body == body).limit(1)).first()


def _propose(db: Session, body: str, person_id: int, at: datetime) -> AgendaItem:
    item = AgendaItem(
        number=next_number(db),
        title=title_of(body),
        body=body,
        community_id=HOME_ID,
        proposer_id=person_id,
        stage=PROPOSED,
        stage_at=at,
        created_at=at,
        backing_needed=BACKING_NEEDED,
    )
    db.add(item)
    db.flush()
    record(db, item, PROPOSED, at, person_id=person_id)
    return item


def _back(db: Session, item: AgendaItem, person_id: int, at: datetime) -> None:
    binding = approved_binding(db, person_id)
    assert binding is not None  # the demo's residents are bound
    unit = f"h{binding.household_id}"
    db.add(
        AgendaBacking(
            agenda_id=item.id,
            unit_key=unit,
            person_id=person_id,
            household_id=binding.household_id,
            created_at=at,
        )
    )
    db.flush()


def _meeting(db: Session, item: AgendaItem, people: tuple[int, int], now: datetime) -> int:
    accepted, held = now - timedelta(days=18), now - timedelta(days=12)
    move(db, item, ACCEPTED, accepted, actor="李主任")
    item.accepted_at = accepted
    meeting = Meeting(
        number=next_meeting(db),
        title=MEETING_TITLE,
        at=held,
        place="社区活动室",
        community_id=HOME_ID,
        invite="grid:第一网格",
        created_by="李主任",
        created_at=accepted,
        minutes=MINUTES_TEXT,
        attendees="李主任、居民代表 2 人",
        minutes_at=held + timedelta(hours=2),
        minutes_by="李主任",
    )
    db.add(meeting)
    db.flush()
    db.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id, summary=MINUTES_TEXT,
                         outcome="同意提交表决"))  # fmt: skip
    for person in people:
        db.add(MeetingInvite(meeting_id=meeting.id, person_id=person, answer=ATTEND,
                             answered_at=accepted + timedelta(hours=3)))  # fmt: skip
    move(db, item, DELIBERATING, accepted + timedelta(minutes=1), actor="李主任")
    record(db, item, MEETING, accepted + timedelta(minutes=1), text=f"#{meeting.number}")
    record(db, item, MINUTES, held + timedelta(hours=2), text=MINUTES_TEXT, actor="李主任")
    db.flush()
    return meeting.number


def _vote(db: Session, item: AgendaItem, people: tuple[int, int], now: datetime) -> int:
    opened = now - timedelta(days=11)
    spec = PollSpec(
        title=item.title,
        options=POLL_OPTIONS,
        closes_at=now - timedelta(days=8),
        scope="grid",
        grid="第一网格",
        unit=HOUSEHOLD_UNIT,
        community_id=HOME_ID,
    )
    poll = create_poll(db, spec, opened)
    poll.agenda_id = item.id
    move(db, item, VOTING, opened, actor="李主任")
    record(db, item, POLL, opened, text=f"#{poll.number}")
    for person in people:
        cast_ballot(db, poll, person, "A", opened + timedelta(hours=5))
    close_poll(db, poll, now - timedelta(days=8))
    decide_poll(db, poll, DECISION, now - timedelta(days=7))
    return poll.number


def _publish(db: Session, item: AgendaItem, now: datetime) -> None:
    at = now - timedelta(days=2)
    move(db, item, PUBLICISED, at, text=DECISION, actor="李主任")
    item.decision, item.publicised_at = DECISION, at
    item.objections_until = at + timedelta(days=PUBLICITY_DAYS)
    item.public_token = secrets.token_hex(16)

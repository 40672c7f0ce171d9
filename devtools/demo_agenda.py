"""The 议 part of the demo data, in the first community: a resident's proposal with some
backing (待立项); and one meeting (议事会, with minutes) that took two items — a resident's
proposal the meeting agreed on by consensus, made public (公示) and now being carried out
(落实, with an owner, a due date and a progress report), and the admin's item behind the demo's
household poll (#1, 表决中) — so that `make run` shows the 议题 tab, items' timelines and the
工作台's pipeline with content.

The vote is the demo's existing poll rather than a new one: a third demo poll would renumber
what README's walkthrough creates. Made with the tables and models.agenda's `move` / `record`
(the stage operations are their own modules). The times are in the recent past, relative to
`now`. Running it again changes nothing: an item whose text is there already is left alone.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person
from models.agenda import (
    ACCEPTED,
    ASSIGNED,
    CARRYING_OUT,
    CONFIRMED,
    DELIBERATING,
    MEETING,
    MINUTES,
    POLL,
    PROGRESS,
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
from models.meetings import ATTEND, EXCUSED, Meeting, MeetingAgenda, MeetingInvite
from models.meetings import next_number as next_meeting
from models.places import approved_binding
from models.polls import Poll

RESIDENT, NEIGHBOUR, STAFF = "o_demo_resident", "o_demo_neighbour", "o_demo_staff"
ADMIN = "李主任"  # the first community's supervisor (demo_street.py)
BACKING_NEEDED = 10  # [deliberation] backing_threshold's default
PROPOSAL = "我提议在小区北门空地增加一组健身器材，方便老人锻炼。\n具体位置可以在议事会上商量。"
DECIDED = "1号楼楼道的灯经常不亮，建议换成声控灯，晚上回家安全些。"
MEETING_TITLE = "十一月居民议事会"
MINUTES_TEXT = "与会居民一致认为1号楼楼道照明需要改善；充电桩事项涉及全楼住户，交付表决。"
AGREED = "达成共识：1号楼楼道更换为声控灯"
TO_VOTE = "提交住户表决（投票 #{poll}）"
DECISION = "1号楼楼道更换为声控灯，费用由公共维修资金列支，12月底前完成。"
OWNER_PARTY = "物业公司"
PROGRESS_TEXT = "已采购声控灯 12 盏，本周末安装。"
PUBLICITY_DAYS = 5


def add_demo_agenda(db: Session, now: datetime, poll_title: str) -> list[str]:
    """Make what is missing of the demo's 议题 (`poll_title`: the demo's household poll, the
    vote on the third item); one line per change."""
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
    poll = db.scalars(select(Poll).where(Poll.title == poll_title).order_by(Poll.id)).first()
    if _item(db, DECIDED) is None and poll is not None and poll.agenda_id is None:
        lamp = _propose(db, DECIDED, neighbour, now - timedelta(days=20))
        _back(db, lamp, resident, now - timedelta(days=19))
        charging = _opened(db, poll, now - timedelta(days=18))
        meeting = _meeting(db, (lamp, charging), (resident, neighbour), poll.number, now)
        _vote(db, charging, poll, now)
        _carry_out(db, lamp, now)
        changes.append(
            f"+ 议事会 #{meeting} {MEETING_TITLE} (议题 #{lamp.number}, #{charging.number})"
        )
        changes.append(f"+ 议题 #{lamp.number} {lamp.title} (达成共识, 公示, 落实中)")
        changes.append(f"+ 议题 #{charging.number} {charging.title} (表决中: poll #{poll.number})")
    return changes


def _person_id(db: Session, openid: str) -> int | None:
    return db.scalar(select(Person.id).where(Person.openid == openid))


def _item(db: Session, body: str) -> AgendaItem | None:
    return db.scalars(select(AgendaItem).where(AgendaItem.body == body).limit(1)).first()


def _propose(
    db: Session, body: str, person_id: int | None, at: datetime, created_by: str = ""
) -> AgendaItem:
    item = AgendaItem(
        number=next_number(db),
        title=title_of(body),
        body=body,
        community_id=HOME_ID,
        proposer_id=person_id,
        created_by=created_by,
        stage=PROPOSED,
        stage_at=at,
        created_at=at,
        backing_needed=BACKING_NEEDED if person_id is not None else 0,
    )
    db.add(item)
    db.flush()
    record(db, item, PROPOSED, at, person_id=person_id, actor=created_by)
    return item


def _opened(db: Session, poll: Poll, at: datetime) -> AgendaItem:
    """The admin's own item behind the demo poll: on the agenda at once."""
    item = _propose(db, poll.description or poll.title, None, at, created_by=ADMIN)
    item.title = title_of(poll.title)
    _accept(db, item, at)
    return item


def _accept(db: Session, item: AgendaItem, at: datetime) -> None:
    move(db, item, ACCEPTED, at, actor=ADMIN)
    item.accepted_at = at


def _back(db: Session, item: AgendaItem, person_id: int, at: datetime) -> None:
    binding = approved_binding(db, person_id)
    assert binding is not None  # the demo's residents are bound
    db.add(
        AgendaBacking(
            agenda_id=item.id,
            unit_key=f"h{binding.household_id}",
            person_id=person_id,
            household_id=binding.household_id,
            created_at=at,
        )
    )
    db.flush()


def _meeting(
    db: Session, items: tuple[AgendaItem, AgendaItem], people: tuple[int, int], poll: int,
    now: datetime,
) -> int:  # fmt: skip
    called, held = now - timedelta(days=18), now - timedelta(days=12)
    _accept(db, items[0], called)
    meeting = Meeting(
        number=next_meeting(db),
        title=MEETING_TITLE,
        at=held,
        place="社区活动室",
        community_id=HOME_ID,
        invite="grid:第一网格",
        created_by=ADMIN,
        created_at=called,
        minutes=MINUTES_TEXT,
        attendees=f"{ADMIN}、居民 1 人",
        minutes_at=held + timedelta(hours=2),
        minutes_by=ADMIN,
    )
    db.add(meeting)
    db.flush()
    outcomes = (AGREED, TO_VOTE.format(poll=poll))
    for position, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        db.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id, position=position,
                             summary=MINUTES_TEXT, outcome=outcome))  # fmt: skip
        move(db, item, DELIBERATING, called + timedelta(minutes=1), actor=ADMIN)
        record(db, item, MEETING, called + timedelta(minutes=1), text=f"#{meeting.number}")
        record(db, item, MINUTES, held + timedelta(hours=2), text=outcome, actor=ADMIN)
    for person, answer in zip(people, (ATTEND, EXCUSED), strict=True):
        db.add(MeetingInvite(meeting_id=meeting.id, person_id=person, answer=answer,
                             answered_at=called + timedelta(hours=3)))  # fmt: skip
    db.flush()
    return meeting.number


def _vote(db: Session, item: AgendaItem, poll: Poll, now: datetime) -> None:
    at = now - timedelta(days=11)
    poll.agenda_id = item.id
    move(db, item, VOTING, at, actor=ADMIN)
    record(db, item, POLL, at, text=f"#{poll.number}", actor=ADMIN)


def _carry_out(db: Session, item: AgendaItem, now: datetime) -> None:
    published, assigned = now - timedelta(days=10), now - timedelta(days=4)
    move(db, item, PUBLICISED, published, text=DECISION, actor=ADMIN)
    item.decision, item.publicised_at = DECISION, published
    item.objections_until = published + timedelta(days=PUBLICITY_DAYS)
    item.confirmed_at = item.objections_until
    record(db, item, CONFIRMED, item.objections_until, actor=ADMIN)
    item.public_token = secrets.token_hex(16)
    move(db, item, CARRYING_OUT, assigned, actor=ADMIN)
    item.owner_id, item.owner_party = _person_id(db, STAFF), OWNER_PARTY
    item.due_at = now + timedelta(days=16)
    record(db, item, ASSIGNED, assigned, text=OWNER_PARTY, actor=ADMIN)
    record(db, item, PROGRESS, now - timedelta(days=1), text=PROGRESS_TEXT, actor="王师傅")

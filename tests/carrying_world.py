"""An agenda item whose decision has been made public, with everyone who took part in it:
the state 落实 starts from, built directly (the earlier stages' operations are other parts of
issue #17). One community; the staff are the street's, on the ladder's three levels."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from models import Person, Role
from models.agenda import (
    ACCEPTED,
    PUBLICISED,
    VOTING,
    AgendaBacking,
    AgendaItem,
    move,
    next_number,
    title_of,
)
from models.communities import HOME_ID
from models.meetings import ATTEND, Meeting, MeetingAgenda, MeetingInvite
from models.polls import Ballot, Poll
from models.staff import add_staff

PROPOSAL = "我提议在小区北门空地增加一组健身器材，方便老人锻炼。"
DECISION = "年内在北门空地安装一组健身器材，由物业公司实施。"
# openid -> what they did; the bystander did nothing, the staff are on the ladder.
TOOK_PART = {"o_prop": "提议", "o_back": "附议", "o_vote": "投票", "o_meet": "参会"}
STAFF = {"o_wang": ("王芳", 1), "o_li": ("李主任", 2), "o_zhao": ("赵科长", 3)}


@dataclass
class World:
    number: int = 0
    item_id: int = 0
    people: dict[str, int] = field(default_factory=dict)


def _person(db: Session, openid: str, now: datetime) -> Person:
    person = Person(
        openid=openid,
        role=Role.RESIDENT,
        following=True,
        first_seen_at=now,
        last_seen_at=now,
        cs_sent=0,
        community_id=HOME_ID,
    )
    db.add(person)
    db.flush()
    return person


def publicised_item(
    db: Session, now: datetime, *, settled: bool = True, community_id: int | None = HOME_ID
) -> World:
    """A decided item in 公示 — its period over (`settled`) or still running — with its
    proposer, a backer, a voter and an attendee, a bystander, and the ladder's staff."""
    world = World()
    for openid, (name, level) in STAFF.items():
        world.people[openid] = add_staff(db, openid, name, (), (), None, level, now).id
    for openid in (*TOOK_PART, "o_other"):
        world.people[openid] = _person(db, openid, now).id
    item = AgendaItem(
        number=next_number(db),
        title=title_of(PROPOSAL),
        body=PROPOSAL,
        community_id=community_id,
        proposer_id=world.people["o_prop"],
        stage="proposed",
        stage_at=now - timedelta(days=30),
        created_at=now - timedelta(days=30),
        backing_needed=1,
    )
    db.add(item)
    db.flush()
    world.number, world.item_id = item.number, item.id
    backer = world.people["o_back"]
    db.add(
        AgendaBacking(agenda_id=item.id, unit_key=f"p{backer}", person_id=backer, created_at=now)
    )
    _vote_and_meeting(db, item, world, now)
    move(db, item, ACCEPTED, now - timedelta(days=20), actor="李主任")
    move(db, item, VOTING, now - timedelta(days=15))
    move(db, item, PUBLICISED, now - timedelta(days=10), text=DECISION)
    item.decision = DECISION
    item.publicised_at = now - timedelta(days=10)
    item.objections_until = now - timedelta(days=5) if settled else now + timedelta(days=2)
    db.flush()
    return world


def _vote_and_meeting(db: Session, item: AgendaItem, world: World, now: datetime) -> None:
    poll = Poll(
        number=901,
        title=item.title,
        options_json=json.dumps(["同意", "不同意"], ensure_ascii=False),
        community_id=item.community_id,
        agenda_id=item.id,
        opens_at=now - timedelta(days=15),
        closes_at=now - timedelta(days=11),
        status="decided",
        created_at=now - timedelta(days=15),
    )
    db.add(poll)
    db.flush()
    voter = world.people["o_vote"]
    db.add(Ballot(poll_id=poll.id, unit_key=f"p{voter}", voter_id=voter, choices="A", cast_at=now))
    # A paper ballot: nobody to tell.
    db.add(Ballot(poll_id=poll.id, unit_key="h999", entered_by="李主任", choices="A", cast_at=now))
    meeting = Meeting(
        number=1,
        title="北门空地议事会",
        at=now - timedelta(days=18),
        place="居委会会议室",
        community_id=item.community_id,
        invite="all",
        created_at=now - timedelta(days=25),
    )
    db.add(meeting)
    db.flush()
    db.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id))
    db.add(MeetingInvite(meeting_id=meeting.id, person_id=world.people["o_meet"], answer=ATTEND))
    # Invited, excused: did not take part.
    db.add(MeetingInvite(meeting_id=meeting.id, person_id=world.people["o_other"], answer=None))
    db.flush()

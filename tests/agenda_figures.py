"""A fixed set of 议题 for the pipeline figures and the annual report (test_agenda_reports.py):
two communities and the street, items at every point of the cycle, on a fixed clock.

东湖社区 (four items):
  #1 a resident's proposal: 立项 after 2 days, meeting #1 (3 invited: 2 参加, 1 请假), poll #1
     (ballots A, A, B), decision "=1+1 通过" (formula-like, as written), owner 王师傅 for 物业公司,
     完成 after 30 days; rated 满意, 基本满意, 不满意; 回头看: one says it held; one objection;
  #2 a resident's proposal, 立项 after 4 days, now 协商中;
  #3 a resident's proposal, still 待立项, backed by two households;
  #4 opened by an admin (李主任): on the agenda at once — left out of the waiting times.
西山社区: #5 declined after 1 day; #6 立项 after 6 days, 完成 after 20 days, rated 满意.
The street: #7 for every community, 立项 after 8 days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import Person, Role
from models.agenda import (
    ACCEPTED,
    CARRYING_OUT,
    DECLINED,
    DELIBERATING,
    DONE,
    PUBLICISED,
    VOTING,
    AgendaBacking,
    AgendaItem,
    AgendaObjection,
    AgendaRating,
    move,
    title_of,
)
from models.communities import add_community
from models.meetings import ATTEND, EXCUSED, Meeting, MeetingAgenda, MeetingInvite
from models.polls import Ballot, Poll

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10 March 2026, 10:00 in Shanghai
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
FIRST = "在北门空地增加一组健身器材，方便老人锻炼"
DECISION = "=1+1 通过"  # what a committee wrote; must never become a formula
RESULT = "已安装健身器材 6 件\n验收合格"


@dataclass
class Figures:
    east: int = 0
    west: int = 0
    people: list[int] = field(default_factory=list)  # residents 0..3, staff 4


def _person(db: Session, openid: str, community: int, role: Role = Role.RESIDENT) -> int:
    person = Person(
        openid=openid,
        role=role,
        following=True,
        first_seen_at=T0,
        last_seen_at=T0,
        cs_sent=0,
        name="王师傅" if role > Role.RESIDENT else None,
        community_id=community,
    )
    db.add(person)
    db.flush()
    return person.id


def _item(
    db: Session, number: int, community: int | None, text: str, created_by: str = ""
) -> AgendaItem:
    item = AgendaItem(
        number=number,
        title=title_of(text),
        body=text,
        community_id=community,
        created_by=created_by,
        stage="proposed",
        stage_at=T0,
        created_at=T0,
        backing_needed=2,
    )
    db.add(item)
    db.flush()
    return item


def _walk(db: Session, item: AgendaItem, *steps: tuple[str, float]) -> None:
    """Move the item through (stage, days after T0); 立项 and 完成 stamp their times."""
    for stage, days in steps:
        at = T0 + timedelta(days=days)
        move(db, item, stage, at)
        if stage == ACCEPTED:
            item.accepted_at = at
        if stage == DONE:
            item.done_at = at


def seed(db: Session) -> Figures:
    east = add_community(db, "东湖社区", T0)[0].id
    west = add_community(db, "西山社区", T0)[0].id
    figures = Figures(east, west)
    figures.people = [_person(db, f"o_resident_{n}", east) for n in range(4)]
    figures.people.append(_person(db, "o_staff_wang", east, Role.STAFF))
    first = _item(db, 1, east, FIRST + "\n具体位置可以再商量。")
    _walk(db, first, (ACCEPTED, 2), (DELIBERATING, 5), (VOTING, 8), (PUBLICISED, 12))
    _walk(db, first, (CARRYING_OUT, 18), (DONE, 30))
    first.decision, first.result = DECISION, RESULT
    first.publicised_at = T0 + timedelta(days=12)
    first.owner_id, first.owner_party = figures.people[4], "物业公司"
    first.due_at = T0 + timedelta(days=40)
    _meeting_and_poll(db, first, figures.people)
    _ratings(db, first, figures.people)
    second = _item(db, 2, east, "小区南门夜间照明不足")
    _walk(db, second, (ACCEPTED, 4), (DELIBERATING, 6))
    third = _item(db, 3, east, "+86 热线太难打通")  # formula-like too
    for n, person in enumerate(figures.people[:2]):
        db.add(AgendaBacking(agenda_id=third.id, unit_key=f"h{n}", person_id=person,
                             created_at=T0))  # fmt: skip
    fourth = _item(db, 4, east, "楼道堆物清理", created_by="李主任")
    _walk(db, fourth, (ACCEPTED, 0))
    fifth = _item(db, 5, west, "在西门开一个新门")
    _walk(db, fifth, (DECLINED, 1))
    fifth.decline_reason = "涉及消防通道，无法开门"
    sixth = _item(db, 6, west, "修补西山路面坑洼")
    _walk(db, sixth, (ACCEPTED, 6), (PUBLICISED, 10), (CARRYING_OUT, 12), (DONE, 20))
    db.add(AgendaRating(agenda_id=sixth.id, person_id=figures.people[3], rating=1,
                        rated_at=T0 + timedelta(days=21)))  # fmt: skip
    seventh = _item(db, 7, None, "全街道推行垃圾分类积分")
    _walk(db, seventh, (ACCEPTED, 8))
    db.flush()
    return figures


def _meeting_and_poll(db: Session, item: AgendaItem, people: list[int]) -> None:
    meeting = Meeting(
        number=1,
        title="三月议事会",
        at=T0 + timedelta(days=5),
        place="社区活动室",
        community_id=item.community_id,
        invite="reps",
        created_at=T0 + timedelta(days=3),
        minutes="议定：北门空地安装健身器材",
    )
    db.add(meeting)
    db.flush()
    db.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id, outcome="同意提交表决"))
    for person, answer in zip(people[:3], (ATTEND, ATTEND, EXCUSED), strict=True):
        db.add(MeetingInvite(meeting_id=meeting.id, person_id=person, answer=answer,
                             answered_at=T0 + timedelta(days=4)))  # fmt: skip
    poll = Poll(
        number=1,
        title="北门健身器材",
        options_json=json.dumps(["同意", "不同意"], ensure_ascii=False),
        community_id=item.community_id,
        agenda_id=item.id,
        opens_at=T0 + timedelta(days=8),
        closes_at=T0 + timedelta(days=11),
        status="decided",
        decision="同意安装",
        created_at=T0 + timedelta(days=8),
    )
    db.add(poll)
    db.flush()
    for n, choice in enumerate("AAB"):
        db.add(Ballot(poll_id=poll.id, unit_key=f"p{people[n]}", voter_id=people[n],
                      choices=choice, cast_at=T0 + timedelta(days=9)))  # fmt: skip
    db.add(AgendaObjection(agenda_id=item.id, person_id=people[2], text="=HYPERLINK(\"x\")",
                           created_at=T0 + timedelta(days=13)))  # fmt: skip


def _ratings(db: Session, item: AgendaItem, people: list[int]) -> None:
    rated = T0 + timedelta(days=31)
    for person, rating in zip(people[:3], (1, 2, 3), strict=True):
        db.add(AgendaRating(agenda_id=item.id, person_id=person, rating=rating, rated_at=rated,
                            held=True if rating == 1 else None))  # fmt: skip

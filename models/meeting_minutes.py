"""纪要: a meeting's minutes — attendees, the text, each agenda item's summary and outcome.

Recorded once and pushed to the invitees and the items' backers (each person once); recorded
again, they are corrected and nothing is pushed again. The outcome is kept as written: for a
consensus reached without a vote it is what 公示 takes as the decision (`latest_outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from words.agenda import decides

from . import agenda as stages
from .agenda import AgendaItem
from .agenda_people import backers
from .meeting_ops import MeetingError, agenda_of
from .meetings import Meeting, MeetingAgenda, MeetingInvite
from .outbox import enqueue
from .pushes import MEETING_MINUTES

MINUTES_PUSHED = 500  # characters of the minutes a push carries (the renderer shortens more)


@dataclass(frozen=True)
class ItemMinutes:
    summary: str  # as written ("" when none)
    outcome: str  # as written: 达成共识：… / 提交表决 / 暂缓


@dataclass(frozen=True)
class Minutes:
    attendees: str
    text: str
    items: dict[int, ItemMinutes]  # by agenda item number


def record_minutes(db: Session, meeting: Meeting, minutes: Minutes, by: str, now: datetime) -> bool:
    """Record (True) or correct (False: nothing pushed again) the meeting's minutes: each
    item's summary and outcome, a MINUTES event on each item (on a correction: each whose
    record changed); the first time, the minutes go to the invitees and the items' backers,
    each person once."""
    if now < meeting.at:
        raise MeetingError("not_held", number=meeting.number)
    if not minutes.attendees.strip():
        raise MeetingError("no_attendees")
    if not minutes.text.strip():
        raise MeetingError("no_text")
    agenda = agenda_of(db, meeting)
    on_agenda = {item.number for _, item in agenda}
    for number in minutes.items:
        if number not in on_agenda:
            raise MeetingError("not_on_agenda", number=number, agenda=sorted(on_agenda))
    first = meeting.minutes_at is None
    for row, item in agenda:
        # The minutes are the whole record: an item they leave out has no summary or outcome.
        written = minutes.items.get(item.number, ItemMinutes("", ""))
        summary, outcome = written.summary or None, written.outcome or None
        if first or (row.summary, row.outcome) != (summary, outcome):
            row.summary, row.outcome = summary, outcome
            text = written.summary or written.outcome
            stages.record(db, item, stages.MINUTES, now, text=text, actor=by)
    meeting.attendees, meeting.minutes = minutes.attendees, minutes.text
    meeting.minutes_by = by
    if first:
        meeting.minutes_at = now
        _push_minutes(db, meeting, agenda, now)
    db.flush()
    return first


def _push_minutes(
    db: Session, meeting: Meeting, agenda: list[tuple[MeetingAgenda, AgendaItem]], now: datetime
) -> None:
    people = set(
        db.scalars(select(MeetingInvite.person_id).where(MeetingInvite.meeting_id == meeting.id))
    )
    for _, item in agenda:
        people.update(backers(db, item.id))
    outcomes = [[item.number, item.title, row.outcome or ""] for row, item in agenda]
    text = (meeting.minutes or "")[:MINUTES_PUSHED]
    for person_id in sorted(people):
        push = MEETING_MINUTES.push(
            person_id,
            meeting=meeting.id,
            number=meeting.number,
            title=meeting.title,
            minutes=text,
            outcomes=outcomes,
        )
        enqueue(db, push, now)


def latest_outcome(db: Session, agenda_id: int) -> str | None:
    """The outcome the latest meeting's minutes wrote for the item (as written), or None: what
    公示 takes as the decision of a consensus reached without a vote. The latest meeting
    speaks for the item: when it deferred or sent it to a vote (提交表决, 暂缓), there is none."""
    outcome = db.scalar(
        select(MeetingAgenda.outcome)
        .join(Meeting, Meeting.id == MeetingAgenda.meeting_id)
        .where(
            MeetingAgenda.agenda_id == agenda_id,
            MeetingAgenda.outcome.is_not(None),
            MeetingAgenda.outcome != "",
        )
        .order_by(Meeting.at.desc(), Meeting.id.desc())
        .limit(1)
    )
    return outcome if outcome and decides(outcome) else None

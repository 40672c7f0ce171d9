"""议事会 as acts: call a meeting, answer 参加 / 请假 (the reminder: models/sweeps/meetings.py,
the minutes: models/meeting_minutes.py).

Every channel (CLI, console, chat, the scheduler) goes through these; each decides, writes and
records its pushes in the caller's transaction, and refuses with a `MeetingError` whose
`reason` names the rule (the channels put it in their own words).

Calling a meeting fixes who is invited (see models/meetings.py) and moves each agenda item
to `deliberating` with a MEETING event on its timeline. The meeting's community is the one
the caller acts for; the street (None) calls a meeting on its own street-wide items, or on
one community's items (the meeting is then that community's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import agenda as stages
from .agenda import AgendaError, AgendaItem, agenda_by_number
from .agenda_people import residents_in_scope
from .audience import PlaceError, effective_community, residents_of
from .meetings import (
    ATTEND,
    EXCUSED,
    Meeting,
    MeetingAgenda,
    MeetingInvite,
    Representative,
    next_number,
)
from .outbox import enqueue
from .people import Person
from .pushes import MEETING_INVITED

TITLE_MAX = PLACE_MAX = 100
INVITE_MAX = 200
# Items a meeting may take up: on the agenda, not yet decided.
MEETABLE = (stages.ACCEPTED, stages.DELIBERATING, stages.VOTING)


class MeetingError(ValueError):
    """A meeting act the rules refuse; `reason` names the rule, `details` the particulars."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class MeetingSpec:
    title: str
    at: datetime  # aware
    place: str
    agenda: Sequence[int]  # item numbers, in the order given
    invite: str  # reps, all, grid:G, building:B[,B…], comma-separated
    created_by: str = ""


Invite = tuple[str, str]  # (kind, value): ("reps", ""), ("grid", "第一网格") …


def parse_invite(spec: str) -> list[Invite]:
    """`reps,all,grid:G,building:B1,B2` -> its parts; a bare name after grid:/building: is
    one more of the same kind. MeetingError("invite") names a part it cannot read."""
    parts: list[Invite] = []
    kind = ""
    for raw in spec.replace("，", ",").replace("：", ":").split(","):
        word = raw.strip()
        if not word:
            continue
        head, colon, rest = word.partition(":")
        head = head.strip().lower()
        if not colon and head in ("reps", "all"):
            kind = head
            parts.append((head, ""))
        elif colon and head in ("grid", "building", "buildings") and rest.strip():
            kind = "grid" if head == "grid" else "building"
            parts.append((kind, rest.strip()))
        elif not colon and kind in ("grid", "building"):
            parts.append((kind, word))
        else:
            raise MeetingError("invite", part=word)
    if not parts:
        raise MeetingError("invite", part=spec)
    return parts


def _checked_text(value: str, limit: int, reason: str) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise MeetingError(reason, limit=limit, length=len(text))
    return text


def _items(db: Session, numbers: Sequence[int], community_id: int | None) -> list[AgendaItem]:
    """The agenda items, checked: known in the caller's scope, meetable, of one community."""
    if not numbers:
        raise MeetingError("no_agenda")
    items: list[AgendaItem] = []
    wanted = effective_community(db, community_id)  # one community: every item is its
    for number in dict.fromkeys(numbers):
        item = agenda_by_number(db, number)
        if item is None or (wanted is not None and item.community_id != wanted):
            if item is not None and item.community_id is None:
                raise MeetingError("street_item", number=number)
            raise MeetingError("unknown_item", number=number)
        if item.stage not in MEETABLE:
            raise MeetingError("item_stage", number=number, stage=item.stage)
        items.append(item)
    if len({effective_community(db, item.community_id) for item in items}) > 1:
        raise MeetingError("mixed_items", numbers=[item.number for item in items])
    return items


def invitees(db: Session, parts: Sequence[Invite], community_id: int | None) -> list[int]:
    """Who the invitation reaches now: each person once."""
    people: set[int] = set()
    grids = [value for kind, value in parts if kind == "grid"]
    buildings = [value for kind, value in parts if kind == "building"]
    if ("reps", "") in parts:
        query = select(Representative.person_id)
        wanted = effective_community(db, community_id)  # one community: every rep is its
        if wanted is not None:
            query = query.where(Representative.community_id == wanted)
        people.update(db.scalars(query))
    if ("all", "") in parts:
        people.update(residents_in_scope(db, community_id))
    try:
        for grid_names, building_names in ((grids, []), ([], buildings)):
            if grid_names or building_names:
                found, _ = residents_of(db, community_id, grid_names, building_names)
                people.update(p.id for p in found if p.following)
    except PlaceError as exc:
        raise MeetingError("places", message=str(exc)) from None
    return sorted(people)


def call_meeting(
    db: Session, spec: MeetingSpec, community_id: int | None, now: datetime, tz: tzinfo
) -> Meeting:
    """Call a meeting (`community_id`: the caller's scope, None the street): check, number,
    invite, move its items to 协商中 and push each invitee the invitation."""
    title = _checked_text(spec.title, TITLE_MAX, "title")
    place = _checked_text(spec.place, PLACE_MAX, "place")
    invite = spec.invite.strip()
    if len(invite) > INVITE_MAX:
        raise MeetingError("invite_long", limit=INVITE_MAX)
    parts = parse_invite(invite)
    if spec.at <= now:
        raise MeetingError("past", at=spec.at)
    items = _items(db, spec.agenda, community_id)
    owner = items[0].community_id if community_id is None else community_id
    people = invitees(db, parts, owner)
    meeting = Meeting(
        number=next_number(db),
        title=title,
        at=spec.at,
        place=place,
        community_id=owner,
        invite=invite,
        created_by=spec.created_by,
        created_at=now,
    )
    db.add(meeting)
    db.flush()
    for position, item in enumerate(items):
        db.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id, position=position))
        try:
            stages.move(db, item, stages.DELIBERATING, now, actor=spec.created_by)
        except AgendaError:  # MEETABLE keeps this from happening; say so if it ever does
            raise MeetingError("item_stage", number=item.number, stage=item.stage) from None
        stages.record(
            db, item, stages.MEETING, now, text=f"#{meeting.number}", actor=spec.created_by
        )
    agenda = [[item.number, item.title] for item in items]
    at = meeting.at.astimezone(tz).isoformat()
    for person_id in people:
        db.add(MeetingInvite(meeting_id=meeting.id, person_id=person_id))
        push = MEETING_INVITED.push(
            person_id,
            meeting=meeting.id,
            number=meeting.number,
            title=title,
            at=at,
            place=place,
            agenda=agenda,
        )
        enqueue(db, push, now)
    db.flush()
    return meeting


# -- 参加 / 请假 -------------------------------------------------------------------------------

RECORDED, CHANGED, SAME = "recorded", "changed", "same"


def answer(
    db: Session, meeting: Meeting, person_id: int, said: str, now: datetime, reason: str = ""
) -> str:
    """An invitee's 参加 (ATTEND) or 请假 (EXCUSED, with a reason as written); RECORDED the
    first time, CHANGED or SAME after. MeetingError: not invited, cancelled, started."""
    assert said in (ATTEND, EXCUSED), said
    invite = db.scalar(
        select(MeetingInvite).where(
            MeetingInvite.meeting_id == meeting.id, MeetingInvite.person_id == person_id
        )
    )
    if invite is None:
        raise MeetingError("not_invited", number=meeting.number)
    if meeting.cancelled_at is not None:
        raise MeetingError("cancelled", number=meeting.number)
    if now >= meeting.at:
        raise MeetingError("started", number=meeting.number)
    kept = (reason.strip() or None) if said == EXCUSED else None
    outcome = RECORDED if invite.answer is None else CHANGED
    if invite.answer == said and invite.reason == kept:
        outcome = SAME
    invite.answer, invite.reason, invite.answered_at = said, kept, now
    db.flush()
    return outcome


def agenda_of(db: Session, meeting: Meeting) -> list[tuple[MeetingAgenda, AgendaItem]]:
    """The meeting's agenda in its order, each row with its item."""
    rows = db.execute(
        select(MeetingAgenda, AgendaItem)
        .join(AgendaItem, AgendaItem.id == MeetingAgenda.agenda_id)
        .where(MeetingAgenda.meeting_id == meeting.id)
        .order_by(MeetingAgenda.position, AgendaItem.number)
    ).all()
    return [(row, item) for row, item in rows]


def invite_rows(db: Session, meeting: Meeting) -> list[tuple[MeetingInvite, Person]]:
    rows = db.execute(
        select(MeetingInvite, Person)
        .join(Person, Person.id == MeetingInvite.person_id)
        .where(MeetingInvite.meeting_id == meeting.id)
        .order_by(MeetingInvite.id)
    ).all()
    return [(invite, person) for invite, person in rows]


def forget_answers(db: Session, person_id: int, erased_text: str) -> dict[str, int]:
    """Erasure (models/privacy.py): the person's 请假 reasons give way to `erased_text`; their
    answers stay (a meeting's counts do not change). The rest of their part in the cycle,
    the representatives' list included, is models/privacy_agenda.py's."""
    reasons = db.scalars(
        select(MeetingInvite).where(
            MeetingInvite.person_id == person_id, MeetingInvite.reason.is_not(None)
        )
    ).all()
    for invite in reasons:
        invite.reason = erased_text
    db.flush()
    return {"meeting_reasons": len(reasons)}

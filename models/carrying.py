"""落实: who carries out a decided 议题 and by when, what they report on the way, and 完成.

`assign` names a staff member answerable for the work — the owner, or the one answering for
a named outside party (物业公司) doing it — and a due date; the item moves to `carrying_out`
and the staff member is pushed. Assigning again changes the owner or the date (and starts the
overdue ladder afresh). `report_progress` (进展) puts a report on the timeline exactly as
written and pushes it to the proposer, backers and voters; `complete` (完成) records the
result, closes the item and asks everyone who took part for their 评议 (agenda_ratings.py).

A decision is carried out only once its 公示 is settled: an admin confirmed it
(`confirmed_at`), or its objection period (`objections_until`) has passed with no objection
raised. Objections wait for an admin to confirm (or withdraw) the decision; a period with no
end is settled only by confirming.

The channels (chat, CLI, console) check who acts; `may_report` is the chat's rule for 进展 and
完成: the staff member answerable, or the admins and supervisors of the item's community or
of the street. Refusals are `AgendaError(reason)`; the texts of each channel key on `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .agenda import (
    ASSIGNED,
    CARRYING_OUT,
    DONE,
    PROGRESS,
    PUBLICISED,
    AgendaError,
    AgendaItem,
    AgendaObjection,
    move,
    record,
)
from .agenda_people import participants, staff_scope
from .agenda_ratings import ask_ratings
from .audience import several_communities
from .outbox import enqueue
from .people import Person, Role
from .pushes import AGENDA_ASSIGNED, AGENDA_PROGRESS
from .staff import LEVEL_COMMUNITY

PARTY_MAX = 64  # agenda_item.owner_party's length
TEXT_MAX = 1000  # a progress report or a result, as written


def parse_due(text: str, tz: tzinfo) -> datetime | None:
    """A due date as an admin types it: 2026-12-20 (the end of that day), or a time
    (2026-12-20 18:00, 2026-12-20T18:00+08:00); naive means `tz`. None: not a date."""
    text = text.strip().replace("/", "-")
    try:
        if len(text) <= 10:
            moment = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(23, 59))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Assigned:
    """What `assign` did: to whom, and whether it replaced an earlier owner or date."""

    staff_id: int
    staff_name: str
    party: str | None
    reassigned: bool


def publicity_unsettled(db: Session, item: AgendaItem, now: datetime) -> str | None:
    """Why the item's decision may not be carried out yet (a reason), or None when it may."""
    if item.confirmed_at is not None:
        return None
    if item.objections_until is None or item.objections_until > now:
        return "publicity_open"
    objections = db.scalar(
        select(func.count(AgendaObjection.id)).where(AgendaObjection.agenda_id == item.id)
    )
    return "objections" if objections else None


def _staff_query(db: Session, item: AgendaItem) -> Select[Any]:
    """Staff who may answer for the item: its community's or the street's (a street-wide
    item: the street's; while the street has one community: anyone)."""
    query = select(Person).where(Person.role.in_((Role.STAFF, Role.ADMIN)))
    if several_communities(db):
        if item.community_id is None:
            return query.where(Person.community_id.is_(None))
        return query.where(
            (Person.community_id == item.community_id) | Person.community_id.is_(None)
        )
    return query


def staff_names(db: Session, item: AgendaItem) -> list[str]:
    """The names an owner may be given by (the console's suggestions)."""
    found = db.scalars(_staff_query(db, item).with_only_columns(Person.name))
    return sorted({str(name) for name in found if name})


def staff_named(db: Session, name: str, item: AgendaItem) -> Person:
    """The one staff member called `name` who may answer for the item (_staff_query)."""
    name = name.strip()
    query = _staff_query(db, item).where(Person.name == name)
    found: list[Person] = list(db.scalars(query.order_by(Person.id).limit(5)))
    if not found:
        raise AgendaError("owner_unknown", name=name)
    if len(found) > 1:
        raise AgendaError("owner_ambiguous", name=name, count=len(found))
    return found[0]


def _checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise AgendaError("text_missing")
    if len(text) > TEXT_MAX:
        raise AgendaError("text_long", limit=TEXT_MAX)
    return text


def _stage_is(item: AgendaItem, *stages: str) -> None:
    if item.stage not in stages:
        raise AgendaError("stage", stage=item.stage, number=item.number)


def assign(
    db: Session,
    item: AgendaItem,
    now: datetime,
    *,
    owner: str,
    due_at: datetime,
    answerable: str | None = None,
    tz: tzinfo = UTC,
    actor: str = "",
    person_id: int | None = None,
) -> Assigned:
    """落实: `owner` (a staff member's name; with `answerable`, an outside party's, and
    `answerable` the staff member's) carries out the decision by `due_at` (pushed as read
    in `tz`)."""
    _stage_is(item, PUBLICISED, CARRYING_OUT)
    if item.stage == PUBLICISED:
        reason = publicity_unsettled(db, item, now)
        if reason is not None:
            raise AgendaError(reason, number=item.number, until=item.objections_until)
    owner = owner.strip()
    party = owner if answerable and answerable.strip() else None
    if not owner:
        raise AgendaError("owner_missing")
    if party is not None and len(party) > PARTY_MAX:
        raise AgendaError("party_long", limit=PARTY_MAX)
    if due_at <= now:
        raise AgendaError("due_past")
    staff = staff_named(db, answerable if party is not None and answerable else owner, item)
    reassigned = item.stage == CARRYING_OUT
    item.owner_id, item.owner_party = staff.id, party
    item.due_at, item.overdue_level = due_at, 0
    if not reassigned:
        move(db, item, CARRYING_OUT, now, actor=actor, person_id=person_id)
    label = f"{party}（{staff.name}负责）" if party else str(staff.name)
    event = record(db, item, ASSIGNED, now, text=label, actor=actor, person_id=person_id)
    values = {"party": party} if party else {}
    push = AGENDA_ASSIGNED.push(
        staff.id,
        agenda=item.id,
        number=item.number,
        title=item.title,
        decision=item.decision or "",
        due_at=due_at.astimezone(tz).isoformat(),  # read in the community's zone
        event=f"assigned:{event.id}",
        **values,
    )
    enqueue(db, push, now)
    return Assigned(staff.id, str(staff.name), party, reassigned)


def may_report(db: Session, person_id: int, item: AgendaItem) -> bool:
    """进展 / 完成 by chat: the staff member answerable, or an admin or supervisor (level 2+)
    of the item's community or of the street."""
    person = db.get(Person, person_id)
    if person is None or person.role < Role.STAFF:
        return False
    if person.id == item.owner_id:
        return True
    above = person.role >= Role.ADMIN or person.staff_level >= LEVEL_COMMUNITY
    ours = staff_scope(db, person_id).owns(item.community_id) or not several_communities(db)
    return above and ours


def progress_audience(db: Session, item: AgendaItem) -> list[int]:
    """Who hears of progress: the proposer, backers and voters still in the item's scope."""
    return participants(db, item, attendees_too=False, in_scope=True)


def report_progress(
    db: Session,
    item: AgendaItem,
    text: str,
    now: datetime,
    *,
    actor: str = "",
    person_id: int | None = None,
) -> int:
    """进展: on the timeline as written, pushed to the proposer, backers and voters (each
    once, not the reporter); how many were told."""
    _stage_is(item, CARRYING_OUT)
    text = _checked_text(text)
    event = record(db, item, PROGRESS, now, text=text, actor=actor, person_id=person_id)
    told = [p for p in progress_audience(db, item) if p != person_id]
    for resident in told:
        push = AGENDA_PROGRESS.push(
            resident,
            agenda=item.id,
            number=item.number,
            title=item.title,
            text=text,
            event=f"progress:{event.id}",
        )
        enqueue(db, push, now)
    return len(told)


def complete(
    db: Session,
    item: AgendaItem,
    result: str,
    now: datetime,
    *,
    review_days: float,
    actor: str = "",
    person_id: int | None = None,
) -> int:
    """完成: the result as written closes the item; the 回头看 is due `review_days` later;
    everyone who took part is asked for a 评议. How many were asked."""
    _stage_is(item, CARRYING_OUT)
    result = _checked_text(result)
    move(db, item, DONE, now, text=result, actor=actor, person_id=person_id)
    item.result, item.done_at = result, now
    item.review_due_at = now + timedelta(days=review_days)
    return ask_ratings(db, item, now)

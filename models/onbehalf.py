"""代居民登记: staff file a request for a resident who phoned, walked in or was met on patrol.

Who it is for: the person behind an openid when staff give one; else the one resident whose
approved binding has the phone the resident gave (two residents sharing a phone: nobody —
a push must not reach the wrong member of a family); else nobody, and the ticket keeps the
phone. A resident the account reaches (known and following) gets every push as if they had
written themself; for anyone else staff call back (电话回访) and record the answer.

Every rule of intake (same text, 附议, the cap, routing) is `intake()`'s: this module only
works out who the report is for, checks what staff typed, and records who filed it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from words import clean, fold

from .intake import Intake, Policy, Report, intake
from .lifecycle import Actor
from .people import Person, Role
from .places import APPROVED, Binding, Building, Household, approved_binding, find_building
from .rules import Classification
from .tickets import Ticket

STAFF_CHANNELS = ("phone", "visit", "patrol")
# Channels where a resident spoke to staff: someone must be reachable for the call back.
# (On patrol a 网格员 may report what they saw themself, with nobody to call.)
NEEDS_CONTACT = ("phone", "visit")
PHONE_MAX = 20  # ticket.phone and binding.phone are String(20)
_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(rf"[0-9]{{5,{PHONE_MAX}}}")


class OnBehalfError(Exception):
    """What staff typed cannot be filed; `reason` names it (words/channels.py ON_BEHALF_ERRORS)."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(f"{reason}: {value}" if value else reason)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class OnBehalf:
    """A report as staff took it down: checked and resolved into a `Report` by `file_for`."""

    channel: str
    text: str
    now: datetime
    filed_by: int | None  # the staff member filing (None: an admin without a person)
    phone: str | None = None
    building: str | None = None
    openid: str | None = None
    # The community it is filed in (the filing account's, or the street's choice): the
    # building is looked up there, and so is a resident found by phone. None: anywhere.
    community_id: int | None = None


def normalize_phone(raw: str) -> str:
    """The digits of a phone as given (full-width, spaces, dashes and +86 allowed)."""
    phone = _PHONE_NOISE.sub("", fold(raw))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix) and len(phone) > len(prefix) + 6:
            phone = phone[len(prefix) :]
    if not _PHONE.fullmatch(phone):
        raise OnBehalfError("bad_phone", raw)
    return phone


def resident_for(
    db: Session, *, openid: str | None, phone: str | None, community: int | None = None
) -> Person | None:
    """The resident a report is for: by openid, else by a phone bound to exactly one person
    (in `community`'s households when given)."""
    if openid:
        person = db.scalars(select(Person).where(Person.openid == openid)).one_or_none()
        if person is None or (
            community is not None and person.community_id not in (None, community)
        ):
            raise OnBehalfError("unknown_openid", openid)  # another community's: not here
        return person
    if not phone:
        return None
    query = select(Binding.person_id).where(Binding.phone == phone, Binding.status == APPROVED)
    if community is not None:
        query = (
            query.join(Household, Household.id == Binding.household_id)
            .join(Building, Building.id == Household.building_id)
            .where(Building.community_id == community)
        )
    owners = set(db.scalars(query))
    return db.get(Person, owners.pop()) if len(owners) == 1 else None


def file_for(
    db: Session, request: OnBehalf, policy: Policy, classify: Callable[[str], Classification]
) -> Intake:
    """Check the request, find the resident, and hand it to the one intake."""
    return intake(db, _report(db, request), policy, classify)


def _report(db: Session, request: OnBehalf) -> Report:
    if request.channel not in STAFF_CHANNELS:
        raise OnBehalfError("bad_channel", request.channel)
    text = clean(request.text)
    if not text:
        raise OnBehalfError("empty_text")
    if request.filed_by is not None:
        staff = db.get(Person, request.filed_by)
        if staff is None or staff.role < Role.STAFF:
            raise OnBehalfError("not_staff", staff.openid if staff else str(request.filed_by))
    phone = normalize_phone(request.phone) if request.phone and request.phone.strip() else None
    building_id = None
    if request.building and request.building.strip():
        building = find_building(db, request.building, request.community_id)
        if building is None:
            raise OnBehalfError("unknown_building", request.building.strip())
        building_id = building.id
    resident = resident_for(db, openid=request.openid, phone=phone, community=request.community_id)
    if resident is None and phone is None and request.channel in NEEDS_CONTACT:
        raise OnBehalfError("no_contact")
    return Report(
        text=text,
        channel=request.channel,
        person_id=resident.id if resident is not None else None,
        now=request.now,
        filed_by=request.filed_by,
        phone=phone,
        building_id=building_id,
        community_id=request.community_id,
    )


def reachable(db: Session, tickets: Iterable[Ticket]) -> set[int]:
    """The ids of those tickets whose resident the account reaches (known and following);
    every other one needs 电话回访."""
    by_person = {t.id: t.person_id for t in tickets if t.person_id is not None}
    if not by_person:
        return set()
    following = set(
        db.scalars(
            select(Person.id).where(Person.id.in_(set(by_person.values())), Person.following)
        )
    )
    return {ticket_id for ticket_id, pid in by_person.items() if pid in following}


def callback_phone(db: Session, ticket: Ticket) -> str | None:
    """The number to call: the one the resident gave staff, else the one on their binding."""
    if ticket.phone or ticket.person_id is None:
        return ticket.phone
    binding = approved_binding(db, ticket.person_id)
    return binding.phone if binding is not None else None


def needs_callback(db: Session, ticket: Ticket) -> bool:
    """Staff must call the resident back: the account cannot reach them."""
    return ticket.id not in reachable(db, [ticket])


# 电话回访's answers: a rating (ratings.py), or nobody answered.
UNREACHED = "none"
CALLBACK_ANSWERS = ("1", "2", "3", UNREACHED)


def record_callback(
    db: Session,
    ticket: Ticket,
    actor: Actor,
    answer: str,
    note: str,
    now: datetime,
    tz: tzinfo,
    *,
    sla_hours: float,
) -> None:
    """电话回访: staff called the resident and record what they said.

    A resolved ticket is rated with the resident's answer, as if they had rated it by chat
    (满意 / 基本满意 close it, 不满意 reopens it); a closed one (回头看) is reopened when the
    resident says the problem is back. 未接通 (nobody answered) only goes on the timeline,
    so the next call is still due and the rating sweep closes it unrated in the end, as it
    does a resident's silence.
    """
    from words.channels import CALLBACK, CALLBACK_RESULTS

    from .lifecycle import IllegalMove, record_event
    from .ratings import DISSATISFIED, rate, reopen_by_followup

    if answer not in CALLBACK_ANSWERS:
        raise ValueError(f"a call back's answer is one of {CALLBACK_ANSWERS}, not {answer!r}")
    if answer != UNREACHED and ticket.status not in ("resolved", "closed"):
        raise IllegalMove(ticket, "callback")
    said = f"{CALLBACK}：{CALLBACK_RESULTS[answer]}" + (f"。{clean(note)}" if clean(note) else "")
    record_event(db, ticket, "callback", actor, now, before=ticket.status, note=said)
    ticket.updated_at = now
    if answer == UNREACHED:
        return
    score = int(answer)
    if ticket.status == "resolved":
        rate(db, ticket, ticket.person_id, score, now, tz, sla_hours=sla_hours, actor=actor)
    elif score == DISSATISFIED:
        reopen_by_followup(db, ticket, ticket.person_id, now, tz, sla_hours=sla_hours, actor=actor)

"""议事代表: the residents' representatives a community's admins list, and how they name one.

An admin names a person in one of three ways, tried in this order:
- the openid the person writes from (exactly);
- a phone number a bound resident gave when binding (approved bindings only);
- a household address such as 16-2-501, when exactly one person is bound (approved) there.
Anything that names nobody, or several people, is refused with the reason (`RepError`), so
no one is listed by a guess. Within a community's scope only that community's residents are
found; a person of another community is "nobody", as if unknown. While the street has one
community, everyone is its (as for polls and notices: models/audience.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audience import effective_community, resident_community
from .communities import Community
from .meetings import Representative
from .people import Person
from .places import (
    APPROVED,
    Binding,
    find_buildings,
    household_at,
    mask_openid,
    mask_phone,
)

_PHONE = re.compile(r"\+?\d{7,20}")
_ADDRESS = re.compile(r"(.+?)-(\w+)-(\w+)")


class RepError(ValueError):
    """`reason`: nobody (no one by that name), several (ambiguous), bad (cannot read it)."""

    def __init__(self, reason: str, who: str, count: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.who = who
        self.count = count


@dataclass(frozen=True)
class RepRow:
    person_id: int
    who: str  # how admins see the person: address, masked phone, masked openid
    community: str | None
    added_by: str
    added_at: datetime


def _in_scope(db: Session, person_id: int, community_id: int | None) -> bool:
    wanted = effective_community(db, community_id)  # one community: everyone is its
    return wanted is None or resident_community(db, person_id) == wanted


def _one(db: Session, ids: list[int], who: str, community_id: int | None) -> int:
    found = sorted({p for p in ids if _in_scope(db, p, community_id)})
    if not found:
        raise RepError("nobody", who)
    if len(found) > 1:
        raise RepError("several", who, len(found))
    return found[0]


def find_person(db: Session, who: str, community_id: int | None) -> int:
    """The person `who` names (see the module's docstring); RepError when none or several."""
    text = who.strip()
    if not text:
        raise RepError("bad", who)
    by_openid = db.scalar(select(Person.id).where(Person.openid == text))
    if by_openid is not None:
        return _one(db, [by_openid], text, community_id)
    bound = select(Binding.person_id).where(Binding.status == APPROVED)
    if _PHONE.fullmatch(text):
        return _one(db, list(db.scalars(bound.where(Binding.phone == text))), text, community_id)
    address = _ADDRESS.fullmatch(text)
    if address is None:
        raise RepError("nobody", text)
    building, unit, room = address.groups()
    found = (household_at(db, b, unit, room) for b in find_buildings(db, building, community_id))
    households = [household.id for household in found if household is not None]
    people = list(db.scalars(bound.where(Binding.household_id.in_(households))))
    return _one(db, people, text, community_id)


def add_rep(db: Session, person_id: int, community_id: int | None, by: str, now: datetime) -> bool:
    """List the person as a representative of `community_id` (None: their own community, or
    the street's); False when already listed."""
    if db.get(Representative, person_id) is not None:
        return False
    if community_id is None:
        community_id = resident_community(db, person_id)
    db.add(
        Representative(person_id=person_id, community_id=community_id, added_by=by, added_at=now)
    )
    db.flush()
    return True


def remove_rep(db: Session, person_id: int, community_id: int | None) -> bool:
    """Take the person off the list (within the scope); False when not listed there."""
    rep = db.get(Representative, person_id)
    wanted = effective_community(db, community_id)
    if rep is None or (wanted is not None and rep.community_id != wanted):
        return False
    db.delete(rep)
    db.flush()
    return True


def describe(db: Session, person: Person) -> str:
    """A person as admins see them: their address and masked phone, else their masked openid
    (a staff member: their name)."""
    binding = db.scalar(select(Binding).where(Binding.person_id == person.id))
    parts = [person.name] if person.name else []
    if binding is not None:
        parts.append(binding.household.label)
        phone = mask_phone(binding.phone)
        if phone:
            parts.append(phone)
    parts.append(mask_openid(person.openid))
    return " ".join(parts)


def list_reps(db: Session, community_id: int | None) -> list[RepRow]:
    """The representatives of `community_id` (None: everyone's, the street's included)."""
    query = (
        select(Representative, Person, Community.name)
        .join(Person, Person.id == Representative.person_id)
        .outerjoin(Community, Community.id == Representative.community_id)
        .order_by(Representative.community_id, Representative.added_at, Person.id)
    )
    wanted = effective_community(db, community_id)
    if wanted is not None:
        query = query.where(Representative.community_id == wanted)
    return [
        RepRow(person.id, describe(db, person), name, rep.added_by, rep.added_at)
        for rep, person, name in db.execute(query).all()
    ]

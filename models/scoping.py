"""A community's rows stay in its community: the one filter every console page and CLI command
that lists or opens rows applies, and the community each kind of row belongs to.

A `Scope` (communities.py) is one community or the whole street. Rows belong to a community
through a column: a ticket, grid or building its own; a binding its household's building's; a
person their own (NULL: street staff, or a resident whose community is not known yet); an
outbox row or a failed message its person's. Only polls and notices may be street-wide (NULL):
a community sees those too, but changes only its own (`Scope.owns`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from .communities import HOME_ID, Scope
from .inbound import InboundMessage
from .outbox import OutboxMessage
from .people import Person
from .places import Binding, Building, Household

AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


def scoped(
    query: AnySelect, column: ColumnElement[Any] | Any, scope: Scope, *, street_wide: bool = False
) -> AnySelect:
    """`query` limited to the scope's community (the street: unchanged). `street_wide`: the
    column's NULL means "every community" (polls, notices), so those rows stay in too."""
    if scope.community_id is None:
        return query
    if street_wide:
        return query.where(or_(column.is_(None), column == scope.community_id))
    return query.where(column == scope.community_id)


def person_community(db: Session, person_id: int | None) -> int | None:
    """The community of a person (None: nobody, street staff, or not known yet)."""
    if person_id is None:
        return None
    return db.scalar(select(Person.community_id).where(Person.id == person_id))


def binding_community(db: Session, binding: Binding) -> int:
    """A binding's community: that of its household's building."""
    community_id = db.scalar(
        select(Building.community_id)
        .join(Household, Household.building_id == Building.id)
        .where(Household.id == binding.household_id)
    )
    return community_id if community_id is not None else HOME_ID


def outbox_community(db: Session, message: OutboxMessage) -> int | None:
    """An outbox row's community: its person's; a row for no person, the one its payload
    names (a webhook delivery: its ticket's); a broadcast has none: street-level."""
    if message.person_id is None:
        named = message.payload.get("community_id") if isinstance(message.payload, dict) else None
        return named if isinstance(named, int) else None
    return person_community(db, message.person_id)


def inbound_community(db: Session, message: InboundMessage) -> int | None:
    """A received message's community: its sender's."""
    return person_community(db, message.person_id)


def by_person(query: AnySelect, column: ColumnElement[Any] | Any, scope: Scope) -> AnySelect:
    """`query` limited to rows whose person (`column`) is of the scope's community (the
    street: unchanged). Rows tied to a person (outbox, messages) are scoped through it."""
    if scope.community_id is None:
        return query
    return query.where(
        column.in_(select(Person.id).where(Person.community_id == scope.community_id))
    )

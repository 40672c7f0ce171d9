"""Who a poll or a notice is for: the street, one community, or a grid or buildings in it.

A resident's community is their approved household's (its building's community); without an
approved household, the one recorded on them (`person.community_id`: their account's, or
their choice); else not known, and then only street-wide polls and notices reach them.

While the street has one community, a community's poll or notice is the street's: a
single-community deployment, or one upgraded from before communities existed, runs exactly as
it did (its people need not have a community recorded).

Grid and building names are unique only within a community: `places_community` resolves the
names a poll or notice gives within its community, or — given none — in the one community
that has every place named, and says which community that is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .communities import Community
from .people import Person
from .places import APPROVED, Binding, Building, Grid, Household


class PlaceError(ValueError):
    """Place names that do not resolve; `missing` unknown, `ambiguous` in several communities."""

    def __init__(self, message: str, missing: Sequence[str] = (), ambiguous: Sequence[str] = ()):
        super().__init__(message)
        self.missing = list(missing)
        self.ambiguous = list(ambiguous)


def several_communities(db: Session) -> bool:
    return int(db.scalar(select(func.count(Community.id))) or 0) > 1


def effective_community(db: Session, community_id: int | None) -> int | None:
    """The community whose residents a row of `community_id` is for; None: everyone (a
    street-wide row, or the street has one community)."""
    if community_id is None or not several_communities(db):
        return None
    return community_id


def _bound_community() -> Any:
    """The community of the person's approved household (a correlated scalar subquery)."""
    return (
        select(Building.community_id)
        .join(Household, Household.building_id == Building.id)
        .join(Binding, Binding.household_id == Household.id)
        .where(Binding.person_id == Person.id, Binding.status == APPROVED)
        .correlate(Person)
        .scalar_subquery()
    )


def lives_in(community_id: int) -> Any:
    """A WHERE clause on Person: the person is a resident of the community (see the module)."""
    return func.coalesce(_bound_community(), Person.community_id) == community_id


def resident_community(db: Session, person_id: int) -> int | None:
    """The person's community as a resident (see the module's docstring); None: not known."""
    found = db.execute(
        select(_bound_community(), Person.community_id).where(Person.id == person_id)
    ).first()
    if found is None:
        return None
    bound, recorded = found
    return int(bound) if bound is not None else recorded


def reaches(db: Session, community_id: int | None, person_id: int) -> bool:
    """True when a poll or notice of `community_id` (None: street-wide) is for the person."""
    wanted = effective_community(db, community_id)
    return wanted is None or resident_community(db, person_id) == wanted


def places_community(
    db: Session, community_id: int | None, grids: Sequence[str], buildings: Sequence[str]
) -> tuple[int | None, list[int]]:
    """(the community, the grids' ids) for these names; PlaceError when one is unknown, is in
    several communities (with no community given), or they are in different communities."""
    grid_rows = _resolve(db, Grid, "grid", community_id, grids)
    building_rows = _resolve(db, Building, "building", community_id, buildings)
    communities = {community for community, _ in grid_rows + building_rows}
    if len(communities) > 1:
        raise PlaceError("these places are in different communities; name one with --community")
    found_in = next(iter(communities)) if communities else community_id
    return found_in, [grid_id for _, grid_id in grid_rows]


def _resolve(
    db: Session, model: Any, kind: str, community_id: int | None, names: Sequence[str]
) -> list[tuple[int, int]]:
    """(community id, row id) of each place named; PlaceError for unknown or ambiguous names."""
    if not names:
        return []
    query = select(model.name, model.community_id, model.id).where(model.name.in_(names))
    if community_id is not None:
        query = query.where(model.community_id == community_id)
    found = [(str(name), int(community), int(row)) for name, community, row in db.execute(query)]
    missing = sorted(set(names) - {name for name, _, _ in found})
    if missing:
        raise PlaceError(f"unknown {kind}(s): {', '.join(missing)}", missing=missing)
    # The community that has every place named ("1,2" is the one community with both a 1 and
    # a 2, even when another has a 1 too); ambiguous when several have them all.
    held: dict[int, set[str]] = {}
    for name, community, _ in found:
        held.setdefault(community, set()).add(name)
    complete = [community for community, has in held.items() if has >= set(names)]
    if len(complete) > 1:
        counted: dict[str, int] = {}
        for name, community, _ in found:
            counted[name] = counted.get(name, 0) + (community in complete)
        ambiguous = sorted(name for name, times in counted.items() if times > 1)
        raise PlaceError(
            f"{kind}(s) {', '.join(ambiguous)} are in several communities; name one with "
            "--community",
            ambiguous=ambiguous,
        )
    if not complete:
        raise PlaceError(
            f"no community has all of these {kind}s: {', '.join(sorted(set(names)))}; "
            "name one with --community"
        )
    return [(community, row) for _, community, row in found if community == complete[0]]


def followers(db: Session, community_id: int | None) -> list[Person]:
    """Everyone following the account who lives in the community (None: the whole street)."""
    query = select(Person).where(Person.following.is_(True))
    wanted = effective_community(db, community_id)
    if wanted is not None:
        query = query.where(lives_in(wanted))
    return list(db.scalars(query.order_by(Person.id)))


def residents_of(
    db: Session, community_id: int | None, grids: Sequence[str], buildings: Sequence[str]
) -> tuple[list[Person], int | None]:
    """(the people bound and approved to households in these grids or buildings, their
    community): the names resolve as `places_community` says; PlaceError if they do not."""
    found_in, grid_ids = places_community(db, community_id, grids, buildings)
    query = (
        select(Person)
        .join(Binding, Binding.person_id == Person.id)
        .join(Household, Household.id == Binding.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Binding.status == APPROVED)
    )
    if grids:
        query = query.where(Building.grid_id.in_(grid_ids))
    else:
        query = query.where(Building.name.in_(buildings), Building.community_id == found_in)
    return list(db.scalars(query.order_by(Person.id))), found_in

"""A community's data stays in its community: the console's checks, in one place.

Every console page that lists rows filters them with `scoped` (the signed-in account's scope:
its community, or the whole street); every page that opens or changes one row asks `in_scope`
with the row's community. A row of another community is a 404 — the page does not say it
exists — and so is any move on it; a street-wide row (a street poll) is shown to a community
account but changing it is a 403, as is a page only the street office may use (`street_only`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import Community, Person, Scope
from models.communities import community_names
from models.scoping import AnySelect
from models.scoping import scoped as scoped_in
from models.staff import StaffMember, staff_members

from .access import current_scope
from .common import small_int

F = TypeVar("F", bound=Callable[..., Any])


def scoped(
    query: AnySelect, column: ColumnElement[Any] | Any, *, street_wide: bool = False
) -> AnySelect:
    """`query` limited to the signed-in account's community (a street account: unchanged)."""
    return scoped_in(query, column, current_scope(), street_wide=street_wide)


def in_scope(community_id: int | None, *, change: bool = False, street_wide: bool = False) -> None:
    """Stop the request unless the account may see (`change`: act on) a row of `community_id`.

    Another community's row: 404, as if there were none. A street-wide row (`street_wide`,
    community None): visible to all, but only the street may change it (403)."""
    scope = current_scope()
    if scope.street or community_id == scope.community_id:
        return
    if community_id is None and street_wide:
        if change:
            abort(403)
        return
    abort(404)


def staff_in_scope(db: Session) -> list[StaffMember]:
    """The staff members the account manages: its community's; a street account: everyone."""
    members = staff_members(db)
    scope = current_scope()
    if scope.street:
        return members
    query = scoped(select(Person.id), Person.community_id)
    ids = set(db.scalars(query))
    return [m for m in members if m.person_id in ids]


def street_only(view: F) -> F:
    """A page only street accounts may use: a community account gets 403."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if not current_scope().street:
            abort(403)
        return view(*args, **kwargs)

    return checked  # type: ignore[return-value]


def communities_shown(db: Session) -> dict[int, str]:
    """The communities a street account's lists name and filter by: {} for a community
    account (its pages are about its own community only) and while there is only one
    community (a single-community deployment's pages stay as they were)."""
    if not current_scope().street:
        return {}
    names = community_names(db)
    return names if len(names) > 1 else {}


def chosen_community(db: Session, value: str | None) -> int | None:
    """The community a form or query names by id: a community account's own, always; for a
    street account the one chosen (None: none chosen, or no such community)."""
    scope: Scope = current_scope()
    if not scope.street:
        return scope.community_id
    if not value or not (value.isascii() and value.isdigit() and len(value) < 10):
        return None
    found = db.get(Community, int(value))
    return found.id if found is not None else None


class NoCommunity(ValueError):
    """The community chosen does not exist."""


def assigned_community(db: Session, value: str) -> int | None:
    """The community an account or an API key is given: a community admin's own, always; a
    street admin's choice ('': the whole street). NoCommunity for a choice that is no
    community (unlike `chosen_community`, a filter, which lets it pass as none)."""
    scope: Scope = current_scope()
    if not scope.street:
        return scope.community_id
    if not value:
        return None
    number = small_int(value)
    if number is None or db.get(Community, number) is None:
        raise NoCommunity(value)
    return number

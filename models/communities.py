"""Communities (社区): the residents' committees one street office (街道) runs.

One deployment serves a street. Its communities each own their grids, buildings (and so
households), tickets, polls and notices; staff belong to a community or, with no community, to
the street. The first community (id 1) is made by migration 0017 and named by `[app]
community_name`: a single-community deployment never names a community, and anything made
without one lands there (the columns' server default), so it upgrades and runs unchanged.

A `Scope` is what a console account or a CLI run may see: one community, or the whole street.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, UTCDateTime

HOME_ID = 1  # the first community: see the module's docstring
STREET_ACCOUNT = "street"  # an account's community when it serves the whole street
NAME_MAX = 32
DEFAULT_NAME = "本社区"


class Community(Base):
    __tablename__ = "community"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommunityError(ValueError):
    """A community that cannot be named or made; the message says why (for admins)."""


def check_name(name: str) -> str:
    """The name as given, stripped; CommunityError when empty or too long."""
    name = name.strip()
    if not name:
        raise CommunityError("社区名称不能为空 (a community needs a name)")
    if len(name) > NAME_MAX:
        raise CommunityError(
            f"社区名称最多 {NAME_MAX} 个字 (a community name has at most {NAME_MAX} characters)"
        )
    return name


def community_by_name(db: Session, name: str) -> Community | None:
    return db.scalars(select(Community).where(Community.name == name.strip())).one_or_none()


def community_id_of(db: Session | Connection, name: str) -> int | None:
    """The id of an Official Account's community, configured by name (bot/config/accounts.py):
    HOME_ID for "" (the legacy single account), None for "street" (a street-wide account:
    its residents' community is theirs to say) and for a name no community has."""
    if not name:
        return HOME_ID
    if name == STREET_ACCOUNT:
        return None
    found = db.execute(select(Community.id).where(Community.name == name)).scalar()
    return int(found) if found is not None else None


def community_names(db: Session) -> dict[int, str]:
    """Every community's name by id, in the order they were made."""
    rows = db.execute(select(Community.id, Community.name).order_by(Community.id))
    return {community_id: name for community_id, name in rows}


def add_community(db: Session, name: str, now: datetime) -> tuple[Community, bool]:
    """The community named `name`, made if missing; True when it was made (idempotent)."""
    name = check_name(name)
    found = community_by_name(db, name)
    if found is not None:
        return found, False
    community = Community(name=name, created_at=now)
    db.add(community)
    db.flush()
    return community, True


def rename_home(db: Session, name: str) -> bool:
    """Give the first community `name` while it still has the migration's default name.

    `yishiting init` calls it, so `[app] community_name` names the community an upgraded or
    new database starts with; a name an admin chose later is never overwritten."""
    home = db.get(Community, HOME_ID)
    name = check_name(name)
    if home is None or home.name == name or home.name != DEFAULT_NAME:
        return False
    if community_by_name(db, name) is not None:
        return False
    home.name = name
    db.flush()
    return True


@dataclass(frozen=True)
class Scope:
    """What someone may see and act on: one community's rows, or (None) the whole street."""

    community_id: int | None = None

    @property
    def street(self) -> bool:
        return self.community_id is None

    def covers(self, community_id: int | None) -> bool:
        """True when a row of `community_id` (None: street-wide) is within this scope.

        A community's people see street-wide rows (a street notice, a street poll) but may
        only act on their own community's: callers that change rows check `owns`."""
        return self.community_id is None or community_id in (None, self.community_id)

    def owns(self, community_id: int | None) -> bool:
        """True when this scope may change a row of `community_id` (None: street-wide)."""
        return self.community_id is None or community_id == self.community_id


STREET = Scope(None)

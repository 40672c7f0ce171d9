"""What the domain needs to know of the Official Accounts (configured in bot/config/accounts.py).

An account's community is configured by name: a community's name, "street" (a street-wide
account) or "" (the legacy single account: the first community). `community_id_of` maps such
a name to the `community` table's id (models/communities.py, migration 0017); it reads the
table by name only, so this module does not depend on the community model's other parts.
"""

from __future__ import annotations

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

STREET = "street"  # bot/config/accounts.py STREET
HOME_ID = 1  # models/communities.py HOME_ID: the first community, the legacy account's

_COMMUNITY = table("community", column("id"), column("name"))


def community_id_of(db: Session, name: str) -> int | None:
    """The id of an account's community: HOME_ID for "" (the legacy account), None for
    "street" (the person's community is theirs to say) and for a name no community has."""
    if not name:
        return HOME_ID
    if name == STREET:
        return None
    found = db.execute(select(_COMMUNITY.c.id).where(_COMMUNITY.c.name == name)).scalar()
    return int(found) if found is not None else None

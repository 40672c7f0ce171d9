"""Demo data for development (`yishiting init --demo`, which `make run` runs): a street of
two communities. The first (named by `[app] community_name`) has a grid with buildings and
households, its grid worker 王师傅 (staff), two residents living there, and an open household
poll; the second, and what the street adds, are in demo_street.py; its 议题 (a proposal
being backed; a meeting that agreed on one item, now being carried out, and put the other to
the household poll) in demo_agenda.py — enough to try every part
of the bot in the simulator.

Everything is made with the domain operations the CLI and the chat use (places import,
add_staff, request/approve_binding, create_poll). Running it again changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Person, Role, touch_person
from models.communities import HOME_ID
from models.places import Grid, approve_binding, approved_binding, request_binding
from models.placesfile import import_places, parse_places
from models.polls import HOUSEHOLD_UNIT, PollSpec
from models.staff import LEVEL_STAFF, add_staff
from models.topics import topic_by_name

from .demo_agenda import add_demo_agenda
from .demo_street import add_demo_tickets, add_street_data, open_poll_once

__all__ = ["add_demo_data", "add_demo_tickets"]

GRID = "第一网格"
STAFF_OPENID = "o_demo_staff"
STAFF_NAME = "王师傅"
STAFF_TOPICS = ("电梯设施", "物业服务")
# (openid, building, unit, room): approved residents, each in their own household.
RESIDENTS = (
    ("o_demo_resident", "1", "1", "101"),
    ("o_demo_neighbour", "1", "2", "202"),
)
POLL_TITLE = "1号楼是否加装电动自行车充电桩"
POLL_DESCRIPTION = "物业提议在1号楼北侧空地加装10个充电桩，费用由使用者按次付费。每户一票。"
POLL_OPTIONS = ["同意加装", "不同意", "无所谓"]
POLL_DAYS = 7

# The places, as an admin would write them for `yishiting places import`. The worker is set
# after the residents have bound, so the demo does not ask him to approve them.
PLACES = f"""
[[grid]]
name = "{GRID}"
buildings = ["1", "2", "3"]
""" + "".join(
    f'\n[[household]]\nbuilding = "{b}"\nunit = "{u}"\nroom = "{r}"\n'
    for b in ("1", "2", "3")
    for u in ("1", "2")
    for r in ("101", "102", "201", "202")
)

WORKER = f"""
[[grid]]
name = "{GRID}"
worker = "{STAFF_OPENID}"
"""


def add_demo_data(db: Session, now: datetime) -> list[str]:
    """Make what is missing of the demo; one line per change (none: it was all there).

    The first community's part comes first, before a second community makes its names (a
    second 第一网格, a second 1号楼) ambiguous street-wide; then the street's (demo_street)."""
    home = _home_grid(db)
    changes = [] if home else _summarised(import_places(db, parse_places(PLACES), now))
    changes += _residents(db, now)
    if home is None or home.worker_id is None:
        changes += import_places(db, parse_places(WORKER), now)
    changes += _staff(db, now)
    changes += _poll(db, now)
    changes += add_street_data(db, now)
    changes += add_demo_agenda(db, now, POLL_TITLE)
    return changes


def _home_grid(db: Session) -> Grid | None:
    return db.scalars(
        select(Grid).where(Grid.name == GRID, Grid.community_id == HOME_ID)
    ).one_or_none()


def _summarised(changes: list[str]) -> list[str]:
    """The households made as one line, not two dozen."""
    made = [line.removeprefix("+ household ") for line in changes if line.startswith("+ household")]
    rest = [line for line in changes if not line.startswith("+ household")]
    return rest + ([f"+ {len(made)} households ({made[0]} … {made[-1]})"] if made else [])


def _residents(db: Session, now: datetime) -> list[str]:
    changes: list[str] = []
    for openid, building, unit, room in RESIDENTS:
        person = _person(db, openid)
        if person is None:
            touch_person(db.connection(), openid, now, wrote=False)
            person = _person(db, openid)
            assert person is not None
            changes.append(f"+ resident {openid}")
        if approved_binding(db, person.id) is None:
            request_binding(db, person.id, building, unit, room, now)
            approve_binding(db, person.id, "demo", now)
            changes.append(f"+ binding {openid} → {building}-{unit}-{room} (approved)")
        person.community_id = HOME_ID
    return changes


def _staff(db: Session, now: datetime) -> list[str]:
    person = _person(db, STAFF_OPENID)
    if person is not None and person.role >= Role.STAFF and person.name == STAFF_NAME:
        return []  # there already (perhaps with topics an admin changed since: kept)
    # Only the topics that exist: an admin may have renamed one of the starter topics.
    topics = [name for name in STAFF_TOPICS if topic_by_name(db, name) is not None]
    staff = add_staff(db, STAFF_OPENID, STAFF_NAME, topics, [GRID], None, LEVEL_STAFF, now)
    staff.community_id = HOME_ID
    return [f"+ staff {STAFF_OPENID} {STAFF_NAME} ({'、'.join(topics) or 'no topics'})"]


def _poll(db: Session, now: datetime) -> list[str]:
    spec = PollSpec(
        title=POLL_TITLE,
        description=POLL_DESCRIPTION,
        options=POLL_OPTIONS,
        closes_at=now + timedelta(days=POLL_DAYS),
        scope="grid",
        grid=GRID,
        unit=HOUSEHOLD_UNIT,
        community_id=HOME_ID,  # the first community's poll
    )
    poll = open_poll_once(db, spec, now)
    if poll is None:
        return []
    return [f"+ poll #{poll.number} {POLL_TITLE} (open {POLL_DAYS} days)"]


def _person(db: Session, openid: str) -> Person | None:
    return db.scalars(select(Person).where(Person.openid == openid)).one_or_none()

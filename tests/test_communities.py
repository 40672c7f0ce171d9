"""A street with two communities in one database: places, routing and the ladder stay in each.

本社区 (the first, as every upgraded database has) and 和平社区 each have a 第一网格 with a
1号楼 and its own grid worker; 和平社区 also has a supervisor. 孙 works for the street office
on 电梯设施 and is its level-3 contact. Reports are taken in by the one intake, as every
channel does, on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from conftest import make_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Binding, Building, Grid, Household, Person, Ticket, touch_person
from models.communities import HOME_ID, add_community
from models.intake import Policy, Report, intake
from models.places import APPROVED, find_building
from models.reach import ticket_in_reach
from models.routing import duty_at_level
from models.staff import LEVEL_COMMUNITY, LEVEL_STREET, add_staff

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
LIFT = "1号楼的电梯又坏了，困住了两个老人"
UNCLEAR = "那个事情到底什么时候能有个说法啊"


@dataclass
class Street:
    settings: Settings
    db: Database
    classify: object
    people: dict[str, int]
    peace: int  # 和平社区's id

    def report(self, who: str, text: str, **fields: object) -> str | None:
        """File `text` from `who`; the name of the staff member who got it."""
        report = Report(text, "wechat", self.people[who], NOW, **fields)  # type: ignore[arg-type]
        with self.db.session() as session:
            filed = intake(session, report, Policy(), self.classify)  # type: ignore[arg-type]
            ticket = session.get(Ticket, filed.ticket_id)
            assert ticket is not None
            self.last_community = ticket.community_id
            holder = session.get(Person, ticket.assignee_id) if ticket.assignee_id else None
            return holder.name if holder else None


def _place(session: Session, community_id: int, worker: int) -> int:
    grid = Grid(name="第一网格", community_id=community_id, worker_id=worker)
    session.add(grid)
    session.flush()
    building = Building(name="1号楼", community_id=community_id, grid_id=grid.id)
    session.add(building)
    session.flush()
    return building.id


def _resident(session: Session, openid: str, building_id: int) -> int:
    person = touch_person(session.connection(), openid, NOW, wrote=True)
    household = Household(building_id=building_id, unit="2", room="501", listed=True)
    session.add(household)
    session.flush()
    session.add(Binding(person_id=person.id, household=household, status=APPROVED, created_at=NOW))
    session.flush()
    return person.id


def _staff(session: Session, openid: str, name: str, community_id: int | None, **kw: object) -> int:
    person = add_staff(
        session,
        openid,
        name,
        kw.get("topics", []),  # type: ignore[arg-type]
        [],
        None,
        kw.get("level", 1),  # type: ignore[arg-type]
        NOW,
    )
    person.community_id = community_id
    session.flush()
    return person.id


@pytest.fixture
def street(backend_settings: Settings) -> Iterator[Street]:
    app = make_app(backend_settings)
    ext = app.extensions["yishiting"]
    with ext.db.session() as session:
        peace, _ = add_community(session, "和平社区", NOW)
        people = {
            "赵网格": _staff(session, "o_zhao", "赵网格", HOME_ID),
            "钱网格": _staff(session, "o_qian", "钱网格", peace.id),
            "周主任": _staff(session, "o_zhou", "周主任", peace.id, level=LEVEL_COMMUNITY),
            "孙": _staff(session, "o_sun", "孙", None, topics=["电梯设施"], level=LEVEL_STREET),
        }
        home_building = _place(session, HOME_ID, people["赵网格"])
        peace_building = _place(session, peace.id, people["钱网格"])
        people["张"] = _resident(session, "o_zhang", home_building)
        people["李"] = _resident(session, "o_li", peace_building)
        unbound = touch_person(session.connection(), "o_new", NOW, wrote=True)
        people["新"] = unbound.id
        session.get(Person, unbound.id).community_id = peace.id
        peace_id = peace.id
    yield Street(backend_settings, ext.db, ext.rulebook.current().classify, people, peace_id)
    ext.db.dispose()


def test_two_communities_may_each_have_a_first_grid_and_a_building_one(street: Street) -> None:
    with street.db.session(read_only=True) as session:
        named = session.scalars(select(Building).where(Building.name == "1号楼")).all()
        assert sorted(b.community_id for b in named) == [HOME_ID, street.peace]
        # Where the community is known, "1" finds its own; across the street it is ambiguous.
        assert find_building(session, "1", street.peace).community_id == street.peace  # type: ignore[union-attr]
        assert find_building(session, "1") is None


def test_names_stay_unique_within_one_community(street: Street) -> None:
    with pytest.raises(IntegrityError), street.db.session() as session:
        session.add(Building(name="1号楼", community_id=street.peace))
        session.flush()


def test_a_report_goes_to_the_grid_worker_of_the_residents_own_community(street: Street) -> None:
    assert street.report("张", LIFT) == "赵网格"
    assert street.last_community == HOME_ID
    assert street.report("李", LIFT) == "钱网格"
    assert street.last_community == street.peace


def test_without_a_place_the_residents_community_decides_and_staff_climb_to_the_street(
    street: Street,
) -> None:
    # 新 has no household yet and names no building: the ticket is 和平社区's; nobody there
    # handles lifts, so the street's lift contact takes it — not another community's staff.
    assert street.report("新", "电梯又坏了，困住了两个老人") == "孙"
    assert street.last_community == street.peace
    # Nothing fits: 和平社区's own supervisor, not the street's.
    assert street.report("新", UNCLEAR) == "周主任"


def test_a_channel_that_knows_the_community_files_it_there(street: Street) -> None:
    assert street.report("新", UNCLEAR, community_id=HOME_ID) is None  # 本社区 has no supervisor
    assert street.last_community == HOME_ID


def test_the_ladder_climbs_from_a_community_to_the_street_never_sideways(street: Street) -> None:
    with street.db.session(read_only=True) as session:
        conn = session.connection()
        assert duty_at_level(conn, LEVEL_COMMUNITY, street.peace) == street.people["周主任"]
        assert duty_at_level(conn, LEVEL_COMMUNITY, HOME_ID) is None  # 本社区 has none
        assert duty_at_level(conn, LEVEL_STREET, HOME_ID) == street.people["孙"]


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"YISHITING_APP_DATABASE_URL": settings.app.database_url}  # the backend's database
    result = CliRunner().invoke(main, [*args, "--config", settings.source], env=env)
    return result.exit_code, result.output


def test_community_add_is_idempotent_and_list_counts_each_communitys_places(
    street: Street,
) -> None:
    assert _cli(street.settings, "community", "add", "幸福社区") == (
        0,
        "community 幸福社区: added\n",
    )
    assert _cli(street.settings, "community", "add", "幸福社区")[0] == 0
    code, out = _cli(street.settings, "community", "list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [
        {"name": "本社区", "grids": 1, "buildings": 1, "households": 1},
        {"name": "和平社区", "grids": 1, "buildings": 1, "households": 1},
        {"name": "幸福社区", "grids": 0, "buildings": 0, "households": 0},
    ]
    assert _cli(street.settings, "community", "add", "长" * 33)[0] == 1


def test_tickets_list_shows_one_community_and_names_it(street: Street) -> None:
    street.report("张", LIFT)
    street.report("李", LIFT)
    code, out = _cli(street.settings, "tickets", "list", "--json", "--community", "和平社区")
    assert code == 0
    assert [(t["number"], t["community"]) for t in map(json.loads, out.splitlines())] == [
        (2, "和平社区")
    ]
    code, out = _cli(street.settings, "tickets", "list", "--json")
    assert [t["community"] for t in map(json.loads, out.splitlines())] == ["和平社区", "本社区"]
    code, out = _cli(street.settings, "tickets", "list", "--community", "无此社区")
    assert code == 1 and "no community named '无此社区'" in out


def test_a_grid_worker_moved_to_another_community_no_longer_gets_the_grids_reports(
    street: Street,
) -> None:
    with street.db.session() as session:
        worker = session.get(Person, street.people["钱网格"])
        assert worker is not None
        worker.community_id = HOME_ID  # still named on 和平社区's grid
    assert street.report("李", LIFT) == "孙"  # the street's lift contact, not 钱网格
    assert street.last_community == street.peace


def test_staff_see_their_own_report_elsewhere_but_leave_it_to_that_community(
    street: Street,
) -> None:
    street.report("赵网格", UNCLEAR, community_id=street.peace)  # 赵网格 lives in 和平社区
    with street.db.session(read_only=True) as session:
        own = ticket_in_reach(session, 1, street.people["赵网格"])
        assert own is not None and own.community_id == street.peace  # 查询 shows it
        assert ticket_in_reach(session, 1, street.people["赵网格"], acting=True) is None
        assert ticket_in_reach(session, 1, street.people["钱网格"], acting=True) is not None

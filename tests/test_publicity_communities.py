"""公示 in a street of several communities: a community's decision is pushed to its residents
only, only they may object, its admins (not the other community's) hear the objections, and
a vote on it is its community's poll."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from models import Person, Role
from models.agenda import ACCEPTED, AgendaError, AgendaItem, next_number
from models.communities import HOME_ID, Community
from models.outbox import OutboxMessage
from models.paper_ballots import enter_paper_ballot, find_household
from models.places import APPROVED, Binding, Building, Household
from models.polls import HOUSEHOLD_UNIT, PollError, PollSpec
from models.publicity import object_to, open_agenda_poll, publish

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def person(s: Session, openid: str, community: int, role: Role = Role.RESIDENT) -> int:
    row = Person(
        openid=openid, role=role, community_id=community, first_seen_at=NOW, last_seen_at=NOW
    )
    s.add(row)
    s.flush()
    return row.id


def resident_at(s: Session, openid: str, community: int, building: int) -> int:
    pid = person(s, openid, community)
    home = Household(building_id=building, unit="1", room=openid[-3:], listed=True)
    s.add(home)
    s.flush()
    binding = Binding(person_id=pid, household_id=home.id, status=APPROVED, created_at=NOW)
    s.add(binding)
    return pid


def pushed(s: Session, kind: str) -> set[int]:
    query = select(OutboxMessage.person_id).where(OutboxMessage.kind == kind)
    return set(s.scalars(query))


def test_a_communitys_decision_stays_in_its_community(settings: Settings) -> None:
    db = Database(settings)
    try:
        with db.session() as s:
            west = Community(name="西社区", created_at=NOW)
            s.add(west)
            s.flush()
            east_building = Building(name="1", community_id=HOME_ID)
            west_building = Building(name="1", community_id=west.id)  # the same name, elsewhere
            s.add_all([east_building, west_building])
            s.flush()
            east_resident = resident_at(s, "o-east-101", HOME_ID, east_building.id)
            west_resident = resident_at(s, "o-west-101", west.id, west_building.id)
            east_admin = person(s, "o-east-admin", HOME_ID, Role.ADMIN)
            west_admin = person(s, "o-west-admin", west.id, Role.ADMIN)
            item = AgendaItem(
                number=next_number(s),
                title="东社区北门健身器材",
                body="东社区北门健身器材",
                community_id=HOME_ID,
                stage=ACCEPTED,
                stage_at=NOW,
                created_at=NOW,
            )
            s.add(item)
            s.flush()
            spec = PollSpec(
                title="北门", options=["同意", "不同意"], closes_at=NOW + timedelta(days=1)
            )
            with pytest.raises(AgendaError) as street_poll:
                open_agenda_poll(s, item, replace(spec, community_id=west.id), NOW)
            assert street_poll.value.reason == "community"
            poll = open_agenda_poll(s, item, replace(spec, unit=HOUSEHOLD_UNIT), NOW)
            assert poll.community_id == HOME_ID  # the item's, without being named
            # Building "1" is in both communities: the poll's community decides which.
            home = find_household(s, poll, "1", "1", "101")
            assert home.building_id == east_building.id
            west_home = s.scalars(
                select(Household).where(Household.building_id == west_building.id)
            ).one()
            with pytest.raises(PollError) as outside:
                enter_paper_ballot(s, poll, west_home, "A", "李干事", NOW)
            assert outside.value.reason == "out_of_scope"

            assert publish(s, item, NOW, 5, decision="同意安装").told == 1
            assert pushed(s, "publicity.published") == {east_resident}
            with pytest.raises(AgendaError) as other:
                object_to(s, item, west_resident, "不同意", NOW)
            assert other.value.reason == "not_in_scope"
            object_to(s, item, east_resident, "离住户太近", NOW + timedelta(hours=1))
            assert pushed(s, "publicity.objection") == {east_admin}
            assert west_admin not in pushed(s, "publicity.objection")
    finally:
        db.dispose()


def _with(spec: PollSpec, **changes: Session) -> PollSpec:
    from dataclasses import replace

    return replace(spec, **changes)  # type: ignore[arg-type]

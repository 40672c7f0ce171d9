"""Street-wide and community polls and notices: each reaches its scope's residents only.

The street has two communities, 本社区 (the first) and 和平社区; each has a 第一网格 with a
1号楼 of two listed households. 本社区 has two bound residents, 和平社区 one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from conftest import console_login, csrf_token_of, db_of, make_account
from desk import Desk
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Announcement, ConsoleAccount, OutboxMessage, Person, touch_person
from models.audience import PlaceError, places_community
from models.communities import HOME_ID, add_community
from models.places import APPROVED, Binding, Building, Grid, Household
from models.polls import (
    HOUSEHOLD_UNIT,
    PollSpec,
    cast_ballot,
    create_poll,
    eligible_people,
    poll_by_number,
    tally,
)
from models.sweeps.polls import PollPolicy, sweep_polls

NOW = datetime.now(UTC).replace(microsecond=0)
RESIDENTS = {"o_home_1": (HOME_ID, "101"), "o_home_2": (HOME_ID, "102"), "o_peace": (2, "101")}


def street(settings: Settings) -> dict[str, int]:
    """Two communities, their places and residents; the residents' person ids by openid."""
    db = Database(settings)
    try:
        with db.session() as session:
            peace, _ = add_community(session, "和平社区", NOW)
            assert peace.id == 2
            households: dict[tuple[int, str], int] = {}
            for community_id in (HOME_ID, peace.id):
                grid = Grid(name="第一网格", community_id=community_id)
                session.add(grid)
                session.flush()
                building = Building(name="1号楼", grid_id=grid.id, community_id=community_id)
                session.add(building)
                session.flush()
                for room in ("101", "102"):
                    household = Household(building_id=building.id, unit="1", room=room, listed=True)
                    session.add(household)
                    session.flush()
                    households[(community_id, room)] = household.id
        ids = {}
        with db.transaction() as conn:
            for openid in RESIDENTS:
                ids[openid] = touch_person(conn, openid, NOW, wrote=True).id
        with db.session() as session:
            for openid, place in RESIDENTS.items():
                session.add(
                    Binding(
                        person_id=ids[openid],
                        household_id=households[place],
                        status=APPROVED,
                        created_at=NOW,
                        decided_at=NOW,
                    )
                )
    finally:
        db.dispose()
    return ids


def make_poll(settings: Settings, **values: object) -> int:
    spec: dict[str, object] = {
        "title": "小区议事：增设电动车充电桩",
        "options": ["同意", "不同意"],
        "closes_at": NOW + timedelta(days=3),
    }
    spec.update(values)
    db = Database(settings)
    try:
        with db.session() as session:
            return create_poll(session, PollSpec(**spec), NOW).number  # type: ignore[arg-type]
    finally:
        db.dispose()


def told_opened(settings: Settings) -> list[str]:
    """Run the polls sweep; the openids told a poll opened."""
    db = Database(settings)
    policy = PollPolicy(tz=ZoneInfo("Asia/Shanghai"), remind_before_hours=24, followup_days=30)
    try:
        with db.session() as session:
            sweep_polls(session, NOW + timedelta(seconds=1), policy)
        with db.session(read_only=True) as session:
            return sorted(
                session.scalars(
                    select(Person.openid)
                    .join(OutboxMessage, OutboxMessage.person_id == Person.id)
                    .where(OutboxMessage.kind == "poll.opened")
                )
            )
    finally:
        db.dispose()


def test_a_street_poll_reaches_residents_of_both_communities(settings: Settings) -> None:
    street(settings)
    make_poll(settings)
    assert told_opened(settings) == ["o_home_1", "o_home_2", "o_peace"]


def test_a_community_poll_reaches_only_its_own_residents(settings: Settings) -> None:
    ids = street(settings)
    number = make_poll(settings, community_id=2)
    assert told_opened(settings) == ["o_peace"]
    db = Database(settings)
    try:
        with db.session() as session:
            poll = poll_by_number(session, number)
            assert poll is not None and eligible_people(session, poll) == [ids["o_peace"]]
            assert tally(session, poll).eligible == 1
    finally:
        db.dispose()


def test_a_household_quorum_counts_the_households_in_scope(settings: Settings) -> None:
    ids = street(settings)
    whole = make_poll(settings, unit=HOUSEHOLD_UNIT, quorum=0.5)
    home = make_poll(settings, unit=HOUSEHOLD_UNIT, quorum=0.5, community_id=HOME_ID)
    db = Database(settings)
    try:
        with db.session() as session:
            for number in (whole, home):
                poll = poll_by_number(session, number)
                assert poll is not None
                cast_ballot(session, poll, ids["o_home_1"], "A", NOW)
            street_poll, home_poll = poll_by_number(session, whole), poll_by_number(session, home)
            assert street_poll is not None and home_poll is not None
            street_tally, home_tally = tally(session, street_poll), tally(session, home_poll)
    finally:
        db.dispose()
    # Four listed households in the street, two in 本社区: one ballot is 25 % or 50 %.
    assert (street_tally.ballots, street_tally.eligible, street_tally.quorum_met) == (1, 4, False)
    assert (home_tally.ballots, home_tally.eligible, home_tally.quorum_met) == (1, 2, True)


def test_place_names_resolve_in_the_one_community_that_has_them_all(settings: Settings) -> None:
    street(settings)
    db = Database(settings)
    try:
        with db.session() as session:
            session.add(Building(name="2号楼", community_id=HOME_ID))
            session.flush()
            found, _ = places_community(session, None, [], ["1号楼", "2号楼"])
            assert found == HOME_ID  # only 本社区 has both
            assert places_community(session, 2, [], ["1号楼"])[0] == 2
            with pytest.raises(PlaceError, match="in several communities"):
                places_community(session, None, [], ["1号楼"])
            with pytest.raises(PlaceError, match="unknown building"):
                places_community(session, 2, [], ["2号楼"])
    finally:
        db.dispose()


def test_a_resident_of_another_community_neither_sees_nor_votes(
    settings: Settings, desk: Desk
) -> None:
    street(settings)
    mine = make_poll(settings, title="和平社区议事：楼道加装扶手", community_id=2)
    theirs = make_poll(settings, title="本社区议事：调整垃圾清运时间", community_id=HOME_ID)
    everyone = make_poll(settings, title="街道议事：周末便民集市")
    peace = desk.chat("o_peace")
    listing = peace.say("投票")
    assert listing is not None
    assert f"#{mine} 和平社区议事" in listing and f"#{everyone} 街道议事" in listing
    assert "本社区议事" not in listing
    other = f"#{theirs} 是其他社区的投票，仅限该社区居民参加，您不在本次投票范围内。"
    assert peace.say(f"投票 {theirs}") == other
    assert peace.say(f"投票 {theirs} A") == other
    assert peace.say(f"结果 {theirs}") == other
    home = desk.chat("o_home_1")
    receipt = home.say(f"投票 {theirs} A")
    assert receipt is not None and receipt.startswith(f"已记录您对 #{theirs}")
    assert home.say(f"投票 {mine} A") == (
        f"#{mine} 是其他社区的投票，仅限该社区居民参加，您不在本次投票范围内。"
    )


def poll_create(config: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main,
        [
            "poll",
            "create",
            "--config",
            str(config),
            "--title",
            "楼道加装扶手",
            "--option",
            "同意",
            "--option",
            "不同意",
            "--closes-in",
            "3d",
            *extra,
        ],
    )


def test_poll_create_community_contract(settings: Settings, config_path: Path) -> None:
    street(settings)
    made = poll_create(config_path, "--community", "和平社区", "--scope", "grid:第一网格")
    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines()[0] == "#1 楼道加装扶手"
    shown = CliRunner().invoke(main, ["poll", "show", "--config", str(config_path), "1", "--json"])
    data = json.loads(shown.stdout)
    assert (data["community"], data["scope"], data["eligible"]) == ("和平社区", "grid:第一网格", 1)
    whole = poll_create(config_path)
    assert whole.exit_code == 0, whole.output
    shown = CliRunner().invoke(main, ["poll", "show", "--config", str(config_path), "2", "--json"])
    assert json.loads(shown.stdout)["community"] is None  # street-wide
    listed = CliRunner().invoke(
        main, ["poll", "list", "--config", str(config_path), "--community", "本社区"]
    )
    assert listed.exit_code == 0 and "#2" in listed.stdout and "#1 " not in listed.stdout
    unknown = poll_create(config_path, "--community", "不存在社区")
    assert unknown.exit_code == 1 and "no community named '不存在社区'" in unknown.output
    ambiguous = poll_create(config_path, "--scope", "building:1号楼")
    assert ambiguous.exit_code == 1
    assert "in several communities; name one with --community" in ambiguous.output


def notified(settings: Settings) -> list[str]:
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            return sorted(
                session.scalars(
                    select(Person.openid)
                    .join(OutboxMessage, OutboxMessage.person_id == Person.id)
                    .where(OutboxMessage.kind == "notice")
                )
            )
    finally:
        db.dispose()


def notify(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["notify", "--config", str(config), *args])


def test_notify_community_contract(settings: Settings, config_path: Path) -> None:
    street(settings)
    one = notify(config_path, "--all", "--community", "和平社区", "本周六和平社区义诊")
    assert one.exit_code == 0, one.output
    assert "1 pushes queued" in one.stdout
    assert notified(settings) == ["o_peace"]
    building = notify(config_path, "--building", "1号楼", "--community", "本社区", "1号楼周六停水")
    assert building.exit_code == 0 and "2 pushes queued" in building.stdout
    assert notified(settings) == ["o_home_1", "o_home_2", "o_peace"]
    whole = notify(config_path, "--all", "--key", "street-1", "街道通知：防汛演练")
    assert whole.exit_code == 0 and "3 pushes queued" in whole.stdout
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            recorded = [
                (a.audience, a.community_id, a.recipients)
                for a in session.scalars(select(Announcement).order_by(Announcement.id))
            ]
    finally:
        db.dispose()
    assert recorded == [("all", 2, 1), ("building:1号楼", HOME_ID, 2), ("all", None, 3)]
    ambiguous = notify(config_path, "--grid", "第一网格", "你好")
    assert ambiguous.exit_code == 1 and "name one with --community" in ambiguous.output
    unknown = notify(config_path, "--all", "--community", "不存在社区", "你好")
    assert unknown.exit_code == 1 and "no community named '不存在社区'" in unknown.output
    elsewhere = notify(config_path, "--to", "o_home_1", "--community", "和平社区", "你好")
    # Another community's resident is nobody the community knows (like every row of theirs).
    assert elsewhere.exit_code == 1 and "unknown openid(s): o_home_1" in elsewhere.output


def test_a_broadcast_goes_to_the_community_only(settings: Settings, config_path: Path) -> None:
    street(settings)
    sent = notify(config_path, "--all", "--broadcast", "--community", "本社区", "本社区群发")
    assert sent.exit_code == 0 and "as a broadcast" in sent.stdout
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            mass = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "notice.mass")
            ).one()
            assert mass.payload["openids"] == ["o_home_1", "o_home_2"]
    finally:
        db.dispose()


def _console(app: Flask, username: str, community_id: int | None) -> FlaskClient:
    make_account(app, username, "admin")
    with db_of(app).session() as session:
        session.execute(
            update(ConsoleAccount)
            .where(ConsoleAccount.username == username)
            .values(community_id=community_id)
        )
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def _new_poll(client: FlaskClient, **changes: str) -> Any:
    values = {
        "title": "楼道加装扶手",
        "options": "同意\n不同意",
        "scope": "all",
        "unit": "person",
        "max_choices": "1",
        "closes_at": "2099-06-01T20:00",
        "quorum": "0",
        "threshold": "50",
        **changes,
    }
    token = csrf_token_of(client.get("/admin/polls/new"))
    return client.post("/admin/polls/new", data={**values, "csrf_token": token})


def _community_of_poll(app: Flask, number: int) -> int | None:
    with db_of(app).session(read_only=True) as session:
        poll = poll_by_number(session, number)
        assert poll is not None
        return poll.community_id


def test_the_console_form_a_street_admin_picks_a_community_admin_does_not(
    app: Flask, settings: Settings
) -> None:
    street(settings)
    boss = _console(app, "street_boss", None)
    page = boss.get("/admin/polls/new").get_data(as_text=True)
    assert 'name="community"' in page and "整个街道（各社区居民）" in page and "和平社区" in page
    assert _new_poll(boss).status_code == 303
    assert _community_of_poll(app, 1) is None  # the whole street
    assert _new_poll(boss, community="2", scope="grid", grid="第一网格").status_code == 303
    assert _community_of_poll(app, 2) == 2
    ambiguous = _new_poll(boss, scope="buildings", buildings="1号楼")
    assert ambiguous.status_code == 400
    assert "几个社区都有「1号楼」，请选择投票所属的社区。" in ambiguous.get_data(as_text=True)

    peace = _console(app, "peace_admin", 2)
    page = peace.get("/admin/polls/new").get_data(as_text=True)
    assert 'name="community"' not in page  # no choice: their community's polls
    assert _new_poll(peace, community="").status_code == 303
    assert _community_of_poll(app, 3) == 2
    # The list counts each poll's own voters: 3 bound residents in the street, 1 in 和平社区.
    listed = boss.get("/admin/polls").get_data(as_text=True)
    assert listed.count("0 / 3 ") == 1 and listed.count("0 / 1 ") == 2

"""Polls: one ballot per voting unit, only while open, only the eligible, only valid options."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db import Database
from models import Ballot, touch_person
from models.places import Building, Grid, Household, approve_binding, request_binding
from models.polls import (
    HOUSEHOLD_UNIT,
    Poll,
    PollError,
    PollSpec,
    cast_ballot,
    close_poll,
    create_poll,
    tally,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def community(db: Database) -> None:
    """Two grids: 第一网格 with buildings 16 and 17, 第二网格 with 18; listed households."""
    with db.session() as session:
        first, second = Grid(name="第一网格"), Grid(name="第二网格")
        session.add_all([first, second])
        session.flush()
        for name, grid in (("16", first), ("17", first), ("18", second)):
            building = Building(name=name, grid_id=grid.id)
            session.add(building)
            session.flush()
            for room in ("101", "102"):
                session.add(Household(building_id=building.id, unit="1", room=room, listed=True))


def resident(db: Database, openid: str, address: str | None, *, approved: bool = True) -> int:
    with db.transaction() as conn:
        person_id = touch_person(conn, openid, NOW, wrote=True).id
    if address is not None:
        building, unit, room = address.split("-")
        with db.session() as session:
            request_binding(session, person_id, building, unit, room, NOW)
            if approved:
                approve_binding(session, person_id, "test", NOW)
    return person_id


def new_poll(db: Database, **changes: object) -> Poll:
    values: dict[str, object] = {
        "title": "16号楼前道路重铺",
        "options": ["沥青", "水泥", "透水砖"],
        "closes_at": NOW + timedelta(days=3),
    }
    values.update(changes)
    with db.session() as session:
        poll = create_poll(session, PollSpec(**values), NOW)  # type: ignore[arg-type]
        session.expunge(poll)
    return poll


def vote(db: Database, poll: Poll, person_id: int, choice: str) -> None:
    with db.session() as session:
        cast_ballot(session, session.get(Poll, poll.id), person_id, choice, NOW)  # type: ignore[arg-type]


def refused(db: Database, poll: Poll, person_id: int, choice: str, when: datetime = NOW) -> str:
    with pytest.raises(PollError) as caught, db.session() as session:
        cast_ballot(session, session.get(Poll, poll.id), person_id, choice, when)  # type: ignore[arg-type]
    return caught.value.reason


def test_a_household_casts_one_ballot_and_the_last_one_counts(settings: Settings) -> None:
    db = Database(settings)
    community(db)
    mother = resident(db, "o_mother", "16-1-101")
    son = resident(db, "o_son", "16-1-101")
    neighbour = resident(db, "o_neighbour", "16-1-102")
    poll = new_poll(db, unit=HOUSEHOLD_UNIT)
    vote(db, poll, mother, "A")
    with db.session() as session:
        cast = cast_ballot(session, session.get(Poll, poll.id), son, "B", NOW)  # type: ignore[arg-type]
        assert cast.replaced and cast.previous_voter == mother
        assert sorted(cast.household_members) == sorted([mother, son])
    vote(db, poll, neighbour, "B")
    with db.session(read_only=True) as session:
        result = tally(session, session.get(Poll, poll.id))  # type: ignore[arg-type]
        assert len(session.scalars(select(Ballot)).all()) == 2
    assert result.counts == {"A": 0, "B": 2, "C": 0}
    assert (result.ballots, result.eligible) == (2, 6)  # six listed households in scope
    assert result.leaders == ["B"] and result.passed
    db.dispose()


def test_who_may_vote(settings: Settings) -> None:
    db = Database(settings)
    community(db)
    inside = resident(db, "o_16", "16-1-101")
    other_grid = resident(db, "o_18", "18-1-101")
    waiting = resident(db, "o_wait", "17-1-101", approved=False)
    stranger = resident(db, "o_stranger", None)
    poll = new_poll(db, scope="grid", grid="第一网格", max_choices=2)
    assert refused(db, poll, other_grid, "A") == "out_of_scope"
    assert refused(db, poll, waiting, "A") == "pending"
    assert refused(db, poll, stranger, "A") == "not_bound"
    assert refused(db, poll, inside, "D") == "invalid_option"
    assert refused(db, poll, inside, "ABC") == "too_many"
    assert refused(db, poll, inside, "AA") == "repeated_option"
    assert refused(db, poll, inside, "A", NOW + timedelta(days=4)) == "closed"
    vote(db, poll, inside, "c a")
    with db.session(read_only=True) as session:
        [ballot] = session.scalars(select(Ballot)).all()
        assert ballot.choices == "AC"
    with db.session() as session:
        close_poll(session, session.get(Poll, poll.id), NOW)  # type: ignore[arg-type]
    assert refused(db, poll, inside, "B") == "closed"
    db.dispose()


def test_anyone_following_may_vote_in_an_open_poll(settings: Settings) -> None:
    db = Database(settings)
    stranger = resident(db, "o_stranger", None)
    poll = new_poll(db, eligibility="followers")
    vote(db, poll, stranger, "B")
    with db.session(read_only=True) as session:
        result = tally(session, session.get(Poll, poll.id))  # type: ignore[arg-type]
    assert result.counts["B"] == 1 and result.eligible >= 1
    db.dispose()


def test_a_tie_is_a_tie_and_quorum_and_threshold_decide_passing(settings: Settings) -> None:
    db = Database(settings)
    community(db)
    voters = [
        resident(db, f"o_{n}", f"{b}-1-{r}")
        for n, (b, r) in enumerate([("16", "101"), ("16", "102"), ("17", "101"), ("17", "102")])
    ]
    tied = new_poll(db, quorum=0.5)
    for person_id, choice in zip(voters, "AABB", strict=True):
        vote(db, tied, person_id, choice)
    two_thirds = new_poll(db, title="加装电梯", threshold=2 / 3, quorum=0.9)
    for person_id, choice in zip(voters[:3], "AAB", strict=True):
        vote(db, two_thirds, person_id, choice)
    with db.session(read_only=True) as session:
        first = tally(session, session.get(Poll, tied.id))  # type: ignore[arg-type]
        second = tally(session, session.get(Poll, two_thirds.id))  # type: ignore[arg-type]
    assert first.tie and first.leaders == ["A", "B"] and not first.passed
    assert first.quorum_met  # 4 of 4 approved residents
    assert second.leaders == ["A"] and not second.quorum_met and not second.passed  # 3 of 4
    db.dispose()


def test_a_poll_is_refused_when_its_spec_is_wrong(settings: Settings) -> None:
    db = Database(settings)
    for changes, reason in (
        ({"options": ["只有一个"]}, "options"),
        ({"options": ["同一个", "同一个"]}, "options"),
        ({"closes_at": NOW - timedelta(minutes=1)}, "closes_at"),
        ({"scope": "grid", "grid": "第九网格"}, "scope"),
        ({"max_choices": 4}, "choices"),
        ({"unit": HOUSEHOLD_UNIT, "eligibility": "followers"}, "eligibility"),
    ):
        with pytest.raises(PollError) as caught:
            new_poll(db, **changes)
        assert caught.value.reason == reason
    db.dispose()


def test_concurrent_ballots_leave_one_per_household(backend_settings: Settings) -> None:
    """500 ballots from 300 households (200 with two voters, voting at once from 4 threads):
    exactly one counted ballot per household, and the tally equals a recount."""
    db = Database(backend_settings)
    with db.session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
    with db.transaction() as conn:
        people = [touch_person(conn, f"o_{n}", NOW, wrote=True).id for n in range(500)]
    members: list[tuple[int, str]] = []
    with db.session() as session:
        for n, person_id in enumerate(people):
            room = n % 300  # households 0-199 get two members, 200-299 one
            request_binding(session, person_id, "16", "1", str(room), NOW)
            approve_binding(session, person_id, "test", NOW)
            members.append((person_id, "ABC"[room % 3]))
    poll = new_poll(db, unit=HOUSEHOLD_UNIT)
    errors: list[BaseException] = []

    def cast(batch: list[tuple[int, str]]) -> None:
        worker_db = Database(backend_settings)
        try:
            for person_id, choice in batch:
                with worker_db.session() as session:
                    cast_ballot(session, session.get(Poll, poll.id), person_id, choice, NOW)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            worker_db.dispose()

    threads = [threading.Thread(target=cast, args=(members[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session(read_only=True) as session:
        ballots = session.scalars(select(Ballot)).all()
        result = tally(session, session.get(Poll, poll.id))  # type: ignore[arg-type]
    assert len(ballots) == 300
    assert len({b.unit_key for b in ballots}) == 300
    recount = {"A": 0, "B": 0, "C": 0}
    for ballot in ballots:
        recount[ballot.choices] += 1
    assert result.counts == recount == {"A": 100, "B": 100, "C": 100}
    db.dispose()


def test_the_sweep_opens_and_closes_polls_on_time(settings: Settings) -> None:
    from bot.schedule.polls import open_and_close

    db = Database(settings)
    later = new_poll(db, opens_at=NOW + timedelta(hours=1), closes_at=NOW + timedelta(hours=2))
    short = new_poll(db, title="短投票", closes_at=NOW + timedelta(seconds=5))
    assert (later.status, short.status) == ("draft", "open")
    for moment, expected in (
        (NOW + timedelta(seconds=6), ("draft", "closed")),
        (NOW + timedelta(hours=1), ("open", "closed")),
        (NOW + timedelta(hours=2), ("closed", "closed")),
    ):
        with db.session() as session:
            open_and_close(session, moment, settings)
        with db.session(read_only=True) as session:
            statuses = tuple(session.get(Poll, p.id).status for p in (later, short))  # type: ignore[union-attr]
        assert statuses == expected
    db.dispose()


def test_the_sweep_tells_each_person_once_open_remind_result_decision(
    settings: Settings,
) -> None:
    from bot.delivery import render
    from bot.schedule.polls import open_and_close
    from models import OutboxMessage
    from models.polls import decide_poll

    db = Database(settings)
    community(db)
    voter = resident(db, "o_voter", "16-1-101")
    idle = resident(db, "o_idle", "16-1-102")
    elsewhere = resident(db, "o_18", "18-1-101")
    poll = new_poll(db, scope="buildings", buildings=["16"])
    short = new_poll(
        db, title="短投票", closes_at=NOW + timedelta(hours=2), scope="buildings", buildings=["16"]
    )

    def sweep(at: datetime) -> None:
        with db.session() as session:
            open_and_close(session, at, settings)

    def told(person_id: int) -> list[str]:
        with db.session(read_only=True) as session:
            rows = session.execute(
                select(OutboxMessage.kind, OutboxMessage.payload)
                .where(OutboxMessage.person_id == person_id, OutboxMessage.kind.like("poll.%"))
                .order_by(OutboxMessage.id)
            ).all()
        return [f"{kind}: {render(kind, payload).text}" for kind, payload in rows]

    sweep(NOW)
    sweep(NOW)  # again: nothing twice
    # Two polls opened: each announced once, however often the sweep runs.
    assert [t.split(":")[0] for t in told(voter)] == ["poll.opened", "poll.opened"]
    assert "A 沥青" in told(voter)[0] and "投票 1 A" in told(voter)[0]
    assert told(elsewhere) == []  # not in scope
    vote(db, poll, voter, "B")
    sweep(NOW + timedelta(days=2, hours=1))  # within 24 h of the close
    assert [t.split(":")[0] for t in told(idle)] == ["poll.opened", "poll.opened", "poll.reminder"]
    assert not any("reminder" in t for t in told(voter))  # voted already
    # The short poll (2 h, less than the 24 h lead) closed without a reminder.
    sweep(NOW + timedelta(days=3, minutes=1))
    sweep(NOW + timedelta(days=3, minutes=2))
    results = [t for t in told(voter) if t.startswith("poll.result")]
    assert len(results) == 1 and "B 水泥：1 票" in results[0]
    assert not any(t.startswith("poll.result") for t in told(idle))  # did not vote
    with db.session() as session:
        decide_poll(session, session.get(Poll, poll.id), "采用水泥路面，明年春季施工。", NOW)  # type: ignore[arg-type]
    sweep(NOW + timedelta(days=3, minutes=3))
    assert "采用水泥路面" in told(voter)[-1]
    sweep(NOW + timedelta(days=34))
    assert told(voter)[-1].startswith("poll.followup") and "落实了吗" in told(voter)[-1]
    assert short.number == 2
    db.dispose()

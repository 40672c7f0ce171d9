"""表决 · 公示 · 异议 on a fixed clock: a poll decides a 议题, a household's paper ballot counts
once, the decision is published to every resident in scope with its public page, residents
object during the period, the admins are told, and the decision is confirmed or withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to, staff
from flask import Flask
from sqlalchemy import select

from bot.config import Settings
from models import Person
from models.agenda import (
    ACCEPTED,
    CONFIRMED,
    PUBLICISED,
    VOTING,
    WITHDRAWN,
    AgendaError,
    AgendaItem,
    next_number,
    timeline,
)
from models.paper_ballots import enter_paper_ballot, find_household, paper_ballots
from models.places import Building, Household, approve_binding
from models.polls import (
    HOUSEHOLD_UNIT,
    PERSON_UNIT,
    PollError,
    PollSpec,
    close_poll,
    decide_poll,
    poll_by_number,
    tally,
)
from models.publicity import confirm, open_agenda_poll, publish, withdraw
from models.sweeps.publicity import sweep_publicity
from words import when

BASE = "https://ysk.example.org"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "北门空地增加一组健身器材"
DECISION = "同意在北门空地安装一组健身器材，由物业负责维护"


@pytest.fixture
def world(settings: Settings, clock: Clock) -> tuple[Flask, WeChat]:
    app = make_app(settings.replace(app={"public_url": BASE}), clock=clock)
    with db_of(app).session() as s:
        building = Building(name="16")
        s.add(building)
        s.flush()
        for unit, room in (("1", "101"), ("1", "102"), ("2", "501")):
            s.add(Household(building_id=building.id, unit=unit, room=room, listed=True))
        s.add(
            AgendaItem(
                number=next_number(s),
                title=TITLE,
                body="我是16-1-101的王阿姨，提议在北门空地增加一组健身器材",
                stage=ACCEPTED,
                stage_at=clock(),
                created_at=clock(),
            )
        )
    staff(app, "o_director", "王主任", level=2)  # the community's admin on duty
    return app, WeChat(app.test_client(), settings)


def bound(app: Flask, chat: Chat, address: str) -> None:
    chat.say(f"绑定 {address}")
    with db_of(app).session() as s:
        person = s.scalars(select(Person).where(Person.openid == chat.openid)).one()
        approve_binding(s, person.id, "test", datetime.now(UTC))


def household_poll(app: Flask, clock: Clock, unit: str = HOUSEHOLD_UNIT) -> int:
    with db_of(app).session() as s:
        item = s.scalars(select(AgendaItem)).one()
        spec = PollSpec(
            title="北门空地是否安装健身器材",
            options=["同意", "不同意"],
            closes_at=clock() + timedelta(days=3),
            unit=unit,
        )
        return open_agenda_poll(s, item, spec, clock(), actor="王主任").number


def test_the_cycle_from_vote_to_confirmed_decision(
    world: tuple[Flask, WeChat], clock: Clock
) -> None:
    app, wechat = world
    mother, son, neighbour = (Chat(wechat, o) for o in ("o_mother", "o_son", "o_neighbour"))
    follower = Chat(wechat, "o_follower")  # follows the account, never bound
    follower.follow()
    for chat, address in ((mother, "16-1-101"), (son, "16-1-101"), (neighbour, "16-1-102")):
        bound(app, chat, address)

    number = household_poll(app, clock)
    with db_of(app).session(read_only=True) as s:
        item = s.scalars(select(AgendaItem)).one()
        assert item.stage == VOTING
        assert [(e.kind, e.text) for e in timeline(s, item.id)][-1] == ("poll", f"#{number}")

    assert "本户以这一票为准" in (mother.say(f"投票 {number} A") or "")
    assert "已记录" in (neighbour.say(f"投票 {number} B") or "")
    # 16-2-501 voted on paper at the meeting; 16-1-101 changed its mind there too.
    with db_of(app).session() as s:
        poll = poll_by_number(s, number)
        assert poll is not None
        paper = find_household(s, poll, "16", "2", "501")
        assert not enter_paper_ballot(s, poll, paper, "a", "李干事", clock()).replaced
        again = enter_paper_ballot(
            s, poll, find_household(s, poll, "16", "1", "101"), "B", "李干事", clock()
        )
        assert again.replaced and again.previous_voter is not None
        counted = tally(s, poll)
        assert (counted.ballots, counted.counts) == (3, {"A": 1, "B": 2})  # once per household
        assert [(p.household, p.choices, p.entered_by) for p in paper_ballots(s, poll)] == [
            ("16-2-501", "A", "李干事"),
            ("16-1-101", "B", "李干事"),
        ]
    # A member's WeChat ballot replaces the household's paper one (the last one counts).
    assert "已更新" in (son.say(f"投票 {number} A") or "")
    with db_of(app).session() as s:
        poll = poll_by_number(s, number)
        assert poll is not None
        assert tally(s, poll).counts == {"A": 2, "B": 1}
        assert [p.household for p in paper_ballots(s, poll)] == ["16-2-501"]
        close_poll(s, poll, clock())
        decide_poll(s, poll, DECISION, clock())
        item = s.scalars(select(AgendaItem)).one()
        published = publish(s, item, clock(), 5, BASE, actor="王主任", tz=SHANGHAI)
        until = when(item.objections_until, SHANGHAI)  # 12月11日 18:00, as residents read it
        assert item.stage == PUBLICISED and item.decision == DECISION  # the poll's decision
        assert published.told == 4
        token = item.public_token
    assert token and len(token) <= 32

    for openid in ("o_mother", "o_son", "o_neighbour", "o_follower"):  # everyone, not only voters
        told = pushes_to(app, openid, "publicity.")
        assert len(told) == 1
        assert DECISION in told[0] and f"{BASE}/p/{token}" in told[0] and "异议 1 理由" in told[0]
        assert f"公示期至 {until}。" in told[0]

    reply = neighbour.say("异议 #1 器材离我家窗户太近，晚上会吵")
    assert reply is not None and reply.startswith("已收到您对议题 #1「北门空地增加一组健身器材」")
    assert "器材离我家窗户太近，晚上会吵" in reply
    director = pushes_to(app, "o_director", "publicity.")
    assert len(director) == 1 and "器材离我家窗户太近，晚上会吵" in director[0]
    assert "请写上您的理由" in (son.say("异议 1") or "")
    assert "仅限本社区已绑定住址的居民" in (follower.say("异议 1 不同意") or "")
    assert "没有找到编号为 #7 的议题" in (son.say("异议 7 不同意") or "")

    with db_of(app).session() as s, pytest.raises(AgendaError) as early:
        confirm(s, s.scalars(select(AgendaItem)).one(), clock(), actor="王主任")
    assert early.value.reason == "period_running"

    clock.advance(days=5, minutes=1)
    assert "公示期已于" in (mother.say("异议 1 还是不同意") or "")
    with db_of(app).session() as s:
        assert sweep_publicity(s, clock()) is not None
        assert sweep_publicity(s, clock()) is None  # once
    due = pushes_to(app, "o_director", "publicity.objections_due")
    assert len(due) == 1 and "共收到 1 条异议" in due[0]
    with db_of(app).session() as s:
        item = s.scalars(select(AgendaItem)).one()
        assert item.confirmed_at is None  # objections: an admin decides, not the sweep
        confirm(s, item, clock(), actor="王主任")
        assert timeline(s, item.id)[-1].kind == CONFIRMED


def test_a_decision_nobody_objects_to_stands_when_the_period_ends(
    world: tuple[Flask, WeChat], clock: Clock
) -> None:
    app, _ = world
    with db_of(app).session() as s:
        item = s.scalars(select(AgendaItem)).one()
        publish(s, item, clock(), 2, BASE, decision="原地铺设塑胶地面", actor="王主任")
    clock.advance(days=1)
    with db_of(app).session() as s:
        assert sweep_publicity(s, clock()) is None  # not yet
    clock.advance(days=1, seconds=1)
    with db_of(app).session() as s:
        assert sweep_publicity(s, clock()) is not None
        item = s.scalars(select(AgendaItem)).one()
        assert item.confirmed_at is not None
        assert timeline(s, item.id)[-1].text == "公示期满无异议，决定生效"
    assert pushes_to(app, "o_director", "publicity.") == []


def test_a_withdrawn_decision_is_told_to_everyone_it_was_published_to(
    world: tuple[Flask, WeChat], clock: Clock
) -> None:
    app, wechat = world
    resident = Chat(wechat, "o_resident")
    bound(app, resident, "16-1-102")
    Chat(wechat, "o_follower").follow()
    with db_of(app).session() as s:
        item = s.scalars(select(AgendaItem)).one()
        publish(s, item, clock(), 5, BASE, decision="原地铺设塑胶地面")
        assert withdraw(s, item, "选址需重新论证", clock(), actor="王主任") == 2
        assert item.stage == WITHDRAWN
    for openid in ("o_resident", "o_follower"):
        told = pushes_to(app, openid, "publicity.withdrawn")
        assert len(told) == 1 and "选址需重新论证" in told[0]
    assert "不在公示期" in (resident.say("异议 1 不同意") or "")


def test_publishing_needs_a_decision_and_paper_ballots_need_a_household_poll(
    world: tuple[Flask, WeChat], clock: Clock
) -> None:
    app, _ = world
    with db_of(app).session() as s, pytest.raises(AgendaError) as refused:
        publish(s, s.scalars(select(AgendaItem)).one(), clock(), 5, BASE)
    assert refused.value.reason == "no_decision"
    number = household_poll(app, clock, unit=PERSON_UNIT)
    with db_of(app).session() as s:
        poll = poll_by_number(s, number)
        assert poll is not None
        home = find_household(s, poll, "16", "1", "101")
        with pytest.raises(PollError) as person_poll:
            enter_paper_ballot(s, poll, home, "A", "李干事", clock())
        assert person_poll.value.reason == "person_poll"
        with pytest.raises(PollError) as unknown:
            find_household(s, poll, "16", "9", "901")
        assert unknown.value.reason == "household"

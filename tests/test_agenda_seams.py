"""The whole 议 cycle, one item, on a fixed clock: each stage's part was tested by its own
engineer from a state built directly; this walks the seams between them, by chat for the
residents and the staff member carrying it out, by the models the CLI and console call for
the admin's acts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import Chat, Clock, db_of, pushes_to, staff
from flask import Flask
from test_agenda_dialogue import admin, bound, setup

from bot.config import Settings
from bot.schedule.polls import open_and_close
from handlers import agenda_texts as texts
from models.agenda import (
    CARRYING_OUT,
    DELIBERATING,
    DONE,
    PUBLICISED,
    VOTING,
    AgendaError,
    AgendaItem,
    agenda_by_number,
)
from models.carrying import assign
from models.kpi_agenda import pipeline
from models.meeting_minutes import ItemMinutes, Minutes, record_minutes
from models.meeting_ops import MeetingSpec, call_meeting
from models.meetings import meeting_by_number
from models.polls import CLOSED, PollSpec, close_poll, decide_poll, poll_by_number
from models.proposals import accept, create
from models.publicity import decision_for, open_agenda_poll, publish, withdraw
from models.sweeps.carrying import ask_reviews
from models.sweeps.publicity import sweep_publicity

PROPOSAL = "我提议在小区北门空地增加一组健身器材"
DECISION = "在北门空地安装一组健身器材，由物业公司实施"
URL = "https://example.org"


def _item(app: Flask, act: object) -> AgendaItem:
    """Run `act(session, item)` on #1 in one transaction; the item as it is after."""
    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        act(session, item)  # type: ignore[operator]
        session.flush()
        session.expunge(item)
        return item


def test_one_item_runs_from_proposal_to_review(backend_settings: Settings, clock: Clock) -> None:
    settings = backend_settings
    app, wechat = setup(settings, clock, threshold=2)
    tz = settings.tz
    admin(app, Chat(wechat, "o_admin"))
    staff(app, "o_wang", "王芳")
    proposer = bound(app, Chat(wechat, "o_proposer"), "16-1-101")
    neighbour = bound(app, Chat(wechat, "o_neighbour"), "18-2-301")
    owner = Chat(wechat, "o_wang")

    assert "议题 #1" in (proposer.say(f"提议 {PROPOSAL}") or "")
    assert "已通知居委会" in (neighbour.say("附议 1") or "")
    assert pushes_to(app, "o_admin", "agenda.threshold")

    # 立项, then a meeting on it: invitees answer, the minutes record a consensus.
    item = _item(app, lambda s, i: accept(s, i, clock(), actor="王主任"))
    assert item.accepted_at is not None
    at = clock() + timedelta(days=2)
    spec = MeetingSpec("北门空地议事会", at, "居委会会议室", [1], "all", "王主任")
    with db_of(app).session() as session:
        call_meeting(session, spec, None, clock(), settings.tz)
    assert pushes_to(app, "o_neighbour", "meeting.invited")
    assert "已记录：您将参加议事会 #1" in (neighbour.say("参加 1") or "")
    assert agenda_by_number_stage(app) == DELIBERATING

    clock.advance(days=3)
    minutes = Minutes("居民代表 2 人", "讨论了北门空地", {1: ItemMinutes("同意", "提交表决")})
    with db_of(app).session() as session:
        meeting = meeting_by_number(session, 1)
        assert meeting is not None
        record_minutes(session, meeting, minutes, "王主任", clock())
    assert pushes_to(app, "o_proposer", "meeting.minutes")

    # 表决: a poll on the item; residents vote by chat; the committee decides it.
    poll_spec = PollSpec(
        "北门空地是否安装健身器材", ["同意", "不同意"], clock() + timedelta(days=2)
    )
    _item(app, lambda s, i: open_agenda_poll(s, i, poll_spec, clock(), actor="王主任"))
    assert agenda_by_number_stage(app) == VOTING
    assert "已记录您对 #1「北门空地是否安装健身器材」的投票" in (proposer.say("投票 1 A") or "")
    clock.advance(days=3)
    with db_of(app).session() as session:
        poll = poll_by_number(session, 1)
        assert poll is not None
        close_poll(session, poll, clock())
        decide_poll(session, poll, DECISION, clock())

    # 公示: everyone in scope hears; an objection reaches the admin; the period ends.
    _item(app, lambda s, i: publish(s, i, clock(), 5, URL, actor="王主任", tz=tz))
    assert agenda_by_number_stage(app) == PUBLICISED
    published = pushes_to(app, "o_neighbour", "publicity.published")
    assert published and DECISION in published[0] and "/p/" in published[0]
    assert "异议" in (neighbour.say("异议 1 器材离窗户太近") or "")
    objection = pushes_to(app, "o_admin", "publicity.objection")
    period = published[0].split("公示期至 ")[1].split("。")[0]
    assert objection and f"公示期至 {period}。" in objection[0]  # one period, one clock
    clock.advance(days=6)
    with db_of(app).session() as session:
        sweep_publicity(session, clock())  # objections: the admin decides, not the sweep
    from models.publicity import confirm

    _item(app, lambda s, i: confirm(s, i, clock(), actor="王主任"))

    # 落实: the owner is pushed, reports 进展 and 完成 by chat; the residents rate.
    due = clock() + timedelta(days=30)
    _item(app, lambda s, i: assign(s, i, clock(), owner="王芳", due_at=due, actor="王主任", tz=tz))
    assert agenda_by_number_stage(app) == CARRYING_OUT
    assert pushes_to(app, "o_wang", "agenda.assigned")
    assert "#1" in (owner.say("进展 1 器材已订购") or "")
    assert pushes_to(app, "o_neighbour", "agenda.progress")
    assert "#1" in (owner.say("完成 1 器材已安装") or "")
    assert agenda_by_number_stage(app) == DONE
    assert pushes_to(app, "o_proposer", "agenda.rate")
    assert "满意" in (proposer.say("1") or "")
    assert "满意" in (neighbour.say("评议 1 2") or "")

    # 回头看 after review_days; the dashboard's figures count the item.
    clock.advance(days=settings.deliberation.review_days + 1)
    with db_of(app).session() as session:
        ask_reviews(session, clock())
    assert pushes_to(app, "o_proposer", "agenda.review")
    assert "#1" in (proposer.say("1 器材一直在用") or "")
    with db_of(app).session() as session:
        figures = pipeline(session, clock())
    assert figures.stages[DONE] == 1 and figures.rated == 2 and figures.satisfied == 2
    assert len(figures.to_accept) == 1 and len(figures.to_done) == 1


def agenda_by_number_stage(app: Flask) -> str:
    with db_of(app).session(read_only=True) as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        return item.stage


def _met(app: Flask, clock: Clock, settings: Settings, outcome: str) -> None:
    """#1 on the agenda, a meeting on it held, its minutes giving `outcome` for it."""
    with db_of(app).session() as session:
        create(
            session,
            "北门空地健身器材",
            "",
            None,
            clock(),
            actor="王主任",
            unit="household",
            threshold=1,
        )
        spec = MeetingSpec("议事会", clock() + timedelta(hours=1), "会议室", [1], "all", "王主任")
        call_meeting(session, spec, None, clock(), settings.tz)
    clock.advance(hours=2)
    with db_of(app).session() as session:
        meeting = meeting_by_number(session, 1)
        assert meeting is not None
        record_minutes(
            session,
            meeting,
            Minutes("5 人", "议了", {1: ItemMinutes("", outcome)}),
            "王主任",
            clock(),
        )


@pytest.mark.parametrize(
    "outcome", ["提交表决", "同意提交表决", "提交住户表决（投票 #1）", "暂缓", "下次再议"]
)
def test_minutes_that_decided_nothing_are_no_decision_to_publish(
    settings: Settings, clock: Clock, outcome: str
) -> None:
    app, _ = setup(settings, clock)
    _met(app, clock, settings, outcome)
    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None and decision_for(session, item) is None
        with pytest.raises(AgendaError) as refused:
            publish(session, item, clock(), 5)
    assert refused.value.reason == "no_decision"


def test_a_vote_not_yet_decided_is_no_decision_even_after_a_consensus(
    backend_settings: Settings, clock: Clock
) -> None:
    settings = backend_settings
    app, _ = setup(settings, clock)
    _met(app, clock, settings, "达成共识：安装一组健身器材")
    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        assert decision_for(session, item) == "达成共识：安装一组健身器材"
        spec = PollSpec("是否安装", ["同意", "不同意"], clock() + timedelta(days=1))
        poll = open_agenda_poll(session, item, spec, clock())
        close_poll(session, poll, clock())  # closed, its decision not recorded yet
        assert decision_for(session, item) is None
        decide_poll(session, poll, DECISION, clock())
        assert decision_for(session, item) == DECISION


def test_withdrawing_an_item_closes_the_vote_on_it(
    backend_settings: Settings, clock: Clock
) -> None:
    settings = backend_settings
    app, wechat = setup(settings, clock)
    voter = bound(app, Chat(wechat, "o_voter"), "16-1-101")
    with db_of(app).session() as session:
        item = create(
            session, "北门空地", "", None, clock(), actor="王主任", unit="household", threshold=1
        )
        spec = PollSpec("是否安装", ["同意", "不同意"], clock() + timedelta(days=3))
        open_agenda_poll(session, item, spec, clock())
    assert "已记录您对 #1" in (voter.say("投票 1 A") or "")
    with db_of(app).session() as session:
        item = agenda_by_number(session, 1)
        assert item is not None
        withdraw(session, item, "物业已另行解决", clock(), actor="王主任")
        poll = poll_by_number(session, 1)
        assert poll is not None and poll.status == CLOSED
    refused = voter.say("投票 1 B") or ""
    assert "已记录" not in refused, refused  # no more ballots on a withdrawn item
    with db_of(app).session() as session:
        open_and_close(session, clock() + timedelta(days=4), settings)
    assert pushes_to(app, "o_voter", "poll.result") == []  # no "a decision will follow"
    assert len(pushes_to(app, "o_voter", "publicity.withdrawn")) == 1


def test_a_long_list_and_a_long_proposal_still_fit_one_reply(
    settings: Settings, clock: Clock
) -> None:
    app, wechat = setup(settings, clock)
    with db_of(app).session() as session:
        for n in range(10):
            title = f"第{n}项" + "长" * 96
            create(session, title, "", None, clock(), actor="王", unit="household", threshold=3)
    resident = bound(app, Chat(wechat, "o_resident"), "16-1-101")
    listing = resident.say("议题") or ""
    assert len(listing) <= 600 and listing.endswith(texts.LIST_FOOTER), listing
    assert "#10 第9项" in listing  # the newest first
    long = "我提议" + "在北门空地增加健身器材，" * 150
    assert "议题 #11" in (resident.say(f"提议 {long}") or "")
    shown = resident.say("议题 11") or ""
    assert len(shown) <= 600 and "进程：" in shown and "提议" in shown.split("进程：")[1]
    assert shown.endswith(texts.DETAIL_BACK.format(number=11)), shown[-80:]

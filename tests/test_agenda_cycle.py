"""One 议题 from 提议 to 回头看, on a fixed clock, through the channels people use: residents
and staff by chat, the committee in the console, the scheduler's sweeps in between.

Each stage has its own dialogue tests; this one walks the seams between them: what each
stage leaves is what the next one needs, and every push arrives as its recipient reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from conftest import (
    Chat,
    Clock,
    WeChat,
    console_login,
    csrf_token_of,
    db_of,
    make_account,
    make_app,
    pushes_to,
    staff,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bot.cli import main
from bot.config import Settings
from bot.schedule import SWEEPS
from models import Person, Ticket
from models.places import Building, Grid, approve_binding

BASE = "https://ysk.example.org"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROPOSAL = "提议 在小区北门空地增加一组健身器材，方便老人锻炼"
DECISION = "同意在北门空地安装一组健身器材，由物业负责日常维护"
OBJECTION = "异议 1 器材离3号楼太近，晚上会吵"


def _app(settings: Settings, clock: Clock) -> Flask:
    deliberation = replace(settings.deliberation, backing_threshold=2)
    app = make_app(
        replace(settings, deliberation=deliberation).replace(app={"public_url": BASE}),
        clock=clock,
    )
    with db_of(app).session() as s:
        grid = Grid(name="第一网格")
        s.add(grid)
        s.flush()
        s.add(Building(name="16", grid_id=grid.id))
    return app


def _bound(app: Flask, wechat: WeChat, openid: str, address: str) -> Chat:
    chat = Chat(wechat, openid)
    chat.say(f"绑定 {address}")
    with db_of(app).session() as s:
        person = s.scalars(select(Person).where(Person.openid == openid)).one()
        approve_binding(s, person.id, "test", datetime.now(UTC))
    return chat


def _console(app: Flask) -> FlaskClient:
    make_account(app, "director", "admin")
    client = app.test_client()
    assert console_login(client, "director").status_code == 303
    return client


def _post(client: FlaskClient, path: str, form: dict[str, str]) -> TestResponse:
    token = csrf_token_of(client.get("/admin/agenda"))
    answer = client.post(path, data={"csrf_token": token, **form})
    assert answer.status_code in (200, 303), (path, answer.status_code)
    return answer


def _sweep(app: Flask, name: str, clock: Clock) -> None:
    with db_of(app).session() as s:
        SWEEPS[name](s, clock(), app.extensions["yishiting"].settings)


def _typed(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _last(app: Flask, openid: str, kind: str) -> str:
    told = pushes_to(app, openid, kind)
    assert told, f"{openid} was told nothing of kind {kind}"
    return told[-1]


def test_one_agenda_item_from_proposal_to_review(settings: Settings, clock: Clock) -> None:
    app = _app(settings, clock)
    wechat = WeChat(app.test_client(), settings)
    staff(app, "o_director", "王主任", level=2)  # the community's supervisor on duty
    staff(app, "o_li", "李干事", level=1)
    wang = _bound(app, wechat, "o_wang", "16-1-101")  # proposes
    zhao = _bound(app, wechat, "o_zhao", "16-1-102")  # backs, then objects
    chen = _bound(app, wechat, "o_chen", "16-2-501")  # a representative
    console = _console(app)

    # 提议 · 附议: the second household reaches the threshold; the committee hears once.
    filed = wang.say(PROPOSAL) or ""
    assert "议题 #1" in filed and "附议 1" in filed
    assert "目前 2/2 户附议" in (zhao.say("附议 1") or "")
    assert "议题 #1" in _last(app, "o_director", "agenda.threshold")
    assert len(pushes_to(app, "o_director", "agenda.threshold")) == 1

    # 立项 in the console; the proposer and the backer are told.
    _post(console, "/admin/agenda/1/accept", {})
    assert "#1" in _last(app, "o_wang", "agenda.accepted")
    assert "#1" in _last(app, "o_zhao", "agenda.accepted")

    # 议事会 with the representatives: invited with the agenda, answers 参加, is reminded.
    _post(console, "/admin/meetings/reps/add", {"who": "o_chen"})
    at = clock() + timedelta(days=3)
    meeting = {"title": "北门空地议事会", "at": _typed(at), "place": "社区活动室"}
    _post(console, "/admin/meetings/new", {**meeting, "agenda": "1", "reps": "on"})
    invitation = _last(app, "o_chen", "meeting.invited")
    assert "北门空地议事会" in invitation and "参加 1" in invitation
    assert "参加" in (chen.say("参加 1") or "")
    clock.advance(days=2, hours=6)
    _sweep(app, "meetings", clock)
    assert "北门空地议事会" in _last(app, "o_chen", "meeting.reminder")

    # 纪要 after the meeting, to the invitees and the backers.
    clock.advance(days=1)
    minutes = {"attendees": "陈代表、王阿姨、物业张经理", "minutes": "逐项协商，决定付诸户决。"}
    minutes |= {"summary_1": "多数赞成，位置待定", "outcome_1": "提交全体住户表决"}
    _post(console, "/admin/meetings/1/minutes", minutes)
    for openid in ("o_chen", "o_wang", "o_zhao"):
        assert "提交全体住户表决" in _last(app, openid, "meeting.minutes"), openid

    # 表决 by household: a WeChat ballot and a paper ballot, then the committee's decision.
    poll = {"title": "北门空地安装健身器材", "options": "同意\n不同意", "scope": "all"}
    poll |= {"unit": "household", "max_choices": "1", "quorum": "0", "threshold": "50"}
    poll |= {"closes_at": _typed(clock() + timedelta(days=2)), "agenda": "1"}
    _post(console, "/admin/polls/new", poll)
    assert "本户以这一票为准" in (wang.say("投票 1 A") or "")
    _post(console, "/admin/polls/1/ballot", {"household": "16-2-501", "choice": "A"})
    _post(console, "/admin/polls/1/close", {})
    _post(console, "/admin/polls/1/decide", {"decision": DECISION})

    # 公示 to everyone in scope, with the public page; an objection reaches the committee.
    _post(console, "/admin/agenda/1/publish", {"days": "5"})
    published = _last(app, "o_chen", "publicity.published")
    assert DECISION in published and "异议 1" in published
    link = re.search(r"/p/[\w-]+", published)
    assert link is not None and f"{BASE}{link.group(0)}" in published
    public = app.test_client().get(link.group(0)).get_data(as_text=True)
    assert DECISION in public and "o_wang" not in public and "16-1-101" not in public
    assert "收到" in (zhao.say(OBJECTION) or "")
    assert "器材离3号楼太近，晚上会吵" in _last(app, "o_director", "publicity.objection")
    clock.advance(days=5, hours=1)
    _sweep(app, "publicity", clock)
    assert "#1" in _last(app, "o_director", "publicity.objections_due")
    _post(console, "/admin/agenda/1/confirm", {})

    # 落实: the owner is pushed, reports progress by chat, completes it.
    due = (clock() + timedelta(days=30)).astimezone(SHANGHAI).date().isoformat()
    _post(console, "/admin/agenda/1/assign", {"owner": "李干事", "due": due})
    assert "进展 1" in _last(app, "o_li", "agenda.assigned")
    li = Chat(wechat, "o_li")
    li.say("进展 1 已与物业确定位置：北门东侧空地")
    for openid in ("o_wang", "o_zhao"):
        assert "北门东侧空地" in _last(app, openid, "agenda.progress"), openid
    clock.advance(days=10)
    li.say("完成 1 健身器材已安装并验收")

    # 评议 by those who took part; a bare number answers the question.
    rate = _last(app, "o_wang", "agenda.rate")
    assert "健身器材已安装并验收" in rate and "1" in rate
    assert "满意" in (wang.say("1") or "")
    assert "不满意" in (chen.say("3") or "")

    runner = CliRunner()
    shown = runner.invoke(main, ["agenda", "show", "1", "--json", "--config", settings.source])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert (data["stage"], data["meetings"], data["polls"]) == ("done", [1], [1])
    assert (data["backing"], data["backing_threshold"], data["objections"]) == (2, 2, 1)
    assert data["decision"] == DECISION and data["owner"] == "李干事"
    assert data["public_url"].endswith(link.group(0))  # the CLI's config names no public_url
    assert [p["text"] for p in data["progress"]] == ["已与物业确定位置：北门东侧空地"]
    assert data["ratings"] == {"1": 1, "2": 0, "3": 1}

    # 回头看 30 days on: a structured answer on the item, never a stray ticket.
    clock.advance(days=31)
    _sweep(app, "agenda_reviews", clock)
    assert "#1" in _last(app, "o_wang", "agenda.review")
    wang.say("1")
    held = runner.invoke(main, ["agenda", "show", "1", "--json", "--config", settings.source])
    assert json.loads(held.output)["review"] == {"held": 1, "not_held": 0}
    with db_of(app).session(read_only=True) as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0

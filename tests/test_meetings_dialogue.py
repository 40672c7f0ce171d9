"""议事会 from calling to minutes, as its people read it: the invitees are pushed the agenda,
answer 参加 / 请假, those coming are reminded the day before (once), and the minutes go to
the invitees and the items' backers — on a fixed clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from conftest import Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from meeting_fixtures import SHANGHAI, accepted_item, bound, cli, local, person_id, places
from sqlalchemy import select

from bot.config import Settings
from bot.schedule.meetings import remind
from models import Person
from models.agenda import AgendaItem, agenda_by_number, timeline
from models.agenda_json import agenda_json
from models.meeting_minutes import latest_outcome, record_minutes
from models.meetings import MeetingInvite, Representative, meeting_by_number
from models.minutesfile import parse_minutes
from models.privacy import ERASED_TEXT, erase_person

MINUTES = """参会人员：张三、李四、物业公司王经理
纪要：
到会居民代表 3 人，社区书记主持。
逐项协商如下。
议题 #1
摘要：多数同意在北门空地安装健身器材。
结论：达成共识：安装一组健身器材，晚上九点后停用
"""


def record(app: Flask, clock: Clock) -> bool:
    with db_of(app).session() as session:
        meeting = meeting_by_number(session, 1)
        assert meeting is not None
        return record_minutes(session, meeting, parse_minutes(MINUTES)[0], "王书记", clock())


def test_a_meeting_from_invitation_to_minutes(
    settings: Settings, clock: Clock, config_path: Path
) -> None:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = clock()
    zhang = bound(app, wechat, "o_zhang", "16-1-101", now)
    li = bound(app, wechat, "o_li", "16-1-102", now)
    bound(app, wechat, "o_backer", "18-1-101", now)
    outsider = bound(app, wechat, "o_far", "18-2-202", now)
    item = accepted_item(app, "北门增加健身器材", now, backers=("o_backer",))
    assert cli(config_path, "people", "reps", "add", "o_zhang").exit_code == 0
    at = now.replace(second=0, microsecond=0) + timedelta(days=3)

    called = cli(
        config_path,
        "meeting",
        "create",
        "--title",
        "北门空地议事会",
        "--at",
        local(at),
        "--place",
        "社区活动室",
        "--agenda",
        str(item),
        "--invite",
        "reps,building:16",
    )
    assert called.exit_code == 0, called.output
    assert called.stdout.splitlines()[0] == "#1 北门空地议事会"
    invitation = pushes_to(app, "o_li", "meeting.")
    assert len(invitation) == 1 and pushes_to(app, "o_zhang", "meeting.") == invitation
    assert "#1「北门增加健身器材」" in invitation[0] and "社区活动室" in invitation[0]
    assert "回复“参加 1”" in invitation[0] and "“请假 1”" in invitation[0]
    assert pushes_to(app, "o_far", "meeting.") == []
    with db_of(app).session(read_only=True) as session:
        found = agenda_by_number(session, item)
        assert found is not None and found.stage == "deliberating"
        assert agenda_json(session, found, SHANGHAI)["meetings"] == [1]
        assert [e.kind for e in timeline(session, found.id)][-2:] == ["deliberating", "meeting"]

    assert "已记录：您将参加议事会 #1「北门空地议事会」" in (zhang.say("参加 1") or "")
    excused = li.say("请假 1 那天出差")
    assert excused is not None and "已记录您的请假" in excused and "请假理由：那天出差" in excused
    assert "您不在本次议事会的邀请名单中" in (outsider.say("参加 1") or "")
    changed = li.say("参加 #1")
    assert changed is not None and "已更新您之前的回复" in changed
    assert "您已回复参加" in (li.say("参加 1") or "")
    assert li.say("请假 1") is not None  # and back: 李四 cannot come after all
    assert "没有找到编号为 #9 的议事会" in (zhang.say("参加 9") or "")
    assert "请回复“参加 编号”" in (zhang.say("参加") or "")
    full_width = li.say("请假 ＃１，家里有事")  # full-width number and comma: the same answer
    assert full_width is not None and "请假理由：家里有事。" in full_width

    def sweep() -> None:
        with db_of(app).session() as session:
            remind(session, clock(), settings)

    clock.advance(days=1, hours=23)  # 25 hours before: not yet
    sweep()
    assert pushes_to(app, "o_zhang", "meeting.reminder") == []
    clock.advance(hours=2)  # 23 hours before: those coming are reminded, once
    sweep()
    sweep()
    reminder = pushes_to(app, "o_zhang", "meeting.reminder")
    assert len(reminder) == 1 and "您已回复参加" in reminder[0]
    assert pushes_to(app, "o_li", "meeting.reminder") == []  # 请假

    clock.advance(days=1)
    assert "已经开始" in (zhang.say("请假 1") or "")  # too late to change
    assert record(app, clock) is True  # as `meeting minutes 1 FILE` does, on the test's clock
    for openid in ("o_zhang", "o_li", "o_backer"):
        told = pushes_to(app, openid, "meeting.minutes")
        assert len(told) == 1, openid
        assert "到会居民代表 3 人" in told[0] and "达成共识：安装一组健身器材" in told[0]
    assert pushes_to(app, "o_far", "meeting.minutes") == []
    assert record(app, clock) is False  # a correction: not pushed again
    assert len(pushes_to(app, "o_backer", "meeting.minutes")) == 1
    with db_of(app).session(read_only=True) as session:
        meeting = meeting_by_number(session, 1)
        assert meeting is not None and meeting.attendees == "张三、李四、物业公司王经理"
        assert meeting.minutes == "到会居民代表 3 人，社区书记主持。\n逐项协商如下。"
        item_row = session.scalars(select(AgendaItem).where(AgendaItem.number == item)).one()
        assert timeline(session, item_row.id)[-1].kind == "minutes"
        assert latest_outcome(session, item_row.id) == "达成共识：安装一组健身器材，晚上九点后停用"
    assert person_id(app, "o_zhang")


def test_a_meeting_called_inside_the_reminder_window_sends_no_reminder(
    settings: Settings, clock: Clock, config_path: Path
) -> None:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = clock()
    zhang = bound(app, wechat, "o_zhang", "16-1-101", now)
    item = accepted_item(app, "北门增加健身器材", now)
    at = now + timedelta(hours=5)
    created = cli(
        config_path,
        "meeting",
        "create",
        "--title",
        "临时议事会",
        "--at",
        local(at),
        "--place",
        "活动室",
        "--agenda",
        str(item),
        "--invite",
        "all",
    )
    assert created.exit_code == 0, created.output
    zhang.say("参加 1")
    with db_of(app).session() as session:
        remind(session, clock(), settings)
    assert pushes_to(app, "o_zhang", "meeting.reminder") == []


def test_erasure_forgets_a_leave_reason_and_the_representative(
    settings: Settings, clock: Clock, config_path: Path
) -> None:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = clock()
    li = bound(app, wechat, "o_li", "16-1-102", now)
    item = accepted_item(app, "北门增加健身器材", now)
    assert cli(config_path, "people", "reps", "add", "o_li").exit_code == 0
    at = local(now + timedelta(days=3))
    made = cli(
        config_path, "meeting", "create", "--title", "议事会", "--at", at, "--place", "活动室",
        "--agenda", str(item), "--invite", "reps",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    li.say("请假 1 家里老人住院")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == "o_li")).one()
        erased = erase_person(session, person, "test", clock())
        assert erased.counts["meeting_reasons"] == 1 and erased.counts["representative"] == 1
    with db_of(app).session(read_only=True) as session:
        invite = session.scalars(select(MeetingInvite)).one()
        assert invite.answer == "excused" and invite.reason == ERASED_TEXT
        assert session.scalars(select(Representative)).all() == []

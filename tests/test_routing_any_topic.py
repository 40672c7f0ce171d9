"""Every ticket is routed, whichever way its topic is set, and nothing waits unseen.

A ticket the classifier was unsure about gets its topic from the resident's digit, from 转派,
or from `tickets retopic`; each way gives it a holder, a deadline, a push and a timeline
entry, exactly as a ticket classified at once. One that nobody holds after
`[tickets] triage_hours` goes to the duty supervisor, once, and the dashboard counts it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat, console_login, db_of, make_account, make_app, pushes_to
from flask import Flask

from bot.cli import main
from bot.config import Settings
from bot.schedule.tickets import triage
from models import Ticket, ticket_by_number
from models.staff import LEVEL_COMMUNITY, add_staff

UNSURE = "我家门口这个事情拖了很久了，想请社区帮忙看看"


def _staff(
    app: Flask, openid: str, name: str, topics: tuple[str, ...] = (), level: int = 1
) -> None:
    with db_of(app).session() as session:
        add_staff(session, openid, name, topics, (), None, level, datetime.now(UTC))


def _ticket(app: Flask, number: int) -> Ticket:
    with db_of(app).session(read_only=True) as session:
        found = ticket_by_number(session, number)
        assert found is not None
        [*_], _ = found.events, found.topic  # loaded before the session ends
        session.expunge_all()
        return found


@pytest.fixture
def community(settings: Settings, clock: Clock) -> Any:
    app = make_app(settings, clock=clock)
    return app, WeChat(app.test_client(), settings)


def _option(reply: str, topic: str) -> str:
    """The digit the "which topic?" question offers for `topic`."""
    found = re.search(rf"^(\d+) {topic}$", reply, re.MULTILINE)
    assert found is not None, reply
    return found.group(1)


def test_a_topic_the_resident_picks_routes_the_ticket(community: Any, clock: Clock) -> None:
    app, wechat = community
    _staff(app, "o_sun", "孙经理", ("邻里纠纷",))
    resident = Chat(wechat, "o_resident")

    asked = resident.say(UNSURE)
    assert asked is not None and "请问属于哪一类" in asked
    assert _ticket(app, 1).assignee_id is None  # nobody yet: no grid, no supervisor

    assert resident.say(_option(asked, "邻里纠纷")) == (
        "好的，#1 已归入【邻里纠纷】。回复【我的】查看进度。"
    )
    ticket = _ticket(app, 1)
    assert ticket.assignee_id is not None and ticket.due_at is not None
    assert ticket.events[-1].action == "topic_chosen"
    [pushed] = pushes_to(app, "o_sun")
    assert "【新诉求待办】" in pushed and "#1" in pushed and "邻里纠纷" in pushed
    assert "拖了很久" in pushed and "接单 1" in pushed


def test_retopic_from_the_command_line_routes_an_open_ticket(
    community: Any, config_path: Path
) -> None:
    app, wechat = community
    _staff(app, "o_sun", "孙经理", ("邻里纠纷",))
    Chat(wechat, "o_resident").say(UNSURE)

    result = CliRunner().invoke(
        main, ["tickets", "retopic", "--config", str(config_path), "1", "邻里纠纷"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "#1 → 邻里纠纷 (confirmed)\n"
    assert result.stderr == "#1 routed: assigned to 孙经理\n"
    ticket = _ticket(app, 1)
    assert ticket.topic_confirmed and ticket.assignee_id is not None
    assert ticket.events[-1].action == "retopic"
    assert "#1" in pushes_to(app, "o_sun")[-1]


def test_an_unheld_ticket_goes_to_the_duty_supervisor_once(
    community: Any, settings: Settings, clock: Clock
) -> None:
    app, wechat = community
    Chat(wechat, "o_resident").say(UNSURE)
    # The supervisor is registered after the filing, so the ticket really has nobody.
    _staff(app, "o_li", "李主任", level=LEVEL_COMMUNITY)
    assert _ticket(app, 1).assignee_id is None

    def sweep(at: datetime) -> str | None:
        with db_of(app).session() as session:
            return triage(session, at, settings)

    filed = clock()
    assert sweep(filed + timedelta(hours=3, minutes=59)) is None
    assert pushes_to(app, "o_li") == []
    assert sweep(filed + timedelta(hours=4, minutes=1)) == "1 unassigned told to the supervisor"
    [told] = pushes_to(app, "o_li")
    assert "【诉求4小时无人认领】" in told and "#1" in told and "接单 1" in told
    assert sweep(filed + timedelta(hours=9)) is None  # once
    assert len(pushes_to(app, "o_li")) == 1
    assert _ticket(app, 1).events[-1].action == "triage"


def test_the_dashboard_counts_tickets_nobody_holds(community: Any, clock: Clock) -> None:
    app, wechat = community
    Chat(wechat, "o_resident").say(UNSURE)
    make_account(app, "boss", "admin")
    client = app.test_client()
    assert console_login(client, "boss").status_code == 303

    page = client.get("/admin").get_data(as_text=True)
    tile = re.search(
        r'<a class="stat( alert)?" href="/admin/tickets\?status=open&assignee=none"'
        r"[^>]*>\s*<b>(\d+)</b><span>待分派</span>",
        page,
    )
    assert tile is not None, page
    assert tile.group(2) == "1" and tile.group(1) is None  # filed just now: not yet late

    clock.advance(hours=5)
    page = client.get("/admin").get_data(as_text=True)
    assert 'class="stat alert" href="/admin/tickets?status=open&assignee=none"' in page
    assert "其中 1 件已超过认领时限" in page


def test_a_late_answer_does_not_take_a_ticket_staff_already_took(community: Any) -> None:
    app, wechat = community
    _staff(app, "o_sun", "孙经理", ("邻里纠纷",))
    _staff(app, "o_wang", "王网格")
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    asked = resident.say(UNSURE)
    assert asked is not None
    reply = wang.say("接单 1")
    assert reply is not None and reply.startswith("已接单 #1")

    assert resident.say(_option(asked, "邻里纠纷")) == (
        "#1 已由工作人员受理（待分类），无需再选择类别。回复【我的】查看进度。"
    )
    ticket = _ticket(app, 1)
    assert ticket.status == "accepted" and ticket.topic is None
    assert pushes_to(app, "o_sun") == []


def test_relabeling_a_ticket_its_holder_works_on_keeps_the_work_going(
    community: Any, config_path: Path
) -> None:
    app, wechat = community
    _staff(app, "o_sun", "孙经理", ("邻里纠纷",))
    resident, sun = Chat(wechat, "o_resident"), Chat(wechat, "o_sun")
    asked = resident.say(UNSURE)
    assert asked is not None
    resident.say(_option(asked, "邻里纠纷"))
    sun.say("接单 1")
    before = _ticket(app, 1)

    result = CliRunner().invoke(
        main, ["tickets", "retopic", "--config", str(config_path), "1", "邻里纠纷"]
    )
    assert result.exit_code == 0, result.output
    after = _ticket(app, 1)
    assert after.topic_confirmed  # the label is what the relabel is for
    assert (after.status, after.assignee_id, after.due_at) == (
        "accepted",
        before.assignee_id,
        before.due_at,
    )
    assert len(pushes_to(app, "o_sun")) == 1  # the first assignment only

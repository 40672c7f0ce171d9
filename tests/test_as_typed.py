"""What people read is what was typed: folding is for matching commands, never for the text.

Staff write outcomes, reasons and notes with full-width punctuation, Latin capitals and
traditional characters; residents and the console see exactly that. A number past every id
is simply not found.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from models import InboundMessage, ticket_by_number
from models.staff import add_staff

OUTCOME = "已更换电梯控制板，恢复运行；LED 灯亦已更換（電梯公司：ＡＢＣ）"


def _staff(app: Flask, openid: str, name: str, topics: tuple[str, ...] = ()) -> None:
    with db_of(app).session() as session:
        add_staff(session, openid, name, topics, (), None, 1, datetime.now(UTC))


@pytest.fixture
def community(settings: Settings, clock: Clock) -> Any:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    _staff(app, "o_wang", "王师傅", ("电梯设施",))
    _staff(app, "o_zhao", "赵会计", ("环境卫生",))
    return app, wechat


def _timeline_notes(app: Flask, number: int) -> list[str | None]:
    with db_of(app).session(read_only=True) as session:
        ticket = ticket_by_number(session, number)
        assert ticket is not None
        return [event.note for event in ticket.events]


def test_the_outcome_reaches_the_resident_exactly_as_staff_typed_it(
    community: Any, config_path: Path
) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("3号楼电梯坏了，一直停在5楼")
    wang.say("接单 1")
    wang.say("备注 1 已联系ＡＢＣ维保，下午上門")
    assert wang.say(f"办结　1　{OUTCOME}") == "#1 已办结，处理结果已告知居民，并请居民评价。"

    pushed = pushes_to(app, "o_resident")[-1]
    assert f"处理结果：{OUTCOME}" in pushed  # not "…控制板,恢复运行；led 灯亦已更换…"
    assert _timeline_notes(app, 1)[-2:] == ["已联系ＡＢＣ维保，下午上門", OUTCOME]

    shown = CliRunner().invoke(
        main, ["tickets", "show", "--config", str(config_path), "1", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["outcome"] == OUTCOME


def test_a_reason_to_send_back_keeps_its_case_and_script(community: Any) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("电梯里的广告屏太吵了")
    wang.say("接单 1")
    reason = "属於物業公司LED廣告屏，請撥打 12345"
    assert wang.say(f"退回 1 {reason}") is not None
    assert f"说明：{reason}" in pushes_to(app, "o_resident")[-1]


def test_a_reassignment_names_the_topic_in_any_script_and_keeps_the_note(community: Any) -> None:
    app, wechat = community
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    resident.say("电梯间里堆满了垃圾")
    reply = wang.say("转派 1 環境衛生")  # traditional characters name the same topic
    assert reply is not None and "环境卫生" in reply and "赵会计" in reply
    assert "新诉求待办" in pushes_to(app, "o_zhao")[-1]


def test_a_number_past_every_id_is_not_found(backend_settings: Settings, clock: Clock) -> None:
    app = make_app(backend_settings, clock=clock)
    wechat = WeChat(app.test_client(), backend_settings)
    _staff(app, "o_wang", "王师傅", ("电梯设施",))
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")

    assert resident.say("查询 99999999999999999999") == (
        "没有找到编号为 #99999999999999999999 的诉求，请核对编号。"
    )
    assert wang.say("接单 3000000000") == "没有找到编号为 #3000000000 的诉求，请核对编号。"
    assert wang.say("办结 ＃３０００００００００ 已修好") == (
        "没有找到编号为 #3000000000 的诉求，请核对编号。"
    )
    reply = resident.say("投票 99999999999999999999")
    assert reply is not None and "99999999999999999999" in reply and "系统" not in reply
    with db_of(app).session(read_only=True) as session:
        statuses = set(session.scalars(select(InboundMessage.status)))
    assert statuses == {"done"}  # none stored as failed

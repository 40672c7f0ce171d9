"""Pushes outside the 48-hour window as WeChat shows them today: typed template fields.

Since WeChat's 2023 template rules `first` and `remark` are not shown and every field is
typed (thing ≤ 20 characters, character_string without Chinese, time in WeChat's format …).
The fake WeChat API checks the fields of the templates registered with it as WeChat does
(47003), so a mapping that WeChat would refuse fails here too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Chat, Clock, WeChat, make_app
from sqlalchemy import select, update
from test_outbox import live_settings, person, queue, rows

from bot.config import ConfigError, Settings, load_settings
from bot.db import Database
from bot.delivery import Worker
from devtools.fake_wechat import FakeWeChat
from models import Person, Ticket
from models.staff import add_staff

RESOLVED = (
    "诉求编号：{{character_string1.DATA}}\n办理结果：{{thing2.DATA}}\n"
    "办结时间：{{time3.DATA}}\n下一步：{{thing4.DATA}}"
)
RESOLVED_MAP = """
[templates."ticket.resolved"]
id = "TPL_DONE"
fields = { character_string1 = "#{number}", thing2 = "{outcome}", time3 = "{resolved_at}", \
thing4 = "{next_step}" }
"""
NOTICE_MAP = """
[templates.notice]
id = "TPL_NOTICE"
fields = { thing1 = "{text}", time2 = "{sent_at}" }
"""


def with_config(config_path: Path, toml: str) -> Settings:
    """The test config with `toml` added, loaded as `yishiting` would load it."""
    config_path.write_text(config_path.read_text(encoding="utf-8") + toml, encoding="utf-8")
    return load_settings(config_path, environ={})


def outside_the_window(db: Database, openid: str) -> None:
    """The person last wrote three days ago: customer-service messages are closed."""
    with db.transaction() as conn:
        conn.execute(
            update(Person)
            .where(Person.openid == openid)
            .values(last_message_at=datetime.now(UTC) - timedelta(days=3))
        )


def test_a_resolved_ticket_reaches_a_resident_outside_the_window_as_typed_fields(
    config_path: Path, fake: FakeWeChat, clock: Clock
) -> None:
    fake.add_template("TPL_DONE", "诉求办结通知", RESOLVED)
    settings = live_settings(with_config(config_path, RESOLVED_MAP), fake)
    app = make_app(settings, clock=clock)
    db = app.extensions["yishiting"].db
    with db.session() as session:
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    wechat = WeChat(app.test_client(), settings)
    resident, wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
    assert "#1" in (resident.say("3号楼电梯坏了，困住了两个老人，一直在报警") or "")
    wang.say("接单 1")
    outcome = "已更换电梯门机控制板并对全部楼层的按钮进行了检修，运行正常"
    assert wang.say(f"办结 1 {outcome}") == "#1 已办结，处理结果已告知居民，并请居民评价。"
    outside_the_window(db, "o_resident")

    Worker(settings, db).run_once()

    [sent] = [r for r in fake.received("template") if r.body["touser"] == "o_resident"]
    assert sent.body["template_id"] == "TPL_DONE"
    data = {name: item["value"] for name, item in sent.body["data"].items()}
    assert set(data) == {"character_string1", "thing2", "time3", "thing4"}  # no first, remark
    assert data["character_string1"] == "#1"
    assert data["thing2"] == outcome[:19] + "…" and len(data["thing2"]) == 20
    assert data["thing4"] == "回复1满意 2基本满意 3不满意"
    with db.session(read_only=True) as session:
        resolved = session.scalars(select(Ticket.resolved_at)).one()
    assert resolved is not None
    local = resolved.astimezone(ZoneInfo("Asia/Shanghai"))
    assert data["time3"] == f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", data["time3"])
    db.dispose()


def test_a_value_longer_than_its_thing_field_is_cut_not_refused(
    config_path: Path, fake: FakeWeChat
) -> None:
    fake.add_template("TPL_NOTICE", "社区通知", "通知内容：{{thing1.DATA}}\n时间：{{time2.DATA}}")
    settings = live_settings(with_config(config_path, NOTICE_MAP), fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(days=3))
    text = "本周六上午九点在社区广场召开议事会请各位居民准时到"  # 25 characters
    assert len(text) == 25
    queue(db, someone, text)
    assert Worker(settings, db).run_once().sent == 1
    [sent] = fake.received("template")
    assert sent.body["data"]["thing1"] == {"value": text[:19] + "…"}
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", sent.body["data"]["time2"]["value"]
    )
    db.dispose()


def test_a_value_no_cut_can_fit_holds_the_push_for_the_next_reply_and_says_why(
    config_path: Path, fake: FakeWeChat
) -> None:
    """Chinese in a character_string cannot be cut into shape: WeChat would refuse the send
    (47003), so the template is skipped and the push waits for the person's next message."""
    mapping = '[templates.notice]\nid = "TPL_NOTICE"\nfields = { character_string1 = "{text}" }\n'
    fake.add_template("TPL_NOTICE", "社区通知", "内容：{{character_string1.DATA}}")
    settings = live_settings(with_config(config_path, mapping), fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(days=3))
    queue(db, someone, "明天停水")
    assert Worker(settings, db).run_once().held == 1
    assert fake.received("template") == []
    [row] = rows(db)
    assert row.status == "held"
    assert "character_string1" in (row.last_error or "")
    db.dispose()


def test_a_part_the_push_does_not_have_is_named_where_staff_look(
    config_path: Path, fake: FakeWeChat
) -> None:
    mapping = '[templates.notice]\nid = "TPL_NOTICE"\nfields = { thing1 = "{txet}" }\n'
    settings = live_settings(with_config(config_path, mapping), fake)
    db = Database(settings)
    queue(db, person(db, "o_resident_1", wrote_ago=timedelta(days=3)), "明天停水")
    assert Worker(settings, db).run_once().held == 1
    [row] = rows(db)
    assert "thing1: the push notice has no {txet}" in (row.last_error or "")
    db.dispose()


def test_a_template_that_wechat_refuses_falls_back_too(config_path: Path, fake: FakeWeChat) -> None:
    """The account's template has other fields than the mapping says: WeChat answers 47003."""
    fake.add_template("TPL_NOTICE", "社区通知", "内容：{{thing3.DATA}}\n时间：{{time4.DATA}}")
    settings = live_settings(with_config(config_path, NOTICE_MAP), fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(days=3))
    queue(db, someone, "明天停水")
    assert Worker(settings, db).run_once().held == 1
    [row] = rows(db)
    assert "47003" in (row.last_error or "") and "data.thing1.value invalid" in row.last_error
    db.dispose()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[templates.notice]\nfields = { thing1 = "{text}" }\n', '[templates."notice"] id:'),
        ('[templates.notice]\nid = "T"\nfields = { Thing1 = "{text}" }\n', "'Thing1' is not a"),
        ('[templates.notice]\nid = "T"\nfields = { thing1 = "{text!r}" }\n', "plain name"),
        ('[templates.notice]\nid = "T"\nfields = { thing1 = 3 }\n', "fields.thing1: expected"),
        ('[templates.notice]\nid = "T"\ncolour = "red"\nfields = { thing1 = "x" }\n', "colour"),
        (
            '[wechat]\ntemplates = "notice=OLD"\n[templates.notice]\nid = "T"\n'
            'fields = { thing1 = "{text}" }\n',
            "[wechat] templates: notice also has",
        ),
    ],
)
def test_a_bad_mapping_is_refused_naming_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(path, environ={})


def test_the_documented_mappings_load_and_fit_their_types(tmp_path: Path) -> None:
    """config.example.toml's commented [templates.*] and [subscriptions.*] examples work."""
    from bot.cli.check_templates import _unfit

    example = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text("utf-8")
    start = example.index('# [templates."ticket.resolved"]')
    end = example.index("# The custom menu", start)
    lines = [line.removeprefix("#").strip() for line in example[start:end].splitlines()]
    tables = "\n".join(line for line in lines if line.startswith(("[", "id", "fields", "long")))
    (tmp_path / "c.toml").write_text(tables, encoding="utf-8")
    settings = load_settings(tmp_path / "c.toml", environ={})
    resolved = settings.typed_template("ticket.resolved")
    assert resolved is not None and settings.subscription("ticket.resolved") is not None
    assert settings.typed_template("notice") is not None
    for mapping in (*settings.template_maps, *settings.subscription_maps):
        assert [_unfit(name, value) for name, value in mapping.fields] == [""] * len(mapping.fields)


@pytest.mark.parametrize(
    ("field", "value", "sent"),
    [
        ("thing2", "第一行\n第二行", "第一行 第二行"),  # no line breaks in any field
        ("thing2", "", "无"),
        ("character_string1", "A" * 40, "A" * 32),
        ("phrase3", "处理中请稍候再试", "处理中请稍"),
        ("name4", "欧阳娜娜欧阳娜娜欧阳娜娜", "欧阳娜娜欧阳娜娜欧…"),
        ("time5", "2026年12月6日 14:30", "2026年12月6日 14:30"),
        ("number6", "12", "12"),
        ("enum_string7", "已办结", "已办结"),  # a type not known here: passed as written
    ],
)
def test_values_are_fitted_to_their_field_type(field: str, value: str, sent: str) -> None:
    from bot.wechat.fields import accepts, fit

    assert fit(field, value) == sent
    assert accepts(field, sent)


@pytest.mark.parametrize(
    ("field", "value"),
    [("character_string1", "编号12"), ("number2", "#12"), ("time3", "下午两点"), ("phrase4", "ok")],
)
def test_values_no_cut_can_fit_are_refused_without_quoting_them(field: str, value: str) -> None:
    from bot.wechat.fields import Unfit, fit

    with pytest.raises(Unfit) as refused:
        fit(field, value)
    assert value not in str(refused.value) and field in str(refused.value)

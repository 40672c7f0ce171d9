"""`yishiting tickets file`: an admin types in what a resident said on the phone, at the
door or on patrol. Stdout is exactly `#N`; bad input is one line on stderr and exit status 2
with nothing filed, on both databases; `tickets show` and `report` tell the channels apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, WeChat, db_of, make_app, pushes_to
from flask import Flask
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Person, Ticket, ticket_by_number
from models.places import Building, Grid, approve_binding
from models.staff import add_staff

LIFT = "3号楼电梯坏了，困住了两个老人，一直在报警"
CALLER = "13900001111"


def yishiting(settings: Settings, *args: str) -> Result:
    """The command as an admin runs it, against the settings' database."""
    env = {"YISHITING_APP_DATABASE_URL": settings.app.database_url}
    return CliRunner().invoke(main, [*args, "--config", settings.source], env=env)


def file(settings: Settings, *args: str) -> Result:
    return yishiting(settings, "tickets", "file", *args)


def count_tickets(settings: Settings) -> int:
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)
    finally:
        db.dispose()


def prepare(settings: Settings) -> None:
    """王师傅 handles lifts; building 16 is in 第一网格."""
    db = Database(settings)
    with db.session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    db.dispose()


def test_a_call_is_filed_and_only_its_number_is_printed(settings: Settings) -> None:
    prepare(settings)
    result = file(settings, "--channel", "phone", "--phone", "139 0000 1111", LIFT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "#1\n"
    shown = yishiting(settings, "tickets", "show", "1", "--json")
    data = json.loads(shown.stdout)
    assert data["channel"] == "phone" and data["phone"] == CALLER
    assert data["callback"] is True and data["filed_by"] is None
    assert data["topic"] == "电梯设施" and data["assignee"]["name"] == "王师傅"
    assert [e["note"] for e in data["events"] if e["action"] == "on_behalf"] == [
        "代居民登记（电话）：命令行"
    ]
    text = yishiting(settings, "tickets", "show", "1").stdout
    assert f"channel: phone  电话回访 {CALLER}" in text


def test_by_names_the_staff_member_who_took_the_call(settings: Settings) -> None:
    prepare(settings)
    result = file(settings, "--channel", "visit", "--phone", CALLER, "--by", "o_wang", LIFT)
    assert result.stdout == "#1\n", result.stderr
    data = json.loads(yishiting(settings, "tickets", "show", "1", "--json").stdout)
    assert data["filed_by"] == {"openid": "o_wang", "name": "王师傅"}
    assert "channel: visit by 王师傅" in yishiting(settings, "tickets", "show", "1").stdout


def test_a_resident_known_by_openid_gets_the_pushes(
    app: Flask, wechat: WeChat, settings: Settings
) -> None:
    prepare(settings)
    Chat(wechat, "o_resident").say("你好")
    result = file(settings, "--channel", "visit", "--as-openid", "o_resident", LIFT)
    assert result.stdout == "#1\n", result.stderr
    Chat(wechat, "o_wang").say("接单 1")
    assert "#1 已由社区工作人员受理" in pushes_to(app, "o_resident")[-1]
    data = json.loads(yishiting(settings, "tickets", "show", "1", "--json").stdout)
    assert data["callback"] is False and data["phone"] is None


def test_a_phone_bound_to_one_resident_files_it_for_them(
    app: Flask, wechat: WeChat, settings: Settings
) -> None:
    prepare(settings)
    Chat(wechat, "o_resident").say("绑定 16-2-501 13812345678")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == "o_resident")).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
        resident_id = person.id
    assert (
        file(settings, "--channel", "phone", "--phone", "+86 138-1234-5678", LIFT).stdout == "#1\n"
    )
    with db_of(app).session(read_only=True) as session:
        filed = ticket_by_number(session, 1)
        assert filed is not None and filed.person_id == resident_id
    Chat(wechat, "o_wang").say("接单 1")
    assert "#1 已由社区工作人员受理" in pushes_to(app, "o_resident")[-1]


BAD = [
    (["--channel", "fax", "--phone", CALLER, LIFT], "登记渠道应为", "the channel must be"),
    (["--channel", "phone", "--phone", CALLER, "  "], "请填写居民反映的内容", "the text is empty"),
    (
        ["--channel", "phone", "--phone", CALLER, "--building", "99", LIFT],
        "没有这栋楼：99",
        "no building named '99'",
    ),
    (
        ["--channel", "phone", "--as-openid", "o_nobody", LIFT],
        "没有这位居民",
        "no person with openid 'o_nobody'",
    ),
    (["--channel", "phone", "--phone", "1" * 40, LIFT], "电话号码应为", "5 to 20 digits"),
    (["--channel", "phone", "--phone", "call me", LIFT], "电话号码应为", "5 to 20 digits"),
    (["--channel", "phone", LIFT], "须留居民电话", "needs the resident's phone"),
    (
        ["--channel", "phone", "--phone", CALLER, "--by", "o_nobody", LIFT],
        "没有这位居民",
        "o_nobody",
    ),
    (
        ["--channel", "phone", "--phone", CALLER, "--by", "o_caller", LIFT],
        "只有工作人员",
        "not staff",
    ),
]


@pytest.mark.parametrize(("args", "chinese", "english"), BAD)
def test_bad_input_is_one_line_exit_status_2_and_nothing_filed(
    backend_settings: Settings, args: list[str], chinese: str, english: str
) -> None:
    prepare(backend_settings)
    db = Database(backend_settings)
    with db.session() as session:  # someone who is not staff
        now = datetime.now(UTC)
        session.add(Person(openid="o_caller", first_seen_at=now, last_seen_at=now))
    db.dispose()
    result = file(backend_settings, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and chinese in line and english in line
    assert "Traceback" not in result.stderr
    assert count_tickets(backend_settings) == 0


def test_the_longest_phone_a_ticket_holds_is_stored_on_both_databases(
    backend_settings: Settings,
) -> None:
    prepare(backend_settings)
    longest = "9" * 20
    result = file(backend_settings, "--channel", "phone", "--phone", longest, LIFT)
    assert result.stdout == "#1\n", result.stderr
    data = json.loads(yishiting(backend_settings, "tickets", "show", "1", "--json").stdout)
    assert data["phone"] == longest


def test_the_report_counts_every_channel_and_splits_them(backend_settings: Settings) -> None:
    prepare(backend_settings)
    for args in (
        ["--channel", "phone", "--phone", CALLER, LIFT],
        ["--channel", "phone", "--phone", "13900002222", "5号楼楼道灯坏了好几天"],
        ["--channel", "patrol", "--building", "16", "16号楼门口井盖松动"],
    ):
        assert file(backend_settings, *args).exit_code == 0
    total = yishiting(backend_settings, "report", "--by", "all", "--json")
    assert json.loads(total.stdout)["total"]["tickets"] == 3
    split = json.loads(yishiting(backend_settings, "report", "--by", "channel", "--json").stdout)
    assert {r["group"]: r["tickets"] for r in split["rows"]} == {"电话": 2, "巡查": 1}
    only = json.loads(
        yishiting(backend_settings, "report", "--channel", "patrol", "--by", "all", "--json").stdout
    )
    assert only["total"]["tickets"] == 1 and only["channel"] == "patrol"
    table = yishiting(backend_settings, "report", "--by", "channel").stdout.splitlines()
    assert table[1].split()[:2] == ["渠道", "诉求数"]
    assert table[2].split()[:2] == ["电话", "2"] and table[-1].split()[:2] == ["合计", "3"]
    assert "（巡查）" in yishiting(backend_settings, "report", "--channel", "patrol").stdout


def test_the_same_report_again_for_a_known_resident_prints_the_first_number(
    app: Flask, wechat: WeChat, settings: Settings
) -> None:
    prepare(settings)
    Chat(wechat, "o_resident").say("你好")
    args = ["--channel", "phone", "--as-openid", "o_resident", LIFT]
    assert file(settings, *args).stdout == "#1\n"
    again = file(settings, *args)
    assert (again.exit_code, again.stdout) == (0, "#1\n")
    assert "the same request was filed moments ago" in again.stderr
    assert count_tickets(settings) == 1


def test_metrics_count_tickets_by_channel(settings: Settings) -> None:
    prepare(settings)
    assert file(settings, "--channel", "patrol", "--building", "16", LIFT).stdout == "#1\n"
    app = make_app(settings.replace(metrics={"enabled": True}))
    WeChat(app.test_client(), settings).send("o_resident", "小区门口的路灯坏了好几天了")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    for channel, count in (("wechat", 1), ("phone", 0), ("visit", 0), ("patrol", 1)):
        assert f'yishiting_tickets_by_channel{{channel="{channel}"}} {count}\n' in text

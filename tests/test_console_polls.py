"""投票 in the console: an admin creates a poll with every option, watches residents' ballots
arrive, closes it and records the decision; the voters are told as after the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from conftest import (
    Chat,
    Clock,
    LiveServer,
    WeChat,
    browser_login,
    console_login,
    csrf_token_of,
    db_of,
    make_account,
    pushes_to,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import Person
from models.places import Building, Grid, approve_binding
from models.polls import Poll, poll_by_number

LATER = "2099-06-01T20:00"  # a datetime-local value: Asia/Shanghai, the default zone


def community(app: Flask) -> None:
    """A grid with building 16, and building 18 outside it."""
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18", grid_id=None)])


def bound(app: Flask, wechat: WeChat, openid: str, address: str) -> Chat:
    """A resident whose binding to `address` is approved."""
    resident = Chat(wechat, openid)
    resident.say(f"绑定 {address}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == openid)).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
    return resident


def form(**changes: str) -> dict[str, str]:
    """A valid 新建投票 form (everyone, per person, open now); `changes` override fields."""
    values = {
        "title": "16号楼前道路重铺",
        "description": "",
        "options": "沥青\n水泥\n透水砖",
        "scope": "all",
        "grid": "",
        "buildings": "",
        "unit": "person",
        "max_choices": "1",
        "opens_at": "",
        "closes_at": LATER,
        "quorum": "0",
        "threshold": "50",
    }
    values.update(changes)
    return values


def submit(client: FlaskClient, values: dict[str, str]) -> Any:
    token = csrf_token_of(client.get("/admin/polls/new"))
    return client.post("/admin/polls/new", data={**values, "csrf_token": token})


def poll_count(app: Flask) -> int:
    with db_of(app).session(read_only=True) as session:
        return int(session.scalar(select(func.count(Poll.id))) or 0)


def run_the_sweep(app: Flask, clock: Clock) -> None:
    """What the scheduler does every few seconds (bot/schedule/polls.py)."""
    from bot.schedule.polls import open_and_close

    with db_of(app).session() as session:
        open_and_close(session, clock(), app.extensions["yishiting"].settings)


def post_on_page(client: FlaskClient, page: str, url: str, **data: str) -> Any:
    token = csrf_token_of(client.get(page))
    return client.post(url, data={**data, "csrf_token": token})


def test_admin_creates_a_poll_with_every_option_through_the_form(
    app: Flask, admin_client: FlaskClient
) -> None:
    community(app)
    blank = admin_client.get("/admin/polls/new").get_data(as_text=True)
    for name in ("title", "description", "options", "scope", "grid", "buildings", "unit"):
        assert f'name="{name}"' in blank
    for name in ("max_choices", "anonymous", "hide_results", "anyone", "quorum", "threshold"):
        assert f'name="{name}"' in blank
    assert 'type="datetime-local" name="opens_at"' in blank and "第一网格" in blank
    answer = submit(
        admin_client,
        form(
            description="道路破损严重，请选择新路面。",
            scope="buildings",
            buildings="16，18",
            unit="household",
            max_choices="2",
            anonymous="1",
            hide_results="1",
            opens_at="2099-05-01T08:00",
            quorum="30",
            threshold="60",
        ),
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/polls/1"
    page = admin_client.get("/admin/polls/1").get_data(as_text=True)
    assert "已创建投票 #1「16号楼前道路重铺」，将于 5月1日 08:00 开始投票" in page
    assert "未开始" in page and "楼栋：16、18" in page and "户决制" in page
    with db_of(app).session(read_only=True) as session:
        poll = poll_by_number(session, 1)
        assert poll is not None
        assert poll.options == ["沥青", "水泥", "透水砖"]
        assert (poll.description, poll.buildings, poll.unit) == (
            "道路破损严重，请选择新路面。",
            ["16", "18"],
            "household",
        )
        assert (poll.max_choices, poll.anonymous, poll.hide_results) == (2, True, True)
        assert (poll.quorum, poll.threshold, poll.eligibility) == (0.3, 0.6, "bound")
        # Local (Asia/Shanghai) times, stored as UTC.
        assert poll.opens_at == datetime(2099, 5, 1, 0, 0, tzinfo=UTC)
        assert poll.closes_at == datetime(2099, 6, 1, 12, 0, tzinfo=UTC)
    second = submit(admin_client, form(title="网格议题", scope="grid", grid="第一网格", anyone="1"))
    assert second.headers["Location"] == "/admin/polls/2"
    with db_of(app).session(read_only=True) as session:
        poll = poll_by_number(session, 2)
        assert poll is not None and poll.status == "open"
        assert (poll.scope, poll.eligibility) == ("grid", "followers")


def test_bad_input_shows_the_form_again_saying_why_with_everything_typed(
    app: Flask, admin_client: FlaskClient
) -> None:
    community(app)
    cases = [
        (form(title="", options="只有一个选项"), ["请填写投票标题", "请填写 2 到 20 个选项"]),
        (form(options="沥青\n沥青"), ["不能重复"]),
        (form(closes_at="2000-01-01T08:00"), ["截止时间必须晚于开始时间"]),
        (form(closes_at=""), ["请选择截止时间"]),
        (form(closes_at="明天"), ["截止时间格式不正确"]),
        (form(scope="buildings", buildings="16, 99号"), ["没有找到这些楼栋：99号"]),
        (form(scope="grid"), ["请选择网格"]),
        (form(unit="household", anyone="1"), ["按户投票（户决制）只统计已绑定住址的居民"]),
        (form(quorum="150", threshold="0"), ["法定参与率应是 0 到 100", "通过比例应是大于 0"]),
        (form(max_choices="4"), ["每票可选项数应是 1 到选项个数"]),
        (form(unit="everyone"), ["请选择按人还是按户投票"]),
    ]
    for values, reasons in cases:
        answer = submit(admin_client, values)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, values
        assert "投票没有创建" in html
        for reason in reasons:
            assert reason in html, (reason, values)
        if values["title"]:
            assert f'value="{values["title"]}"' in html  # what was typed is still there
        assert values["options"] in html
    kept = submit(admin_client, form(title="", description="说明文字", quorum="150")).get_data(
        as_text=True
    )
    assert ">说明文字</textarea>" in kept and 'value="150"' in kept
    assert poll_count(app) == 0


def test_a_chat_ballot_shows_in_the_tally_json_and_on_the_page(
    app: Flask, admin_client: FlaskClient, wechat: WeChat
) -> None:
    community(app)
    submit(admin_client, form(hide_results="1"))
    resident = bound(app, wechat, "o_wang", "16-1-101")
    bound(app, wechat, "o_li", "16-1-102")  # eligible, does not vote
    before = admin_client.get("/admin/polls/1/tally.json").get_json()
    assert before["counts"] == [0, 0, 0] and before["ballots"] == 0 and before["eligible"] == 2
    assert "已记录您对 #1" in (resident.say("投票 1 A") or "")
    after = admin_client.get("/admin/polls/1/tally.json").get_json()
    assert after["counts"] == [1, 0, 0]
    assert (after["ballots"], after["eligible"], after["turnout"]) == (1, 2, 0.5)
    assert after["leaders"] == ["A"] and after["passed"] and not after["tie"]
    assert after["status_name"] == "进行中"
    page = admin_client.get("/admin/polls/1").get_data(as_text=True)
    assert re.search(r'data-count="A">1<', page) and re.search(r'data-count="B">0<', page)
    assert "居民在截止前看不到结果" in page and "领先：A" in page and "50%" in page
    listing = admin_client.get("/admin/polls").get_data(as_text=True)
    assert "#1" in listing and "16号楼前道路重铺" in listing and "进行中" in listing
    assert "1 / 2" in listing and "6月1日 20:00" in listing


def test_close_and_decide_tell_the_voters_as_the_cli_does(
    app: Flask, admin_client: FlaskClient, wechat: WeChat, clock: Clock
) -> None:
    community(app)
    submit(admin_client, form())
    resident = bound(app, wechat, "o_wang", "16-1-101")
    resident.say("投票 1 B")
    page, poll = "/admin/polls/1", "/admin/polls/1"
    early = post_on_page(admin_client, page, f"{poll}/decide", decision="采用水泥路面。")
    assert early.status_code == 303
    assert "请先截止投票" in admin_client.get(page).get_data(as_text=True)
    closed = post_on_page(admin_client, page, f"{poll}/close")
    assert closed.status_code == 303 and closed.headers["Location"] == poll
    shown = admin_client.get(page).get_data(as_text=True)
    assert "已截止投票 #1" in shown and "已截止" in shown
    assert "投票已经截止" in (resident.say("投票 1 A") or "")
    run_the_sweep(app, clock)
    results = pushes_to(app, "o_wang", "poll.result")
    assert len(results) == 1 and "B 水泥：1 票" in results[0]
    again = post_on_page(admin_client, page, f"{poll}/close")
    assert again.status_code == 303
    assert "已经截止，无需再次截止" in admin_client.get(page).get_data(as_text=True)
    empty = post_on_page(admin_client, page, f"{poll}/decide", decision="  ")
    assert empty.status_code == 303
    assert "请填写决议内容" in admin_client.get(page).get_data(as_text=True)
    post_on_page(admin_client, page, f"{poll}/decide", decision="采用水泥路面，明年春季施工。")
    decided = admin_client.get(page).get_data(as_text=True)
    assert "已记录投票 #1 的决议" in decided and "已决议" in decided
    run_the_sweep(app, clock)
    decisions = pushes_to(app, "o_wang", "poll.decision")
    assert decisions == ["投票 #1「16号楼前道路重铺」的决议：采用水泥路面，明年春季施工。"]
    assert "决议：采用水泥路面" in (resident.say("结果 1") or "")


def test_a_viewer_sees_polls_but_cannot_create_close_or_decide(
    app: Flask, admin_client: FlaskClient
) -> None:
    submit(admin_client, form())
    make_account(app, "guest", "viewer")
    viewer = app.test_client()
    assert console_login(viewer, "guest").status_code == 303
    listing = viewer.get("/admin/polls")
    assert listing.status_code == 200 and "16号楼前道路重铺" in listing.get_data(as_text=True)
    assert "新建投票" not in listing.get_data(as_text=True)
    shown = viewer.get("/admin/polls/1").get_data(as_text=True)
    assert "立即截止投票" not in shown
    assert viewer.get("/admin/polls/1/tally.json").status_code == 200
    assert viewer.get("/admin/polls/new").status_code == 403
    token = csrf_token_of(viewer.get("/admin/polls"))
    refused = viewer.post("/admin/polls/new", data={**form(title="偷偷建"), "csrf_token": token})
    assert refused.status_code == 403
    assert viewer.post("/admin/polls/1/close", data={"csrf_token": token}).status_code == 403
    assert poll_count(app) == 1
    with db_of(app).session(read_only=True) as session:
        assert session.scalar(select(Poll.status)) == "open"


def test_the_list_filters_by_status_and_an_unknown_poll_is_404(
    app: Flask, admin_client: FlaskClient
) -> None:
    submit(admin_client, form(title="正在投票的议题"))
    submit(admin_client, form(title="以后开始的议题", opens_at="2099-05-01T08:00"))
    drafts = admin_client.get("/admin/polls?status=draft").get_data(as_text=True)
    assert "以后开始的议题" in drafts and "正在投票的议题" not in drafts
    everything = admin_client.get("/admin/polls").get_data(as_text=True)
    assert everything.index("以后开始的议题") < everything.index("正在投票的议题")  # newest first
    assert admin_client.get("/admin/polls/9").status_code == 404
    assert admin_client.get("/admin/polls/9/tally.json").status_code == 404


def test_browser_creates_a_poll_and_watches_a_ballot_arrive(
    app: Flask, page: Any, wechat: WeChat
) -> None:
    make_account(app, "boss", "admin")
    community(app)
    resident = bound(app, wechat, "o_wang", "16-1-101")
    with LiveServer(app) as server:
        browser_login(page, server.url, "boss")
        page.click("nav.mainnav >> text=投票")  # 投票 is the polls' tab now (议题: agenda items)
        page.click("text=新建投票")
        page.fill("input[name=title]", "小区东门加装门禁")
        page.fill("textarea[name=options]", "同意\n不同意\n弃权")
        page.check("input[name=scope][value=buildings]")
        page.fill("input[name=buildings]", "16")
        page.fill("input[name=closes_at]", "2099-06-01T20:00")
        page.click('button:has-text("创建投票")')
        page.wait_for_url(f"{server.url}/admin/polls/1")
        assert page.text_content("#tally-ballots") == "0"
        assert page.text_content('[data-count="A"]') == "0"
        assert page.locator("#tally-chart").is_visible()
        # While the page stays open, a resident votes by WeChat; the page updates itself.
        assert "已记录您对 #1" in (resident.say("投票 1 A") or "")
        page.wait_for_function(
            "document.getElementById('tally-ballots').textContent === '1'", timeout=10_000
        )
        assert page.text_content('[data-count="A"]') == "1"
        assert page.text_content("#tally-outcome") == "领先：A"
        counted = page.evaluate("Chart.getChart('tally-chart').data.datasets[0].data")
        assert counted == [1, 0, 0]

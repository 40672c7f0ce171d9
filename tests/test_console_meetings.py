"""议事会 in the console: calling one, watching the answers by name, the minutes form, the
议题 page's meetings part, and the 议事代表 list."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from conftest import Clock, WeChat, csrf_token_of, pushes_to
from flask import Flask
from flask.testing import FlaskClient
from meeting_fixtures import SHANGHAI, accepted_item, bound, places
from werkzeug.test import TestResponse

from bot.config import Settings


def typed(moment: datetime) -> str:
    """A time as the form's datetime-local field sends it."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def post(client: FlaskClient, path: str, form: dict[str, str]) -> TestResponse:
    token = csrf_token_of(client.get("/admin/meetings"))
    return client.post(path, data={"csrf_token": token, **form})


def test_an_admin_calls_a_meeting_watches_answers_and_records_minutes(
    app: Flask, admin_client: FlaskClient, settings: Settings, clock: Clock
) -> None:
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = clock()
    zhang = bound(app, wechat, "o_zhang", "16-1-101", now)
    li = bound(app, wechat, "o_li", "16-1-102", now)
    item = accepted_item(app, "北门增加健身器材", now)
    assert "还没有议事会" in admin_client.get("/admin/meetings").get_data(as_text=True)
    form_page = admin_client.get("/admin/meetings/new").get_data(as_text=True)
    assert f"#{item} 北门增加健身器材（已立项）" in form_page
    at = typed(now + timedelta(days=3))
    form = {"title": "北门空地议事会", "at": at, "place": "社区活动室", "agenda": str(item)}
    form |= {"buildings": "16"}
    past = post(
        admin_client, "/admin/meetings/new", {**form, "at": typed(now - timedelta(hours=1))}
    )
    assert past.status_code == 400
    assert "会议时间已过" in past.get_data(as_text=True)
    nothing = post(admin_client, "/admin/meetings/new", {**form, "buildings": ""})
    assert "请选择邀请范围" in nothing.get_data(as_text=True)
    called = post(admin_client, "/admin/meetings/new", form)
    assert called.status_code == 303
    assert called.headers["Location"].endswith("/admin/meetings/1")
    assert len(pushes_to(app, "o_zhang", "meeting.invited")) == 1

    zhang.say("参加 1")
    li.say("请假 1 要值班")
    page = admin_client.get("/admin/meetings/1").get_data(as_text=True)
    assert '<strong id="attending">1</strong>' in page and '<strong id="excused">1</strong>' in page
    assert "16-1-101" in page and "要值班" in page
    assert "会议开始后可以记录" in page and 'name="attendees"' not in page

    early = post(admin_client, "/admin/meetings/1/minutes", {"attendees": "张三", "minutes": "x"})
    follow = admin_client.get(early.headers["Location"]).get_data(as_text=True)
    assert "还没有召开" in follow

    clock.advance(days=3, hours=2)
    minutes = {"attendees": "张三、物业王经理", "minutes": "到会 2 人。\n逐项协商。"}
    half = post(admin_client, "/admin/meetings/1/minutes", {**minutes, f"summary_{item}": "同意"})
    assert "请同时填写结论" in admin_client.get(half.headers["Location"]).get_data(as_text=True)
    minutes |= {f"summary_{item}": "多数同意", f"outcome_{item}": "达成共识：安装一组健身器材"}
    first = post(admin_client, "/admin/meetings/1/minutes", minutes)
    shown = admin_client.get(first.headers["Location"]).get_data(as_text=True)
    assert "已记录议事会 #1 的纪要" in shown and "到会 2 人。\n逐项协商。" in shown
    assert len(pushes_to(app, "o_li", "meeting.minutes")) == 1
    again = post(admin_client, "/admin/meetings/1/minutes", minutes)
    assert "更正后不会再次推送" in admin_client.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert len(pushes_to(app, "o_li", "meeting.minutes")) == 1

    part = admin_client.get(f"/admin/agenda/{item}").get_data(as_text=True)
    assert "#1 北门空地议事会" in part and "达成共识：安装一组健身器材" in part
    listing = admin_client.get("/admin/meetings").get_data(as_text=True)
    assert "北门空地议事会" in listing and "已记录" in listing


def test_the_representatives_list(
    app: Flask, admin_client: FlaskClient, settings: Settings
) -> None:
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = datetime.now(UTC)
    bound(app, wechat, "o_zhang", "16-1-101", now)
    bound(app, wechat, "o_wu", "18-1-101", now)
    bound(app, wechat, "o_wu_son", "18-1-101", now)
    added = post(admin_client, "/admin/meetings/reps/add", {"who": "16-1-101"})
    page = admin_client.get(added.headers["Location"]).get_data(as_text=True)
    assert "已将 16-1-101 列为议事代表" in page and "16-1-101 o_zhang" in page
    two = post(admin_client, "/admin/meetings/reps/add", {"who": "18-1-101"})
    assert "对应 2 位居民" in admin_client.get(two.headers["Location"]).get_data(as_text=True)
    person = re.search(r"/admin/meetings/reps/(\d+)/remove", page)
    assert person is not None
    removed = post(admin_client, f"/admin/meetings/reps/{person.group(1)}/remove", {})
    assert "移出议事代表名单" in admin_client.get(removed.headers["Location"]).get_data(
        as_text=True
    )
    assert (
        post(admin_client, f"/admin/meetings/reps/{person.group(1)}/remove", {}).status_code == 404
    )

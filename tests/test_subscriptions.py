"""Subscription notices (订阅通知): a resident who accepted a notice template gets the push
that way first; a used-up or refused subscription falls back to the template message.

WeChat tells the account what a person chose in subscribe-message events, whose XML nests a
list of <List><TemplateId/><SubscribeStatusString/></List>; a malformed list is a 400.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Clock, WeChat, make_app
from sqlalchemy import select
from test_outbox import live_settings, queue, rows
from test_typed_templates import NOTICE_MAP, with_config

from bot.config import Settings
from bot.db import Database
from bot.delivery import Worker
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import ACCOUNT_ID
from models import Person, Subscription

SUBSCRIBE_MAP = """
[subscriptions.notice]
id = "SUB_NOTICE"
fields = { thing1 = "{text}", time2 = "{sent_at}" }
page = "https://ysk.example.org/notices"
"""
POPUP = ("subscribe_msg_popup_event", "SubscribeMsgPopupEvent")
CHANGE = ("subscribe_msg_change_event", "SubscribeMsgPopupEvent")  # as WeChat's example has it
SENT = ("subscribe_msg_sent_event", "SubscribeMsgSentEvent")
_times = itertools.count(int(time.time()))


def event_xml(openid: str, event: tuple[str, str], lists: str) -> str:
    """A subscribe-message event as WeChat posts it (each with its own CreateTime)."""
    name, container = event
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{next(_times)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{name}]]></Event><{container}>{lists}</{container}></xml>"
    )


def choice(template_id: str, status: str) -> str:
    return (
        f"<List><TemplateId><![CDATA[{template_id}]]></TemplateId>"
        f"<SubscribeStatusString><![CDATA[{status}]]></SubscribeStatusString>"
        "<PopupScene>2</PopupScene></List>"
    )


@pytest.fixture
def account(config_path: Path, fake: FakeWeChat, clock: Clock, backend_settings: Settings) -> Any:
    """The app and its WeChat, with a notice template and a notice subscription mapped, on
    SQLite and on PostgreSQL (a one-time subscription is taken by one UPDATE on both)."""
    fake.add_template("TPL_NOTICE", "社区通知", "内容{{thing1.DATA}}\n时间{{time2.DATA}}")
    notice = "内容{{thing1.DATA}}\n时间{{time2.DATA}}"
    fake.add_template("SUB_NOTICE", "社区通知", notice, notice=2)  # one-time
    settings = live_settings(with_config(config_path, NOTICE_MAP + SUBSCRIBE_MAP), fake)
    settings = settings.replace(app={"database_url": backend_settings.app.database_url})
    app = make_app(settings, clock=clock)
    yield settings, WeChat(app.test_client(), settings), app.extensions["yishiting"].db
    app.extensions["yishiting"].db.dispose()


def tell(wechat: WeChat, openid: str, event: tuple[str, str], lists: str) -> None:
    response = wechat.post_xml(event_xml(openid, event, lists))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data(as_text=True) == "success"  # WeChat shows nothing back


def person_id(db: Database, openid: str) -> int:
    with db.session(read_only=True) as session:
        found = session.scalars(select(Person.id).where(Person.openid == openid)).one()
        return int(found)


def test_a_subscribed_resident_gets_a_subscription_notice_then_the_template(
    account: Any, fake: FakeWeChat
) -> None:
    settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept") + choice("SUB_OTHER", "reject"))
    zhang = person_id(db, "o_zhang")
    queue(db, zhang, "周六上午九点社区广场召开议事会，讨论加装电梯，请准时参加")
    queue(db, zhang, "周日停水")

    assert Worker(settings, db).run_once().sent == 2

    [notice] = fake.received("subscribe")
    assert notice.body["touser"] == "o_zhang" and notice.body["template_id"] == "SUB_NOTICE"
    assert notice.body["page"] == "https://ysk.example.org/notices"
    assert notice.body["data"]["thing1"] == {"value": "周六上午九点社区广场召开议事会，讨论加…"}
    # One-time: the first notice used the subscription; the second went as the template.
    [template] = fake.received("template")
    assert template.body["data"]["thing1"] == {"value": "周日停水"}
    assert [row.channel for row in rows(db)] == ["subscribe", "template"]


def test_a_refused_subscription_falls_back_to_the_template_and_is_gone(
    account: Any, fake: FakeWeChat
) -> None:
    settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept") + choice("SUB_NOTICE", "accept"))
    zhang = person_id(db, "o_zhang")
    queue(db, zhang, "周日停水")
    fake.script("subscribe", [43101])  # "user refuse to accept the msg"

    assert Worker(settings, db).run_once().sent == 1

    assert fake.received("subscribe") == []
    [template] = fake.received("template")
    assert template.body["data"]["thing1"] == {"value": "周日停水"}
    with db.session(read_only=True) as session:
        subscription = session.scalars(select(Subscription)).one()
        assert (subscription.accepted, subscription.remaining) == (False, 0)
    queue(db, zhang, "周一恢复供水")
    Worker(settings, db).run_once()
    assert fake.received("subscribe") == []  # not tried again


def test_a_rejection_in_the_notice_settings_ends_the_subscription(
    account: Any, fake: FakeWeChat
) -> None:
    settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept"))
    tell(wechat, "o_zhang", CHANGE, choice("SUB_NOTICE", "reject"))
    queue(db, person_id(db, "o_zhang"), "周日停水")
    Worker(settings, db).run_once()
    assert fake.received("subscribe") == []
    assert len(fake.received("template")) == 1


def test_a_failed_notice_event_with_43101_ends_the_subscription(account: Any) -> None:
    settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept"))
    sent = (
        "<List><TemplateId><![CDATA[SUB_NOTICE]]></TemplateId><MsgID>1700827132819554304</MsgID>"
        "<ErrorCode>43101</ErrorCode><ErrorStatus><![CDATA[failed:user refuse accept the msg]]>"
        "</ErrorStatus></List>"
    )
    tell(wechat, "o_zhang", SENT, sent)
    with db.session(read_only=True) as session:
        assert session.scalars(select(Subscription.accepted)).one() is False


def test_a_transient_failure_gives_the_subscription_back(account: Any, fake: FakeWeChat) -> None:
    settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept"))
    queue(db, person_id(db, "o_zhang"), "周日停水")
    fake.script("subscribe", [-1])  # system busy: retried later, by the same subscription
    assert Worker(settings, db).run_once().retried == 1
    with db.session(read_only=True) as session:
        assert session.scalars(select(Subscription.remaining)).one() == 1


@pytest.mark.parametrize(
    ("event", "lists"),
    [
        (POPUP, ""),  # no <List>
        (POPUP, "<List><SubscribeStatusString>accept</SubscribeStatusString></List>"),
        (POPUP, "<List><TemplateId><x>T</x></TemplateId></List>"),  # nested
        (POPUP, "<List><TemplateId>T</TemplateId><TemplateId>U</TemplateId></List>"),
        (POPUP, "<Item><TemplateId>T</TemplateId></Item>"),
        (POPUP, choice("T" * 129, "accept")),
        (POPUP, choice("T", "accept") * 21),
        (SENT, "<List><TemplateId>T</TemplateId><ErrorCode>x</ErrorCode></List>"),
    ],
)
def test_a_malformed_subscribe_event_is_a_400(settings: Settings, event: Any, lists: str) -> None:
    app = make_app(settings)
    response = WeChat(app.test_client(), settings).post_xml(event_xml("o_zhang", event, lists))
    assert response.status_code == 400
    app.extensions["yishiting"].db.dispose()


def test_a_subscribe_event_without_its_list_is_a_400(settings: Settings) -> None:
    app = make_app(settings)
    xml = event_xml("o_zhang", POPUP, "").replace(
        "<SubscribeMsgPopupEvent></SubscribeMsgPopupEvent>", ""
    )
    assert WeChat(app.test_client(), settings).post_xml(xml).status_code == 400
    app.extensions["yishiting"].db.dispose()


def test_erasing_a_resident_deletes_their_subscriptions(account: Any) -> None:
    from datetime import UTC, datetime

    from models.privacy import erase_person

    _settings, wechat, db = account
    tell(wechat, "o_zhang", POPUP, choice("SUB_NOTICE", "accept"))
    with db.session() as session:
        zhang = session.get(Person, person_id(db, "o_zhang"))
        assert erase_person(session, zhang, "test", datetime.now(UTC)).counts["subscriptions"] == 1
    with db.session(read_only=True) as session:
        assert session.scalars(select(Subscription)).all() == []

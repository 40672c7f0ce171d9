"""Following and leaving: the welcome's privacy notice, pushes stopped on unfollow (their
tickets kept), pushes resumed on following again — through the chat and the real worker,
against the fake WeChat API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import Chat, Clock, WeChat, db_of, make_app
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import Worker
from devtools.fake_wechat import FakeWeChat
from handlers import texts
from models import OutboxMessage, Person, ticket_by_number
from models.outbox import retry
from models.staff import add_staff


def test_the_welcome_says_what_is_kept_and_how_to_ask_for_it(chat: Chat) -> None:
    welcome = chat.follow() or ""
    assert welcome.startswith("您好，欢迎关注议事厅！")
    assert "【个人信息保护】" in welcome and "手机号" in welcome
    assert "回复“个人信息”" in welcome
    details = chat.say("个人信息") or ""
    assert "保存多久" in details and "删除" in details and "复制" in details
    assert "联系社区居委会" in details
    assert "· 个人信息：" in (chat.say("帮助") or "")


def test_a_returning_scan_is_not_told_the_notice_again(chat: Chat) -> None:
    assert "个人信息保护" not in (chat.do("SCAN", key="123") or "")


class Community:
    """A resident, a staff member and the worker, pushing through the fake WeChat."""

    def __init__(self, settings: Settings, fake: FakeWeChat, clock: Clock) -> None:
        self.settings = settings.replace(
            wechat={"app_id": fake.app_id, "app_secret": fake.app_secret, "api_base_url": fake.url}
        )
        self.fake = fake
        self.app = make_app(self.settings, clock=clock)
        self.db = db_of(self.app)
        with self.db.session() as session:
            add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
        wechat = WeChat(self.app.test_client(), self.settings)
        self.wechat = wechat
        self.resident, self.wang = Chat(wechat, "o_resident"), Chat(wechat, "o_wang")
        self.second = int(time.time())

    def event(self, name: str) -> str | None:
        """A follow or unfollow, each in its own second (events are deduped by the second)."""
        self.second += 1
        return self.wechat.send("o_resident", event=name, create_time=self.second)

    def deliver(self) -> None:
        Worker(self.settings, self.db).run_once()

    def sent_to_resident(self) -> list[str]:
        return [
            r.body["text"]["content"]
            for r in self.fake.received("custom")
            if r.body["touser"] == "o_resident"
        ]

    def resident_rows(self) -> list[tuple[str, str]]:
        with self.db.session(read_only=True) as session:
            found = session.execute(
                select(OutboxMessage.kind, OutboxMessage.status)
                .join(Person, Person.id == OutboxMessage.person_id)
                .where(Person.openid == "o_resident")
                .order_by(OutboxMessage.id)
            ).all()
        return [(kind, status) for kind, status in found]


@pytest.fixture
def community(settings: Settings, fake: FakeWeChat, clock: Clock) -> Iterator[Community]:
    world = Community(settings, fake, clock)
    yield world
    world.db.dispose()


def test_leaving_cancels_queued_pushes_and_keeps_the_tickets(community: Any) -> None:
    c: Community = community
    assert c.event("subscribe") == texts.WELCOME
    assert "#1" in (c.resident.say("3号楼电梯坏了，困住了两个老人，一直在报警") or "")
    assert (c.wang.say("接单 1") or "").startswith("已接单 #1")
    assert c.resident_rows() == [("ticket.accepted", "pending")]

    assert c.event("unsubscribe") is None
    assert c.resident_rows() == [("ticket.accepted", "cancelled")]
    # The ticket goes on: the staff member resolves it; that push is not sent either.
    assert (c.wang.say("办结 1 已更换电梯门机控制板") or "").startswith("#1 已办结")
    c.deliver()
    assert c.sent_to_resident() == []
    assert {status for _kind, status in c.resident_rows()} == {"cancelled"}
    with c.db.session(read_only=True) as session:
        found = ticket_by_number(session, 1)
        assert found is not None and found.status == "resolved"
        ids = list(session.scalars(select(OutboxMessage.id)))
    with c.db.session() as session:
        assert retry(session, ids, datetime.now(UTC)) == 0  # cancelled is not retried


def test_following_again_resumes_pushes(community: Any) -> None:
    c: Community = community
    c.event("subscribe")
    c.resident.say("3号楼电梯坏了，困住了两个老人，一直在报警")
    c.event("unsubscribe")
    c.wang.say("接单 1")
    c.deliver()
    assert c.sent_to_resident() == []

    assert c.event("subscribe") == texts.WELCOME
    c.wang.say("办结 1 已更换电梯门机控制板")
    c.deliver()
    [sent] = c.sent_to_resident()
    assert "已更换电梯门机控制板" in sent

"""Pushes: queued with their cause, sent through the right channel, retried, held or dead.

The worker talks HTTP to a real local server standing in for WeChat and WeCom (FakeWeChat);
nothing of ours is mocked.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat
from sqlalchemy import select, update

from bot.cli import main as cli
from bot.config import Settings
from bot.db import Database
from bot.delivery import Worker
from devtools.fake_wechat import FakeWeChat
from models import OutboxMessage, Person, Push, Role, enqueue, touch_person
from models.tokens import AccessToken


def live_settings(settings: Settings, fake: FakeWeChat, **delivery: Any) -> Settings:
    """Settings that push through the fake WeChat (an app secret is set: no console)."""
    return settings.replace(
        wechat={
            "app_id": "wx_fake_app",
            "app_secret": "fake_secret",
            "api_base_url": fake.url,
            **delivery.pop("wechat", {}),
        },
        wecom={
            "corp_id": "ww_fake_corp",
            "agent_id": "1000002",
            "secret": "fake_corp_secret",
            "api_base_url": fake.url,
        },
        delivery={"timeout_seconds": 1.0, "lease_seconds": 5.0, **delivery},
    )


def person(db: Database, openid: str, *, wrote_ago: timedelta | None = None) -> int:
    """A person who wrote `wrote_ago` ago (None: never wrote, only followed)."""
    now = datetime.now(UTC)
    with db.transaction() as conn:
        ref = touch_person(conn, openid, now - (wrote_ago or timedelta()), wrote=True)
        if wrote_ago is None:
            conn.execute(update(Person).where(Person.id == ref.id).values(last_message_at=None))
    return ref.id


def queue(db: Database, person_id: int | None, text: str, key: str | None = None) -> int | None:
    with db.transaction() as conn:
        return enqueue(
            conn,
            Push("notice", person_id, {"announcement": 0, "text": text}, key or f"test:{text}"),
            datetime.now(UTC),
        )


def rows(db: Database) -> list[OutboxMessage]:
    with db.session(read_only=True) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def contents(fake: FakeWeChat, api: str = "custom") -> list[str]:
    if api == "template":
        return [r.body["data"]["remark"]["value"] for r in fake.received("template")]
    return [r.body["text"]["content"] for r in fake.received(api)]


def test_the_same_event_queues_once(settings: Settings) -> None:
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(minutes=1))
    assert queue(db, someone, "停水通知", key="notice:1:1") is not None
    assert queue(db, someone, "停水通知", key="notice:1:1") is None
    assert len(rows(db)) == 1
    db.dispose()


def test_a_resident_who_wrote_lately_gets_a_customer_service_message(
    settings: Settings, fake: FakeWeChat
) -> None:
    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(hours=3))
    queue(db, someone, "明天上午9点至12点停水，请提前储水。")
    stats = Worker(settings, db).run_once()
    assert stats.sent == 1
    [call] = fake.received("custom")
    assert call.body["touser"] == "o_resident_1"
    assert "明天上午9点至12点停水" in call.body["text"]["content"]
    [row] = rows(db)
    assert (row.status, row.channel, row.attempts) == ("sent", "cs", 1)
    assert row.sent_at is not None
    db.dispose()


def test_the_customer_service_budget_is_five_then_the_template(
    settings: Settings, fake: FakeWeChat
) -> None:
    settings = live_settings(settings, fake, wechat={"templates": "notice=TPL_NOTICE"})
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(hours=1))
    for n in range(7):
        queue(db, someone, f"通知第{n}条")
    Worker(settings, db).run_once()
    assert contents(fake) == [f"【社区通知】\n通知第{n}条" for n in range(5)]
    assert contents(fake, "template") == ["通知第5条", "通知第6条"]
    assert fake.received("template")[0].body["template_id"] == "TPL_NOTICE"
    with db.session(read_only=True) as session:
        assert session.get(Person, someone).cs_sent == 5  # type: ignore[union-attr]
    db.dispose()


def test_a_closed_window_falls_back_to_the_template_at_once(
    settings: Settings, fake: FakeWeChat
) -> None:
    settings = live_settings(settings, fake, wechat={"templates": "notice=TPL_NOTICE"})
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(hours=1))
    queue(db, someone, "第一条")
    queue(db, someone, "第二条")
    fake.script("custom", [45047])
    stats = Worker(settings, db).run_once()
    assert stats.sent == 2 and stats.retried == 0
    # The first went by template after 45047; the second skipped the shut window.
    assert contents(fake, "template") == ["第一条", "第二条"]
    assert contents(fake) == []
    db.dispose()


def test_without_a_channel_the_push_waits_for_the_next_reply(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    from conftest import make_app

    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(days=3))
    queue(db, someone, "本周六上午社区议事会，欢迎参加。")
    assert Worker(settings, db).run_once().held == 1
    assert fake.received() == []
    [row] = rows(db)
    assert row.status == "held"

    app = make_app(settings, clock=clock)
    resident = Chat(WeChat(app.test_client(), settings), "o_resident_1")
    reply = resident.say("帮助")
    assert reply is not None
    assert reply.startswith("【您有新消息】")
    assert "本周六上午社区议事会" in reply
    assert "议事厅可以为您办理" in reply  # the answer to what they asked is still there
    [row] = rows(db)
    assert (row.status, row.channel) == ("sent", "reply")
    again = resident.say("帮助")
    assert again is not None and "议事会" not in again
    db.dispose()


def test_an_expired_token_is_refreshed_once_and_the_send_retried_at_once(
    settings: Settings, fake: FakeWeChat
) -> None:
    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(minutes=5))
    queue(db, someone, "第一条")
    worker = Worker(settings, db)
    worker.run_once()
    assert fake.token_fetches() == 1
    fake.expire_tokens()
    queue(db, someone, "第二条")
    stats = worker.run_once()
    assert stats.sent == 1
    assert fake.token_fetches() == 2
    assert len(fake.received("custom")) == 2
    db.dispose()


def test_the_token_is_fetched_once_for_all_workers(settings: Settings, fake: FakeWeChat) -> None:
    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(minutes=5))
    for n in range(3):
        queue(db, someone, f"第{n}条")
        # Separate databases objects: as separate processes, they share only the table.
        Worker(settings, Database(settings), name=f"w{n}").run_once()
    assert fake.token_fetches() == 1
    with db.session(read_only=True) as session:
        stored = session.get(AccessToken, "wechat")
        assert stored is not None and stored.fetches == 1
    db.dispose()


def test_failures_retry_with_backoff_then_the_row_is_dead(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    settings = live_settings(settings, fake, max_attempts=3)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(minutes=5))
    queue(db, someone, "第一条")
    worker = Worker(settings, db, clock=clock)
    fake.script("custom", ["500", -1, "drop"])
    delays = []
    for _ in range(3):
        before = clock()
        assert worker.run_once().claimed == 1
        [row] = rows(db)
        delays.append((row.next_attempt_at - before).total_seconds())
        assert worker.run_once().claimed == 0  # not due yet
        clock.advance(seconds=30)
    [row] = rows(db)
    assert row.status == "dead"
    assert row.attempts == 3
    assert "gave up after 3 tries" in (row.last_error or "")
    # 1 s, then 2 s (±20% jitter); the third failure ended it.
    assert 0.7 < delays[0] < 1.3 and 1.5 < delays[1] < 2.5
    assert fake.received() == []
    db.dispose()


def test_a_person_who_does_not_follow_is_not_retried(settings: Settings, fake: FakeWeChat) -> None:
    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_gone", wrote_ago=timedelta(minutes=5))
    fake.unfollow("o_gone")
    queue(db, someone, "停电通知")
    stats = Worker(settings, db).run_once()
    assert stats.dead == 1
    [row] = rows(db)
    assert row.status == "dead" and row.attempts == 1
    assert "43004" in (row.last_error or "")
    db.dispose()


def test_dead_rows_are_listed_and_can_be_retried(
    settings: Settings, fake: FakeWeChat, config_path: Any
) -> None:
    live = live_settings(settings, fake)
    db = Database(live)
    someone = person(db, "o_gone", wrote_ago=timedelta(minutes=5))
    fake.unfollow("o_gone")
    queue(db, someone, "停电通知")
    Worker(live, db).run_once()
    [row] = rows(db)
    runner = CliRunner()
    listed = runner.invoke(
        cli, ["outbox", "list", "--config", str(config_path), "--status", "dead"]
    )
    assert listed.exit_code == 0, listed.output
    assert f"{row.id}" in listed.stdout and "o_gone" in listed.stdout and "43004" in listed.stdout
    retried = runner.invoke(cli, ["outbox", "retry", "--config", str(config_path), str(row.id)])
    assert retried.exit_code == 0, retried.output
    assert "1 pushes queued again" in retried.stdout
    [row] = rows(db)
    assert (row.status, row.attempts) == ("pending", 0)
    missing = runner.invoke(cli, ["outbox", "retry", "--config", str(config_path), "999"])
    assert missing.exit_code == 1 and "not dead or held" in missing.output
    db.dispose()


def test_staff_with_a_wecom_id_get_wecom_messages(settings: Settings, fake: FakeWeChat) -> None:
    settings = live_settings(settings, fake)
    db = Database(settings)
    staff = person(db, "o_staff_1")
    with db.session() as session:
        session.execute(
            update(Person)
            .where(Person.id == staff)
            .values(role=Role.STAFF, wecom_user_id="zhangsan")
        )
    queue(db, staff, "网格例会改到下午三点")
    assert Worker(settings, db).run_once().sent == 1
    [call] = fake.received("wecom")
    assert call.body["touser"] == "zhangsan"
    assert call.body["agentid"] == 1000002
    assert "网格例会改到下午三点" in call.body["text"]["content"]
    db.dispose()


def test_without_an_app_secret_pushes_go_to_the_console(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings.console_pushes
    db = Database(settings)
    someone = person(db, "o_resident_1")
    queue(db, someone, "垃圾分类宣传活动周六举行")
    with caplog.at_level(logging.INFO, logger="yishiting.console"):
        assert Worker(settings, db).run_once().sent == 1
    # At INFO the log says a push went out, never what it says (it may quote a resident).
    assert "push notice to person" in caplog.text and "垃圾分类宣传活动周六举行" not in caplog.text
    [row] = rows(db)
    assert row.channel == "console" and row.status == "sent"
    queue(db, someone, "周日上午停水两小时")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="yishiting.console"):
        assert Worker(settings, db).run_once().sent == 1
    assert "周日上午停水两小时" in caplog.text  # a developer may read it at DEBUG
    db.dispose()


def test_notify_queues_one_push_per_follower_once(
    settings: Settings, config_path: Any, fake: FakeWeChat
) -> None:
    db = Database(settings)
    for n in range(3):
        person(db, f"o_resident_{n}", wrote_ago=timedelta(minutes=n))
    with db.session() as session:
        session.execute(
            update(Person).where(Person.openid == "o_resident_2").values(following=False)
        )
    runner = CliRunner()
    args = ["notify", "--config", str(config_path), "--all", "--key", "water-1201"]
    first = runner.invoke(cli, [*args, "12月1日停水通知"])
    assert first.exit_code == 0, first.output
    assert "2 pushes queued" in first.stdout
    again = runner.invoke(cli, [*args, "12月1日停水通知"])
    assert "0 pushes queued (2 already queued before)" in again.stdout
    assert len(rows(db)) == 2

    one = runner.invoke(cli, ["notify", "--config", str(config_path), "--to", "o_x", "你好"])
    assert one.exit_code == 1 and "unknown openid(s): o_x" in one.output
    none = runner.invoke(cli, ["notify", "--config", str(config_path), "你好"])
    assert none.exit_code == 2 and "choose exactly one audience" in none.output
    db.dispose()


def test_notify_broadcast_uses_one_mass_send(
    settings: Settings, config_path: Any, fake: FakeWeChat
) -> None:
    db = Database(settings)
    for n in range(3):
        person(db, f"o_resident_{n}")
    result = CliRunner().invoke(
        cli, ["notify", "--config", str(config_path), "--all", "--broadcast", "全体居民：防汛演练"]
    )
    assert result.exit_code == 0, result.output
    assert "3 pushes queued as a broadcast" in result.stdout
    live = live_settings(settings, fake)
    assert Worker(live, Database(live)).run_once().sent == 1
    [call] = fake.received("mass")
    assert sorted(call.body["touser"]) == ["o_resident_0", "o_resident_1", "o_resident_2"]
    assert "防汛演练" in call.body["text"]["content"]
    db.dispose()


def test_a_worker_never_sends_what_another_holds(settings: Settings, fake: FakeWeChat) -> None:
    settings = live_settings(settings, fake, wechat={"templates": "notice=TPL"}, batch_size=5)
    db = Database(settings)
    someone = person(db, "o_resident_1")
    for n in range(12):
        queue(db, someone, f"第{n}条")
    first, second = Worker(settings, db, name="a"), Worker(settings, Database(settings), name="b")
    total = 0
    while (done := first.run_once().claimed + second.run_once().claimed) > 0:
        total += done
    assert total == 12
    assert sorted(contents(fake, "template")) == sorted(f"第{n}条" for n in range(12))
    db.dispose()


def test_the_daily_quota_backs_off_longest(settings: Settings, fake: FakeWeChat) -> None:
    settings = live_settings(settings, fake, retry_max_seconds=30)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(minutes=5))
    queue(db, someone, "第一条")
    fake.script("custom", [45009])
    before = datetime.now(UTC)
    assert Worker(settings, db).run_once().retried == 1
    [row] = rows(db)
    assert row.status == "pending" and "45009" in (row.last_error or "")
    assert (row.next_attempt_at - before).total_seconds() > 20
    db.dispose()


def test_an_unsubscribe_does_not_take_the_waiting_pushes(
    settings: Settings, fake: FakeWeChat, clock: Clock
) -> None:
    from conftest import make_app

    settings = live_settings(settings, fake)
    db = Database(settings)
    someone = person(db, "o_resident_1", wrote_ago=timedelta(days=3))
    queue(db, someone, "本周六上午社区议事会，欢迎参加。")
    assert Worker(settings, db).run_once().held == 1
    app = make_app(settings, clock=clock)
    Chat(WeChat(app.test_client(), settings), "o_resident_1").do("unsubscribe")
    [row] = rows(db)
    # Not shown (nobody reads an unsubscribe's reply) and not kept for later: cancelled.
    assert row.status == "cancelled"
    db.dispose()


def test_notify_a_grid_or_a_building_reaches_its_bound_residents(
    settings: Settings, config_path: Any, tmp_path: Any
) -> None:
    from models.places import approve_binding, request_binding

    places = tmp_path / "places.toml"
    places.write_text(
        '[[grid]]\nname = "第一网格"\nbuildings = ["16", "17"]\n'
        '[[grid]]\nname = "第二网格"\nbuildings = ["18"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    imported = runner.invoke(cli, ["places", "import", "--config", str(config_path), str(places)])
    assert imported.exit_code == 0, imported.output
    db = Database(settings)
    now = datetime.now(UTC)
    residents = {}
    for openid, building in (("o_16", "16"), ("o_17", "17"), ("o_18", "18"), ("o_wait", "16")):
        residents[openid] = person(db, openid)
        with db.session() as session:
            request_binding(session, residents[openid], building, "1", "101", now)
            if openid != "o_wait":  # not approved yet: not a resident of the grid
                approve_binding(session, residents[openid], "test", now)
    base = ["notify", "--config", str(config_path)]
    grid = runner.invoke(cli, [*base, "--grid", "第一网格", "16、17号楼周六停水"])
    assert grid.exit_code == 0, grid.output
    assert "2 pushes queued" in grid.stdout
    building = runner.invoke(cli, [*base, "--building", "18", "18号楼电梯检修"])
    assert "1 pushes queued" in building.stdout
    with db.session(read_only=True) as session:
        notified = (
            session.execute(
                select(Person.openid)
                .join(OutboxMessage, OutboxMessage.person_id == Person.id)
                .where(OutboxMessage.kind == "notice")
                .order_by(Person.openid)
            )
            .scalars()
            .all()
        )
    assert notified == ["o_16", "o_17", "o_18"]
    unknown = runner.invoke(cli, [*base, "--grid", "第九网格", "你好"])
    assert unknown.exit_code == 1 and "unknown grid(s): 第九网格" in unknown.output
    db.dispose()

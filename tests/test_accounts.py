"""Several Official Accounts in one deployment: each at /wechat/<name>, signed with its own
token and key, and each person's pushes go out through the account they write to.

The accounts talk to a real local fake WeChat API serving each account's AppID.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from accounts import ACCOUNTS, Account, multi_config
from click.testing import CliRunner
from conftest import Clock, db_of, make_app, staff
from flask import Flask
from sqlalchemy import select

from bot.cli import main as cli
from bot.config import Settings, load_settings
from bot.db import Database
from bot.delivery import Worker
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import Signer, message_xml
from models import Person
from models.tokens import AccessToken


def account_of(app: Flask, openid: str) -> str | None:
    with db_of(app).session(read_only=True) as session:
        return session.scalar(select(Person.account).where(Person.openid == openid))


def test_each_account_is_served_at_its_own_path_with_its_own_token_and_key(
    multi_app: Flask,
) -> None:
    client = multi_app.test_client()
    a, b = Account(client, "a"), Account(client, "b")

    assert a.say("/wechat/a", "o_east_resident", "帮助")
    assert account_of(multi_app, "o_east_resident") == "a"
    assert b.say("/wechat/b", "o_west_resident", "帮助")
    assert account_of(multi_app, "o_west_resident") == "b"

    # Signed with a's token (and encrypted with a's key): b does not take it.
    refused = a.post("/wechat/b", "o_forger", "帮助")
    assert refused.status_code == 403
    assert account_of(multi_app, "o_forger") is None


def test_an_unknown_account_and_the_bare_path_of_a_several_account_deployment_are_404(
    multi_app: Flask,
) -> None:
    client = multi_app.test_client()
    a = Account(client, "a")
    assert a.post("/wechat/nope", "o_someone", "帮助").status_code == 404
    # Several accounts: a message at /wechat could not say which account it was sent to.
    assert a.post("/wechat", "o_someone", "帮助").status_code == 404


def test_a_plain_mode_street_account_answers_its_server_check(multi_app: Flask) -> None:
    signer = Signer(ACCOUNTS["street"]["token"], clock=lambda: datetime.now(UTC).timestamp())
    signed = signer.sign("", encrypt=False)
    answer = multi_app.test_client().get(
        "/wechat/street", query_string={**signed.query, "echostr": "echo-123"}
    )
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "echo-123"
    wrong = Signer(ACCOUNTS["a"]["token"], clock=lambda: datetime.now(UTC).timestamp())
    signed = wrong.sign("", encrypt=False)
    refused = multi_app.test_client().get(
        "/wechat/street", query_string={**signed.query, "echostr": "echo-123"}
    )
    assert refused.status_code == 403


def test_the_legacy_account_is_also_served_by_its_name(app: Flask, settings: Settings) -> None:
    """A config with [wechat] only: its one account is "default", at /wechat and
    /wechat/default; its people are stored with no account (NULL)."""
    signer = Signer(settings.wechat.token, clock=lambda: datetime.now(UTC).timestamp())
    client = app.test_client()
    for path, openid in (("/wechat", "o_one"), ("/wechat/default", "o_two")):
        signed = signer.sign(message_xml(openid, text="帮助"))
        response = client.post(path, query_string=signed.query, data=signed.body)
        assert response.status_code == 200 and signer.read_reply(response.get_data())
        assert account_of(app, openid) is None
    signed = signer.sign(message_xml("o_three", text="帮助"))
    assert client.post("/wechat/other", query_string=signed.query).status_code == 404


@pytest.fixture
def live(config_path: Path, fake: FakeWeChat, clock: Clock) -> Iterator[tuple[Flask, Settings]]:
    """The three accounts with app secrets, pushing through the fake WeChat API."""
    for name, values in ACCOUNTS.items():
        fake.add_app(values["app_id"], f"secret_{name}")
    settings = load_settings(multi_config(config_path.parent, fake.url, secrets=True), {})
    settings = settings.replace(delivery={"timeout_seconds": 1.0, "lease_seconds": 5.0})
    app = make_app(settings, clock=clock)
    yield app, settings
    db_of(app).dispose()


def sent_to(fake: FakeWeChat, openid: str) -> list[tuple[str, str]]:
    """(AppID, text) of each customer-service message the fake accepted for `openid`."""
    return [
        (r.app_id, r.body["text"]["content"])
        for r in fake.received("custom")
        if r.body.get("touser") == openid
    ]


def test_a_residents_pushes_go_out_through_the_account_they_wrote_to(
    live: tuple[Flask, Settings], fake: FakeWeChat
) -> None:
    app, settings = live
    client = app.test_client()
    east, west = Account(client, "a"), Account(client, "b")
    staff(app, "o_wang", "王师傅", topics=("电梯设施",))
    assert east.say("/wechat/a", "o_wang", "待办") is not None  # staff write on account a

    assert "#1" in (west.say("/wechat/b", "o_west", "3号楼电梯坏了，困住了两个老人") or "")
    assert "#2" in (east.say("/wechat/a", "o_east", "5号楼电梯也坏了，一直停在三楼") or "")
    assert east.say("/wechat/a", "o_wang", "接单 1") is not None
    assert east.say("/wechat/a", "o_wang", "接单 2") is not None
    Worker(settings, Database(settings), name="w1").run_once()

    west_pushes = sent_to(fake, "o_west")
    assert west_pushes and all(app_id == "wx_b" for app_id, _ in west_pushes)
    assert any("#1 已由社区工作人员受理" in text for _, text in west_pushes)
    east_pushes = sent_to(fake, "o_east")
    assert east_pushes and all(app_id == "wx_a" for app_id, _ in east_pushes)
    assert any("#2 已由社区工作人员受理" in text for _, text in east_pushes)
    assert {app_id for app_id, _ in sent_to(fake, "o_wang")} == {"wx_a"}

    # Each account fetched its own token, once, and keeps it in its own row.
    assert fake.token_fetches("wx_a") == 1 and fake.token_fetches("wx_b") == 1
    assert fake.token_fetches("wx_s") == 0
    with db_of(app).session(read_only=True) as session:
        rows = set(session.scalars(select(AccessToken.app)))
    assert rows == {"wechat:wx_a", "wechat:wx_b"}


def test_a_street_wide_notice_goes_out_through_every_account_to_its_followers(
    live: tuple[Flask, Settings], fake: FakeWeChat
) -> None:
    app, settings = live
    client = app.test_client()
    for name, openid in (("a", "o_east"), ("b", "o_west"), ("street", "o_street")):
        Account(client, name).say(f"/wechat/{name}", openid, "帮助")
    runner = CliRunner()
    config = ["--config", settings.source]
    queued = runner.invoke(cli, ["notify", *config, "--all", "明天上午九点停水"])
    assert queued.exit_code == 0 and "3 pushes queued" in queued.output, queued.output
    only_b = runner.invoke(cli, ["notify", *config, "--all", "--account", "b", "西区停电"])
    assert only_b.exit_code == 0 and "1 pushes queued" in only_b.output, only_b.output
    Worker(settings, Database(settings), name="w1").run_once()

    assert sent_to(fake, "o_east") == [("wx_a", sent_to(fake, "o_east")[0][1])]
    assert "明天上午九点停水" in sent_to(fake, "o_east")[0][1]
    assert [app_id for app_id, _ in sent_to(fake, "o_street")] == ["wx_s"]
    west = sent_to(fake, "o_west")
    assert [app_id for app_id, _ in west] == ["wx_b", "wx_b"]
    assert "西区停电" in west[1][1]


def test_a_broadcast_is_mass_sent_once_per_account(
    live: tuple[Flask, Settings], fake: FakeWeChat
) -> None:
    app, settings = live
    client = app.test_client()
    for name, openid in (("a", "o_e1"), ("a", "o_e2"), ("b", "o_w1"), ("b", "o_w2")):
        Account(client, name).say(f"/wechat/{name}", openid, "帮助")
    result = CliRunner().invoke(
        cli, ["notify", "--config", settings.source, "--all", "--broadcast", "周末义诊"]
    )
    assert result.exit_code == 0, result.output
    Worker(settings, Database(settings), name="w1").run_once()
    sends = {r.app_id: sorted(r.body["touser"]) for r in fake.received("mass")}
    assert sends == {"wx_a": ["o_e1", "o_e2"], "wx_b": ["o_w1", "o_w2"]}


def test_menu_push_publishes_to_the_account_named(
    live: tuple[Flask, Settings], fake: FakeWeChat
) -> None:
    _, settings = live
    runner = CliRunner()
    pushed = runner.invoke(cli, ["menu", "push", "--config", settings.source, "--account", "b"])
    assert pushed.exit_code == 0, pushed.output
    assert "account b" in pushed.output
    assert fake.menu("wx_b") is not None and fake.menu("wx_a") is None
    unnamed = runner.invoke(cli, ["menu", "push", "--config", settings.source])
    assert unnamed.exit_code == 2 and "--account (a, b, street)" in unnamed.output
    unknown = runner.invoke(cli, ["menu", "push", "--config", settings.source, "--account", "x"])
    assert unknown.exit_code == 2 and "no such account" in unknown.output


def test_an_attachment_is_downloaded_through_the_account_it_was_sent_on(
    live: tuple[Flask, Settings], fake: FakeWeChat
) -> None:
    app, settings = live
    fake.media.put("m_west_photo", b"\xff\xd8\xff\xe0" + b"dark stairwell" * 40, app_id="wx_b")
    west = Account(app.test_client(), "b")
    assert "#1" in (west.say("/wechat/b", "o_west", "3号楼楼道的灯坏了好几天了，晚上很黑") or "")
    signed = west.signer.sign(
        message_xml(
            "o_west",
            msg_type="image",
            fields={"PicUrl": "http://mmbiz/p.jpg", "MediaId": "m_west_photo"},
        )
    )
    posted = app.test_client().post("/wechat/b", query_string=signed.query, data=signed.body)
    assert posted.status_code == 200
    worker = Worker(settings, db_of(app), name="media")
    try:
        assert worker.media.run_once() == 1
    finally:
        worker.media.close()
    from models import Attachment

    with db_of(app).session(read_only=True) as session:
        [attachment] = session.scalars(select(Attachment))
        assert attachment.media_status == "stored", attachment.media_error
    assert fake.token_fetches("wx_b") == 1 and fake.token_fetches("wx_a") == 0


def test_the_simulator_page_writes_as_a_resident_of_the_account_chosen(multi_app: Flask) -> None:
    from test_simulator import Simulator

    sim = Simulator(multi_app.test_client())
    status, body = sim.post({"openid": "o_sim_west", "text": "帮助", "account": "b"})
    assert status == 200 and body["reply"]
    assert account_of(multi_app, "o_sim_west") == "b"
    assert sim.say("o_sim_first", "帮助")  # without one: the first account
    assert account_of(multi_app, "o_sim_first") == "a"
    status, body = sim.post({"openid": "o_sim_x", "text": "帮助", "account": "nope"})
    assert status == 400 and body["error"] == "没有名为 nope 的公众号（可选：a、b、street）。"

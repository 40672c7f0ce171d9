"""Messages whose handling failed are visible to staff: the console's 失败消息 page, the CLI,
/metrics — and a retry that, once the fault is gone, handles the message and pushes the reply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import WeChat, console_login, csrf_token_of, db_of, make_account, make_app, pushes_to
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from handlers import Context, Router, texts
from models import InboundMessage


class Flaky:
    """A handler with a bug that can be fixed mid-test; its error quotes the message, as
    database errors quote SQL parameters."""

    def __init__(self) -> None:
        self.broken = True
        self.router = Router("flaky")
        self.router.fallback(self.handle)

    def handle(self, ctx: Context) -> str:
        if self.broken:
            raise RuntimeError(f"cannot file {ctx.message.text!r}")
        return f"已收到：{ctx.message.text}"


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def flaky_app(settings: Settings, flaky: Flaky) -> Iterator[Flask]:
    app = make_app(settings.replace(metrics={"enabled": True}), router=flaky.router)
    yield app
    db_of(app).dispose()


def failed_rows(app: Flask) -> list[InboundMessage]:
    with db_of(app).session(read_only=True) as s:
        return list(s.scalars(select(InboundMessage).where(InboundMessage.status == "failed")))


def test_a_failed_message_stores_its_error_class_never_its_text(
    flaky_app: Flask, settings: Settings
) -> None:
    wechat = WeChat(flaky_app.test_client(), settings)
    assert wechat.send("o_resident_li", "井盖丢了") == texts.SORRY
    [row] = failed_rows(flaky_app)
    assert row.error == "RuntimeError"


def test_staff_see_failed_messages_and_a_retry_handles_one_and_pushes_its_reply(
    flaky_app: Flask, settings: Settings, flaky: Flaky
) -> None:
    wechat = WeChat(flaky_app.test_client(), settings)
    wechat.send("o_resident_li", "井盖丢了")
    make_account(flaky_app, "wang", "staff")
    staff = flaky_app.test_client()
    assert console_login(staff, "wang").status_code == 303
    page = staff.get("/admin/inbound")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "失败消息" in html and "o_re…t_li" in html and "RuntimeError" in html
    assert "o_resident_li" not in html  # the sender is masked
    [row] = failed_rows(flaky_app)

    # Still broken: the retry fails again and the message stays on the list.
    token = csrf_token_of(page)
    again = staff.post(f"/admin/inbound/{row.id}/retry", data={"csrf_token": token})
    assert again.status_code == 303
    assert "仍然失败（RuntimeError）" in staff.get("/admin/inbound").get_data(as_text=True)
    assert len(failed_rows(flaky_app)) == 1

    flaky.broken = False  # the bug is fixed
    done = staff.post(f"/admin/inbound/{row.id}/retry", data={"csrf_token": token})
    assert done.status_code == 303
    after = staff.get("/admin/inbound").get_data(as_text=True)
    assert "已重新处理成功" in after and "没有处理失败的消息" in after
    assert failed_rows(flaky_app) == []
    assert pushes_to(flaky_app, "o_resident_li", "inbound.reply") == ["已收到：井盖丢了"]
    # A second click on the same (now handled) message changes nothing.
    staff.post(f"/admin/inbound/{row.id}/retry", data={"csrf_token": token})
    assert len(pushes_to(flaky_app, "o_resident_li", "inbound.reply")) == 1
    # WeChat's late retry of the original delivery still gets the stored (new) reply.
    assert wechat.send("o_resident_li", "井盖丢了") == "已收到：井盖丢了"


def test_a_viewer_cannot_see_or_retry_failed_messages(flaky_app: Flask) -> None:
    make_account(flaky_app, "guest", "viewer")
    viewer = flaky_app.test_client()
    console_login(viewer, "guest")
    assert viewer.get("/admin/inbound").status_code == 403


def test_inbound_list_failed_json_and_metrics_count_them(
    flaky_app: Flask, settings: Settings, config_path: Path
) -> None:
    wechat = WeChat(flaky_app.test_client(), settings)
    wechat.send("o_resident_li", "井盖丢了")
    wechat.send("o_resident_zhao", "路灯不亮")
    result = CliRunner().invoke(
        main, ["inbound", "list", "--failed", "--json", "--config", str(config_path)]
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [(i["sender"], i["kind"], i["status"], i["error"]) for i in items] == [
        ("o_re…zhao", "text", "failed", "RuntimeError"),
        ("o_re…t_li", "text", "failed", "RuntimeError"),
    ]
    assert "井盖" not in result.stdout  # what residents wrote stays in the console
    metrics = flaky_app.test_client().get("/metrics").get_data(as_text=True)
    assert "yishiting_inbound_failed 2" in metrics


def test_a_failed_message_of_an_erased_resident_is_not_handled_again(
    flaky_app: Flask, settings: Settings, flaky: Flaky, config_path: Path
) -> None:
    wechat = WeChat(flaky_app.test_client(), settings)
    flaky.broken = False
    wechat.send("o_resident_li", "你好")  # known to the account
    flaky.broken = True
    wechat.send("o_resident_li", "井盖丢了")
    erased = CliRunner().invoke(
        main, ["residents", "erase", "--config", str(config_path), "o_resident_li", "--yes"]
    )
    assert erased.exit_code == 0, erased.output
    [row] = failed_rows(flaky_app)
    make_account(flaky_app, "wang", "staff")
    staff = flaky_app.test_client()
    assert console_login(staff, "wang").status_code == 303
    token = csrf_token_of(staff.get("/admin/inbound"))
    flaky.broken = False
    staff.post(f"/admin/inbound/{row.id}/retry", data={"csrf_token": token})
    page = staff.get("/admin/inbound").get_data(as_text=True)
    assert "发送者已申请删除个人信息，不能再处理" in page
    with db_of(flaky_app).session(read_only=True) as session:
        kinds = list(session.scalars(select(InboundMessage.kind)))
    assert kinds == ["text", "text"]  # nothing handled in the erased person's name
    assert pushes_to(flaky_app, row.openid, "inbound.reply") == []

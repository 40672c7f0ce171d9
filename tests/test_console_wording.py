"""What the console says where it used to say nothing, or too much: why an account cannot take
a ticket, a poll's verdicts before it closes, and a rules import that keeps what it leaves out."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from conftest import (
    Chat,
    WeChat,
    console_login,
    csrf_token_of,
    db_of,
    make_account,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from test_console_polls import bound, community, form, post_on_page, submit

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Topic
from models.staff import add_staff

# --- a ticket's buttons --------------------------------------------------------------------


def a_new_lift_ticket(app: Flask, wechat: WeChat) -> None:
    with db_of(app).session() as session:
        add_staff(session, "o_wang", "王师傅", ("电梯设施",), (), None, 1, datetime.now(UTC))
    Chat(wechat, "o_resident").say("3号楼电梯坏了，困住了一个老人")


def test_an_admin_without_a_staff_identity_is_told_why_there_is_no_accept_button(
    app: Flask, wechat: WeChat, admin_client: FlaskClient
) -> None:
    a_new_lift_ticket(app, wechat)
    page = admin_client.get("/admin/tickets/1").get_data(as_text=True)
    assert 'value="accept"' not in page and 'value="resolve"' not in page
    why = re.search(r'<p class="flash" id="needs-identity">(.*?)</p>', page, re.S)
    assert why, page
    assert "没有关联工作人员" in why.group(1) and "接单" in why.group(1)
    assert '<a href="/admin/people/accounts">控制台账号</a>' in why.group(1)
    assert admin_client.get("/admin/people/accounts").status_code == 200


def test_a_staff_account_without_an_identity_is_told_to_ask_an_admin(
    app: Flask, wechat: WeChat
) -> None:
    a_new_lift_ticket(app, wechat)
    make_account(app, "helper", "staff")
    client = app.test_client()
    assert console_login(client, "helper").status_code == 303
    page = client.get("/admin/tickets/1").get_data(as_text=True)
    assert "请管理员在“控制台账号”页把您的账号关联到工作人员" in page
    assert "/admin/people/accounts" not in page  # a page this account may not open


def test_a_linked_staff_account_sees_the_accept_button_and_no_excuse(
    app: Flask, wechat: WeChat
) -> None:
    a_new_lift_ticket(app, wechat)
    make_account(app, "wang", "staff", openid="o_wang")
    client = app.test_client()
    assert console_login(client, "wang").status_code == 303
    page = client.get("/admin/tickets/1").get_data(as_text=True)
    assert 'value="accept"' in page and "needs-identity" not in page


# --- a poll's verdicts ---------------------------------------------------------------------


def verdicts(page: str) -> dict[str, tuple[str, str]]:
    """The quorum and pass verdicts shown: {id: (words, css class)}."""
    found = re.findall(r'<b id="(tally-quorum|tally-passed)" class="([^"]*)">([^<]*)</b>', page)
    return {key: (words, css) for key, css, words in found}


def test_an_open_poll_says_so_far_without_red_and_a_zero_quorum_is_never_missed(
    app: Flask, admin_client: FlaskClient
) -> None:
    community(app)
    submit(admin_client, form(quorum="0"))
    shown = verdicts(admin_client.get("/admin/polls/1").get_data(as_text=True))
    assert shown == {
        "tally-quorum": ("不设要求", ""),
        "tally-passed": ("进行中，尚无投票", ""),
    }
    live = admin_client.get("/admin/polls/1/tally.json").get_json()
    assert live["quorum_verdict"] == ["不设要求", ""]
    assert live["passed_verdict"] == ["进行中，尚无投票", ""]


def test_an_open_poll_below_its_quorum_is_in_progress_then_closed_it_is_not_reached(
    app: Flask, admin_client: FlaskClient, wechat: WeChat
) -> None:
    community(app)
    submit(admin_client, form(quorum="60"))
    voter = bound(app, wechat, "o_wang", "16-1-101")
    bound(app, wechat, "o_li", "16-1-102")
    voter.say("投票 1 A")
    shown = verdicts(admin_client.get("/admin/polls/1").get_data(as_text=True))
    assert shown == {
        "tally-quorum": ("进行中，目前未达到", ""),
        "tally-passed": ("进行中，目前未达到", ""),
    }
    post_on_page(admin_client, "/admin/polls/1", "/admin/polls/1/close")
    shown = verdicts(admin_client.get("/admin/polls/1").get_data(as_text=True))
    assert shown == {"tally-quorum": ("未达到", "no"), "tally-passed": ("未通过", "no")}


def test_an_open_poll_ahead_says_it_could_pass_and_closed_it_passed(
    app: Flask, admin_client: FlaskClient, wechat: WeChat
) -> None:
    community(app)
    submit(admin_client, form(quorum="50"))
    bound(app, wechat, "o_wang", "16-1-101").say("投票 1 B")
    shown = verdicts(admin_client.get("/admin/polls/1").get_data(as_text=True))
    assert shown == {
        "tally-quorum": ("目前已达到", ""),
        "tally-passed": ("进行中，目前可通过", ""),
    }
    post_on_page(admin_client, "/admin/polls/1", "/admin/polls/1/close")
    shown = verdicts(admin_client.get("/admin/polls/1").get_data(as_text=True))
    assert shown == {"tally-quorum": ("已达到", "yes"), "tally-passed": ("通过", "yes")}


# --- importing rules -----------------------------------------------------------------------

ONLY_RULES = """
[[topic]]
name = "电梯设施"
rules = [{ keyword = "电梯", weight = 3 }]

[[topic]]
name = "噪音扰民"
sla_hours = 12
"""


def lift_and_noise(settings: Settings) -> dict[str, tuple[str, int, int]]:
    """(description, sla_hours, rule count) of the two topics the file names."""
    db = Database(settings)
    with db.session(read_only=True) as session:
        topics = session.scalars(select(Topic).where(Topic.name.in_(["电梯设施", "噪音扰民"])))
        found = {t.name: (t.description, t.sla_hours, len(t.rules)) for t in topics}
    db.dispose()
    return found


def test_a_rules_file_that_leaves_out_a_topics_settings_keeps_them(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    before = lift_and_noise(settings)
    path = tmp_path / "rules.toml"
    path.write_text(ONLY_RULES, encoding="utf-8")
    result = CliRunner().invoke(main, ["rules", "import", "--config", str(config_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "description" not in result.stdout
    after = lift_and_noise(settings)
    # 电梯设施: new rules, its description and 24 h SLA as they were.
    assert after["电梯设施"] == (before["电梯设施"][0], before["电梯设施"][1], 1)
    assert before["电梯设施"][0] and before["电梯设施"][1] != 72
    # 噪音扰民: a new SLA only; its description and rules untouched.
    assert after["噪音扰民"] == (before["噪音扰民"][0], 12, before["噪音扰民"][2])


def test_the_console_import_keeps_what_the_file_leaves_out_too(
    admin_client: FlaskClient, settings: Settings
) -> None:
    before = lift_and_noise(settings)
    token = csrf_token_of(admin_client.get("/admin/rules/import"))
    upload = (io.BytesIO(ONLY_RULES.encode("utf-8")), "rules.toml")
    preview = admin_client.post(
        "/admin/rules/import", data={"csrf_token": token, "file": upload}
    ).get_data(as_text=True)
    assert "噪音扰民" in preview and "12" in preview  # the one setting the file changes
    assert "→ &#39;&#39;" not in preview and "→ ''" not in preview
    applied = admin_client.post(
        "/admin/rules/import",
        data={"csrf_token": token, "content": ONLY_RULES, "apply": "1"},
    )
    assert applied.status_code == 303
    after = lift_and_noise(settings)
    assert after["电梯设施"][:2] == before["电梯设施"][:2]
    assert after["噪音扰民"] == (before["噪音扰民"][0], 12, before["噪音扰民"][2])

"""Fields are checked at the edge: a value the database cannot hold is a 400 with the reason,
never an error taken for "database down"; the spool sets aside what cannot be handled.

On PostgreSQL a value longer than its column raises; SQLite stores it. The checks run
before the database, so both answer alike.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import WeChat, inbound_count, make_app
from flask import Flask

from bot.cli import main as cli
from bot.config import Settings
from bot.spool import Spool, spool_counts
from devtools.simulator import message_xml


@pytest.fixture
def edge(backend_settings: Settings) -> tuple[Flask, WeChat, Settings]:
    app = make_app(backend_settings)
    yield app, WeChat(app.test_client(), backend_settings), backend_settings
    app.extensions["yishiting"].db.dispose()


LONG = {
    "a FromUserName over 64 characters": (
        message_xml("o" * 65, text="帮助"),
        "<FromUserName> is longer than 64",
    ),
    "a ToUserName over 64 characters": (
        message_xml("o_ok", text="帮助", account="g" * 65),
        "<ToUserName> is longer than 64",
    ),
    "an event name no WeChat event has": (
        message_xml("o_ok", event="x" * 65),
        "<Event> is longer than 64",
    ),
    "an EventKey too long": (
        message_xml("o_ok", event="click", event_key="K" * 1025),
        "<EventKey> is longer than 1024",
    ),
    "a MsgType past its column": (
        message_xml("o_ok", msg_type="t" * 33),
        "<MsgType> is longer than 32",
    ),
}


@pytest.mark.parametrize("case", list(LONG))
def test_a_field_too_long_for_its_column_is_a_400_with_the_reason(
    edge: tuple[Flask, WeChat, Settings], case: str
) -> None:
    app, wechat, settings = edge
    xml, reason = LONG[case]
    response = wechat.post_xml(xml)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    spool: Spool = app.extensions["yishiting.spool"]
    assert spool.pending() == []  # not taken for "database down"
    assert wechat.send("o_next", "帮助") is not None  # and the next message is answered
    assert inbound_count(settings) == 1


def test_the_longest_allowed_fields_are_stored_on_both_databases(
    edge: tuple[Flask, WeChat, Settings],
) -> None:
    app, wechat, settings = edge
    response = wechat.post_xml(
        message_xml("o" * 64, event="y" * 64, event_key="k" * 1024, account="g" * 64)
    )
    assert response.status_code == 200
    assert inbound_count(settings) == 1
    real = message_xml("o_ok", event="qualification_verify_success")  # 28: a real event
    assert wechat.post_xml(real).status_code == 200


def test_a_spooled_message_that_cannot_be_handled_is_set_aside_at_once(
    edge: tuple[Flask, WeChat, Settings],
) -> None:
    """Only "the database is unreachable" keeps a spooled message waiting; anything else
    goes to *.bad at once, and the messages behind it are replayed."""
    app, wechat, settings = edge
    spool: Spool = app.extensions["yishiting.spool"]
    spool.write(message_xml("o" * 65, text="帮助").encode())  # refused by today's checks
    spool.write(message_xml("o_behind", text="楼道灯坏了，请来修一下").encode())
    assert spool.replay() == 1
    counts = spool_counts(spool.folder)
    assert (counts.waiting, counts.bad) == (0, 1)
    assert inbound_count(settings) == 1


def test_status_readyz_and_metrics_count_waiting_and_bad_spool_files(
    settings: Settings, config_path: Path
) -> None:
    metered = settings.replace(metrics={"enabled": True})
    app = make_app(metered)
    folder = app.extensions["yishiting.spool"].folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "00000000000000000001-1-aa.xml.bad").write_bytes(b"<xml/>")
    (folder / f"{time.time_ns():020d}-1-bb.xml").write_bytes(b"<xml/>")
    (folder / f"{time.time_ns():020d}-1-cc.xml").write_bytes(b"<xml/>")
    client = app.test_client()
    body = client.get("/readyz").get_json()
    assert body["checks"]["spool_waiting"]["value"] == 2
    assert body["checks"]["spool_waiting"]["ok"] and body["checks"]["spool_waiting"]["warn"]
    assert body["checks"]["spool_bad"] == {
        "ok": False,
        "value": 1,
        "detail": f"1 message(s) that cannot be handled, kept as *.xml.bad in {folder}",
    }
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'yishiting_spool_files{state="waiting"} 2' in metrics
    assert 'yishiting_spool_files{state="bad"} 1' in metrics
    result = CliRunner().invoke(cli, ["status", "--config", str(config_path), "--json"])
    checks = json.loads(result.output)["checks"]
    assert (checks["spool_waiting"]["value"], checks["spool_bad"]["value"]) == (2, 1)
    text = CliRunner().invoke(cli, ["status", "--config", str(config_path)]).output
    assert "✗ spool_bad: 1 message(s) that cannot be handled" in text
    assert "! spool_waiting: 2 message(s) waiting for the database" in text
    app.extensions["yishiting"].db.dispose()

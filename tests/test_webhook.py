"""The server contract with WeChat: verification, signatures, bad input, reply safety."""

from __future__ import annotations

import logging
import time

import pytest
import xmltodict
from conftest import TOKEN, WeChat
from flask.testing import FlaskClient

from bot.config import Settings
from bot.wechat.protocol import signature
from devtools.simulator import message_xml


def _query(token: str = TOKEN, **extra: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), "8812734"
    return {"timestamp": ts, "nonce": nonce, "signature": signature(token, ts, nonce), **extra}


def test_get_verification_echoes_echostr(client: FlaskClient) -> None:
    response = client.get("/wechat", query_string=_query(echostr="7364521988"))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "7364521988"


@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_signature_is_403(client: FlaskClient, method: str) -> None:
    query = _query(token="not-our-token", echostr="1")
    response = getattr(client, method)("/wechat", query_string=query, data=b"<xml/>")
    assert response.status_code == 403
    assert getattr(client, method)("/wechat").status_code == 403  # no signature at all


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405(client: FlaskClient, method: str) -> None:
    assert getattr(client, method)("/wechat", query_string=_query()).status_code == 405


def test_empty_token_refuses_everything_instead_of_accepting_forgeries(
    settings: Settings,
) -> None:
    from conftest import make_app

    app = make_app(settings.replace(wechat={"token": ""}))
    response = app.test_client().get("/wechat", query_string=_query(token="", echostr="1"))
    assert response.status_code == 503


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&e;</Content><MsgId>1</MsgId></xml>"""


def _text_xml(**override: str) -> bytes:
    fields = {
        "ToUserName": "gh_1",
        "FromUserName": "o_1",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "你好",
        "MsgId": "1234567890123456",
    }
    fields.update(override)
    return ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</xml>").encode()


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<xml><ToUserName>", "not a WeChat message"),
        (b"not xml at all", "not a WeChat message"),
        (b"<xml>abc</xml>", "not a WeChat message"),
        (b"<xml/>", "not a WeChat message"),
        (b"", "empty body"),
        (BILLION_LAUGHS, "DOCTYPE or ENTITY"),
        (EXTERNAL_ENTITY, "DOCTYPE or ENTITY"),
        (
            _text_xml().replace(b"<MsgType>text</MsgType>", b"<MsgType>text</MsgType>" * 2),
            "repeated element <MsgType>",
        ),
        (_text_xml().replace(b"<Content>", b"<Content>a</Content><Content>"), "repeated"),
        (_text_xml(CreateTime="abc"), "CreateTime"),
        (_text_xml(CreateTime="9" * 30), "CreateTime"),
        (_text_xml(MsgId="12x"), "MsgId"),
        (_text_xml(MsgId="9" * 40), "MsgId"),
        (_text_xml(FromUserName=""), "FromUserName"),
        (_text_xml().replace(b"<MsgType>text</MsgType>", b""), "MsgType"),
        ("<xml><Content>你好</Content></xml>".encode("gbk"), "UTF-8"),
    ],
)
def test_bad_bodies_are_400_with_the_reason_logged(
    wechat: WeChat, caplog: pytest.LogCaptureFixture, body: bytes, reason: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = wechat.post_raw(body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert reason in response.get_data(as_text=True)
    assert any(reason in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_body_over_the_cap_is_413(wechat: WeChat) -> None:
    body = _text_xml(Content="灯" * 30_000)  # 90 KB of UTF-8
    assert len(body) > 64 * 1024
    assert wechat.post_raw(body).status_code == 413


def test_a_long_message_under_the_cap_is_accepted(wechat: WeChat) -> None:
    body = _text_xml(Content="灯" * 20_000)  # 60 KB
    assert len(body) < 64 * 1024
    assert wechat.post_raw(body).status_code == 200


def test_the_cap_is_configurable(settings: Settings) -> None:
    from conftest import make_app

    app = make_app(settings.replace(webhook={"max_body_bytes": 2048}))
    wechat = WeChat(app.test_client(), settings)
    assert wechat.post_raw(_text_xml(Content="x" * 3000)).status_code == 413
    assert wechat.post_raw(_text_xml(Content="x" * 100)).status_code == 200


def test_message_content_never_reaches_the_logs(
    wechat: WeChat, caplog: pytest.LogCaptureFixture
) -> None:
    secret_words = "我家住16号楼2单元501电话13812345678"
    with caplog.at_level(logging.DEBUG):
        wechat.send("o_private", secret_words)
        wechat.post_raw(_text_xml(Content=secret_words, CreateTime="oops"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "handled text" in logged
    assert secret_words not in logged and "13812345678" not in logged
    assert "o_private" not in logged


def test_reply_text_cannot_break_out_of_cdata(wechat: WeChat) -> None:
    label = "X]]><MsgType><![CDATA[news]]></MsgType><Evil>1</Evil>"
    response = wechat.post_xml(
        message_xml(
            "o_1",
            msg_type="location",
            fields={"Location_X": "1", "Location_Y": "2", "Label": label},
        )
    )
    assert response.status_code == 200
    reply = xmltodict.parse(response.get_data(as_text=True))["xml"]
    assert reply["MsgType"] == "text"
    assert "Evil" not in reply
    assert label in reply["Content"]


def test_reply_is_addressed_back_to_the_sender(wechat: WeChat) -> None:
    response = wechat.post_xml(message_xml("o_sender_1", text="帮助", account="gh_account"))
    reply = xmltodict.parse(response.get_data(as_text=True))["xml"]
    assert reply["ToUserName"] == "o_sender_1"
    assert reply["FromUserName"] == "gh_account"
    assert response.mimetype == "application/xml"


def test_healthz_reports_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    from bot import create_app

    broken = settings.replace(app={"database_url": "sqlite:////nonexistent/dir/y.db"})
    response = create_app(broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"

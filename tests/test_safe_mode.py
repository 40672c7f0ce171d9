"""Safe (AES) and compatible mode: decrypt, check msg_signature, reply encrypted."""

from __future__ import annotations

from datetime import UTC, datetime

import xmltodict
from conftest import Chat, WeChat, make_app
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from bot.config import Settings
from bot.db import Database
from bot.wechat.protocol import signature
from devtools.simulator import message_xml
from models import InboundMessage

# WeChat's published sample for message encryption (the WXBizMsgCrypt demo).
SAMPLE_TOKEN = "spamtest"
SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP_ID = "wx2c2769f8efd9abc2"
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA["
    "oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content>"
    "<MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53R"
    "EIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIIt"
    "b52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5"
    "VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfR"
    "d5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumE"
    "Po5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>"
)


def test_wechats_published_sample_decrypts_and_gets_an_encrypted_reply(
    settings: Settings,
) -> None:
    sample = settings.replace(
        wechat={"token": SAMPLE_TOKEN, "encoding_aes_key": SAMPLE_AES_KEY, "app_id": SAMPLE_APP_ID}
    )
    # The sample was signed in 2014: the app's clock is set to then, or it would be too old.
    then = datetime.fromtimestamp(int(SAMPLE_TIMESTAMP) + 1, UTC)
    app = make_app(sample, clock=lambda: then)
    query = {
        "signature": signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE),
        "timestamp": SAMPLE_TIMESTAMP,
        "nonce": SAMPLE_NONCE,
        "encrypt_type": "aes",
        "msg_signature": SAMPLE_MSG_SIGNATURE,
        "openid": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
    }
    response = app.test_client().post("/wechat", query_string=query, data=SAMPLE_BODY)
    assert response.status_code == 200

    envelope = xmltodict.parse(response.get_data(as_text=True))["xml"]
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert envelope["Nonce"] == SAMPLE_NONCE
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    plain = crypto.decrypt_message(
        response.get_data(as_text=True),
        envelope["MsgSignature"],
        envelope["TimeStamp"],
        envelope["Nonce"],
    )
    reply = xmltodict.parse(plain)["xml"]
    assert reply["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert reply["FromUserName"] == "gh_10f6c3c3ac5a"
    assert reply["Content"].startswith("已登记您反映的问题，编号 #1")

    db = Database(sample)
    with db.session(read_only=True) as s:
        row = s.scalars(select(InboundMessage)).one()
        assert (row.msg_id, row.content) == ("6054768590064713728", "abcdteT")
    db.dispose()


def test_encrypted_round_trip(safe_settings: Settings) -> None:
    app = make_app(safe_settings)
    chat = Chat(WeChat(app.test_client(), safe_settings), "o_safe")
    assert chat.follow() is not None
    help_text = chat.say("帮助")
    assert help_text is not None and "议事厅可以为您办理" in help_text


def test_a_wrong_msg_signature_is_403(safe_settings: Settings) -> None:
    app = make_app(safe_settings)
    wechat = WeChat(app.test_client(), safe_settings)
    signed = wechat.signer.sign(message_xml("o_1", text="你好"))
    query = {**signed.query, "msg_signature": "0" * 40}
    response = app.test_client().post("/wechat", query_string=query, data=signed.body)
    assert response.status_code == 403


def test_garbage_ciphertext_is_400(safe_settings: Settings) -> None:
    app = make_app(safe_settings)
    wechat = WeChat(app.test_client(), safe_settings)
    garbage = "bm90IHJlYWxseSBlbmNyeXB0ZWQ="
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{garbage}</Encrypt></xml>".encode()
    signed = wechat.signer.sign("", encrypt=False)
    query = {
        **signed.query,
        "encrypt_type": "aes",
        "msg_signature": signature(
            safe_settings.wechat.token,
            signed.query["timestamp"],
            signed.query["nonce"],
            garbage,
        ),
    }
    response = app.test_client().post("/wechat", query_string=query, data=body)
    assert response.status_code == 400
    assert "cannot decrypt" in response.get_data(as_text=True)


def test_an_encrypted_message_without_a_configured_key_is_400(
    wechat: WeChat, safe_settings: Settings
) -> None:
    other = WeChat(wechat.client, safe_settings)  # signs and encrypts with a key the app lacks
    response = other.post_xml(message_xml("o_1", text="你好"))
    assert response.status_code == 400
    assert "encoding_aes_key is empty" in response.get_data(as_text=True)


def test_compatible_mode_plain_messages_still_work(safe_settings: Settings) -> None:
    """In compatible mode (accept_plaintext, for the switch-over) WeChat may send plain
    messages; they get a plain reply."""
    compatible = safe_settings.replace(wechat={"accept_plaintext": True})
    app = make_app(compatible)
    wechat = WeChat(app.test_client(), compatible)
    response = wechat.post_xml(message_xml("o_1", text="帮助"), encrypt=False)
    assert response.status_code == 200
    assert (
        "议事厅可以为您办理" in xmltodict.parse(response.get_data(as_text=True))["xml"]["Content"]
    )


def test_in_safe_mode_a_plaintext_message_is_refused(safe_settings: Settings) -> None:
    """With an EncodingAESKey, a signed URL seen once cannot carry a plain body of one's own."""
    app = make_app(safe_settings)
    wechat = WeChat(app.test_client(), safe_settings)
    response = wechat.post_xml(message_xml("o_demo_staff", text="待办"), encrypt=False)
    assert response.status_code == 403
    assert "plaintext refused" in response.get_data(as_text=True)
    assert wechat.send("o_1", "帮助") is not None  # encrypted messages are answered as before
    db = Database(safe_settings)
    with db.session(read_only=True) as s:
        assert [m.openid for m in s.scalars(select(InboundMessage))] == ["o_1"]
    db.dispose()

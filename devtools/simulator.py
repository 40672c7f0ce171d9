"""Build, sign and (in safe mode) encrypt a message exactly as WeChat's servers do.

Used by `yishiting simulate` and by the tests, to talk to a running webhook without WeChat.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.wechat.protocol import signature

ACCOUNT_ID = "gh_yishiting_sim"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(
    sender: str,
    *,
    text: str | None = None,
    event: str | None = None,
    event_key: str | None = None,
    msg_type: str | None = None,
    fields: dict[str, str] | None = None,
    msg_id: int | None = None,
    create_time: int | None = None,
    account: str = ACCOUNT_ID,
) -> str:
    """A WeChat message as XML: a text (default), an event, or any `msg_type` with fields."""
    kind = msg_type or ("event" if event else "text")
    parts = {
        "ToUserName": _cdata(account),
        "FromUserName": _cdata(sender),
        "CreateTime": str(create_time if create_time is not None else int(time.time())),
        "MsgType": _cdata(kind),
    }
    if kind == "event":
        parts["Event"] = _cdata(event or "")
        if event_key is not None:
            parts["EventKey"] = _cdata(event_key)
    else:
        if text is not None:
            parts["Content"] = _cdata(text)
        parts["MsgId"] = str(msg_id if msg_id is not None else new_msg_id())
    for name, value in (fields or {}).items():
        parts[name] = _cdata(value)
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in parts.items())
    return f"<xml>{inner}</xml>"


def new_msg_id() -> int:
    """A unique 64-bit MsgId like WeChat's (time-based high bits, random low bits)."""
    return (time.time_ns() // 1000 << 20 | secrets.randbits(20)) & (2**63 - 1)


@dataclass(frozen=True)
class SignedRequest:
    query: dict[str, str]
    body: bytes

    @property
    def query_string(self) -> str:
        return urlencode(self.query)


class Signer:
    """Signs (and in safe mode encrypts) requests for one account's token and key.

    Every request gets the current time and a fresh nonce, as WeChat's do: the webhook
    refuses a timestamp far from its clock and a (timestamp, nonce) pair used before.
    `clock` (epoch seconds) is the server's clock where a test moves it."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str = "",
        app_id: str = "",
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.clock = clock

    def sign(self, xml: str, *, openid: str = "", encrypt: bool | None = None) -> SignedRequest:
        timestamp = str(int(self.clock()))
        nonce = str(secrets.randbelow(10**10))
        query = {
            "signature": signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if openid:
            query["openid"] = openid
        if encrypt is None:
            encrypt = self.crypto is not None
        if not encrypt:
            return SignedRequest(query, xml.encode("utf-8"))
        if self.crypto is None:
            raise ValueError("safe mode needs an encoding_aes_key")
        wrapped = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        body = (
            f"<xml><ToUserName>{_cdata(ACCOUNT_ID)}</ToUserName>"
            f"<Encrypt>{_cdata(wrapped['Encrypt'])}</Encrypt></xml>"
        )
        query["encrypt_type"] = "aes"
        query["msg_signature"] = signature(self.token, timestamp, nonce, wrapped["Encrypt"])
        return SignedRequest(query, body.encode("utf-8"))

    def read_reply(self, body: bytes) -> str | None:
        """The text a passive reply carries (decrypted in safe mode); None for "success"."""
        text = body.decode("utf-8").strip()
        if not text or text == "success":
            return None
        data = xmltodict.parse(text)["xml"]
        if "Encrypt" in data:
            if self.crypto is None:
                raise ValueError("an encrypted reply, but no encoding_aes_key to read it")
            plain = self.crypto.decrypt_message(
                text, data["MsgSignature"], data["TimeStamp"], data["Nonce"]
            )
            data = xmltodict.parse(plain)["xml"]
        content = data.get("Content")
        return str(content) if content is not None else f"[{data.get('MsgType')} reply]"

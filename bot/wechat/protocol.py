"""WeChat's server protocol: signatures, safe-mode crypto and passive replies.

Separate from parsing (inbound.py) and from the HTTP view (webhook.py), as wechatpy keeps
crypto apart from parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from .inbound import BadMessage, reject_declarations

# Characters XML 1.0 cannot carry at all; a reply containing them would be refused by WeChat.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAX_REPLY_CHARS = 600  # WeChat cuts passive text replies at 2048 bytes; stay well inside


def signature(token: str, timestamp: str, nonce: str, *extra: str) -> str:
    """sha1 of the sorted, joined parts, as WeChat computes it."""
    parts = sorted([token, timestamp, nonce, *extra])
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def signature_ok(token: str, timestamp: str, nonce: str, given: str, *extra: str) -> bool:
    expected = signature(token, timestamp, nonce, *extra)
    return hmac.compare_digest(expected, given.lower().encode("ascii", "replace").decode())


# WeChat's nonces are decimal numbers of about ten digits; the seen-pair table holds 64.
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")


def timestamp_problem(timestamp: str, nonce: str, now: float, max_skew: int) -> str | None:
    """Why a signed request's timestamp or nonce cannot be trusted, None when it can.

    The signature proves only that the URL was signed with our token once; a timestamp near
    our clock bounds how long a signed URL is good for (its nonce is then spent: models/seen.py).
    """
    if not timestamp:
        return "missing timestamp"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "timestamp is not a number of seconds"
    skew = int(timestamp) - now
    if abs(skew) > max_skew:
        side = "ahead of" if skew > 0 else "behind"
        return f"timestamp {abs(skew):.0f} s {side} our clock (limit {max_skew} s)"
    if not _NONCE.fullmatch(nonce):
        return "missing or malformed nonce"
    return None


class SafeMode:
    """Decrypts inbound safe-mode messages and encrypts passive replies."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self._crypto = WeChatCrypto(token, encoding_aes_key, app_id)

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        """The plain XML inside an encrypted body; InvalidSignature or BadMessage otherwise."""
        reject_declarations(body)
        try:
            plain = self._crypto.decrypt_message(
                body.decode("utf-8"), msg_signature, timestamp, nonce
            )
        except InvalidSignatureException:
            raise InvalidSignature("msg_signature does not match") from None
        except Exception as exc:  # bad XML, no <Encrypt>, bad base64, wrong app id, padding...
            raise BadMessage(f"cannot decrypt ({type(exc).__name__})") from None
        return plain.encode("utf-8") if isinstance(plain, str) else plain

    def encrypt(self, reply_xml: str, nonce: str, timestamp: str) -> str:
        return str(self._crypto.encrypt_message(reply_xml, nonce, timestamp))


class InvalidSignature(Exception):
    """The request was not signed with our token."""


def cdata_safe(text: str) -> str:
    """Text safe inside CDATA: no `]]>` break-out, no characters XML cannot hold."""
    text = _XML_ILLEGAL.sub("", text)
    # Close the CDATA section before '>' and open a new one: the text reads the same.
    return text.replace("]]>", "]]]]><![CDATA[>")


def clean_reply_text(text: str) -> str:
    """A reply's text: CDATA-safe and short enough for WeChat to show whole."""
    if len(text) > _MAX_REPLY_CHARS:
        text = text[: _MAX_REPLY_CHARS - 1] + "…"
    return cdata_safe(text)


# wechatpy's TextReply renders exactly this; it builds it field by field through its reply
# classes, about 10 µs a message (tests/test_wechat_protocol.py checks they agree).
_TEXT_REPLY = (
    "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[{content}]]></Content>\n"
    "<FromUserName><![CDATA[{source}]]></FromUserName>\n"
    "<ToUserName><![CDATA[{target}]]></ToUserName>\n<CreateTime>{time}</CreateTime>\n</xml>"
)


def text_reply_xml(text: str, *, to_user: str, from_account: str) -> str:
    """The passive reply XML for a text answer."""
    return _TEXT_REPLY.format(
        content=clean_reply_text(text),
        source=cdata_safe(from_account),
        target=cdata_safe(to_user),
        time=int(time.time()),
    )

"""Turn the bytes WeChat posts into a `Message`, or say exactly why not.

The XML is read with the standard library's C parser (ElementTree) after DOCTYPE and entity
declarations are refused, so nothing is ever expanded or fetched. wechatpy's `parse_message`
did the same job at four times the cost (xmltodict's Python callbacks) and raised a dozen kinds
of exception on bad input, with fields converted lazily. Every field is read once here, inside
the guard, and anything odd becomes `BadMessage` (a 400), never a 500.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from handlers import Message

from ..config import Account

# DOCTYPE and entity declarations have no place in a WeChat message; refuse them before any
# parser sees them (billion laughs, external entities).
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_MAX_INT64 = 2**63 - 1

# The longest each field may be, so that what reaches the database fits its column
# (PostgreSQL refuses a longer value where SQLite stores it): openids are 28 characters
# (64 allowed, the column's length). WeChat's event names run to 28 characters
# (qualification_verify_success); the stored kind "event:<name>" is cut to its 32.
# An EventKey is a menu key (128 bytes), a scene (64) or a VIEW tap's URL (1,024).
MAX_LENGTHS = {
    "FromUserName": 64,
    "ToUserName": 64,
    "MsgType": 32,
    "Event": 64,
    "EventKey": 1024,
}

_DETAIL_FIELDS = {
    "image": ("PicUrl", "MediaId"),
    "voice": ("MediaId", "Format"),
    "video": ("MediaId", "ThumbMediaId"),
    "shortvideo": ("MediaId", "ThumbMediaId"),
    "location": ("Location_X", "Location_Y", "Scale", "Label"),
    "link": ("Title", "Description", "Url"),
}


class BadMessage(ValueError):
    """The body is not a WeChat message we can read; the text is the reason (for the log)."""


def reject_declarations(body: bytes) -> None:
    if _DECLARATION.search(body):
        raise BadMessage("XML declares a DOCTYPE or ENTITY")


def parse_xml_message(body: bytes) -> Message:
    """Parse and fully validate one plain-text WeChat XML message."""
    reject_declarations(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("body is not UTF-8") from None
    if not text.strip():
        raise BadMessage("empty body")
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError) as exc:
        raise BadMessage(f"not a WeChat message (malformed XML: {exc})") from None
    if root.tag != "xml" or len(root) == 0:
        raise BadMessage("not a WeChat message (no <xml> fields)")
    data: dict[str, Any] = {}
    for child in root:
        if child.tag in data:
            raise BadMessage(f"repeated element <{child.tag}>")
        # Nested fields (an event's ScanCodeInfo ...) are not read: kept as their text.
        data[child.tag] = child.text
    message = _to_message(data)
    if message.event in SUBSCRIBE_EVENTS:
        return replace(message, subscriptions=subscription_choices(root))
    return message


def on_account(message: Message, account: Account | None) -> Message:
    """The message as received on `account` (None: the first account, as for a spooled
    message written before accounts were named): the handlers read which account and
    community it came in on from it, and its sender is stored as that account's."""
    if account is None or account.legacy:
        return message
    return replace(message, account_name=account.name, account_community=account.community)


def _to_message(data: dict[str, Any]) -> Message:
    for key, value in data.items():
        if isinstance(value, list):
            raise BadMessage(f"repeated element <{key}>")
    for key, limit in MAX_LENGTHS.items():
        value = _text(data, key)
        if value is not None and len(value) > limit:
            raise BadMessage(f"<{key}> is longer than {limit} characters ({len(value)})")
    kind_raw = _required(data, "MsgType").lower()
    sender = _required(data, "FromUserName")
    account = _required(data, "ToUserName")
    create_time = _integer(data, "CreateTime")
    if create_time is None:
        raise BadMessage("missing <CreateTime>")
    try:
        created_at = datetime.fromtimestamp(create_time, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadMessage("CreateTime out of range") from None
    msg_id = _integer(data, "MsgId")
    kind = kind_raw if kind_raw in _DETAIL_FIELDS or kind_raw in ("text", "event") else "unknown"
    text: str | None = None
    event: str | None = None
    event_key: str | None = None
    if kind == "text":
        text = _text(data, "Content") or ""
    elif kind == "voice":
        text = _text(data, "Recognition") or None
    elif kind == "event":
        event = _required(data, "Event").lower()
        event_key = _text(data, "EventKey")
        if event == "subscribe" and (event_key or "").startswith("qrscene_"):
            event = "subscribe_scan"
    details = {
        name.lower(): value for name in _DETAIL_FIELDS.get(kind, ()) if (value := _text(data, name))
    }
    if kind == "unknown":
        details["msgtype"] = kind_raw
    return Message(
        kind=kind,
        sender=sender,
        account=account,
        created_at=created_at,
        msg_id=str(msg_id) if msg_id is not None else None,
        text=text,
        event=event,
        event_key=event_key,
        details=details,
    )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadMessage(f"<{key}> is not text")
    return value if key == "Content" else value.strip()


def _required(data: dict[str, Any], key: str) -> str:
    value = _text(data, key)
    if not value:
        raise BadMessage(f"missing or empty <{key}>")
    return value


def _integer(data: dict[str, Any], key: str) -> int | None:
    raw = _text(data, key)
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadMessage(f"<{key}> is not a number")
    value = int(raw)
    if value > _MAX_INT64:
        raise BadMessage(f"<{key}> out of range")
    return value


# 订阅通知: the events that say which notice templates a person accepted or refused, and the
# element holding their list (WeChat's own example of the change event uses the popup's name).
SUBSCRIBE_EVENTS = frozenset(
    ("subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event")
)
_SUBSCRIBE_LISTS = ("SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent")
_MAX_CHOICES = 20  # a popup offers at most a few templates
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_REFUSED = 43101


def subscription_choices(root: ElementTree.Element) -> tuple[tuple[str, str], ...]:
    """The (template id, status) pairs of a subscribe-message event's nested
    <List><TemplateId/><SubscribeStatusString/></List> items; a sent event's items give
    "sent", "reject" (errcode 43101) or "failed" from their ErrorCode."""
    lists = [child for child in root if child.tag in _SUBSCRIBE_LISTS]
    if len(lists) != 1:
        raise BadMessage(f"a subscribe event needs one of <{'>, <'.join(_SUBSCRIBE_LISTS)}>")
    items = list(lists[0])
    if not items or len(items) > _MAX_CHOICES:
        raise BadMessage(f"<{lists[0].tag}> must hold 1 to {_MAX_CHOICES} <List> items")
    return tuple(_choice(item) for item in items)


def _choice(item: ElementTree.Element) -> tuple[str, str]:
    if item.tag != "List":
        raise BadMessage(f"unexpected <{item.tag}> in a subscribe event")
    fields: dict[str, str] = {}
    for child in item:
        if child.tag in fields or len(child):
            raise BadMessage(f"<List><{child.tag}> is repeated or nested")
        fields[child.tag] = (child.text or "").strip()
    template_id = fields.get("TemplateId", "")
    if not _TEMPLATE_ID.fullmatch(template_id):
        raise BadMessage("<List><TemplateId> is missing or not a template id")
    status = fields.get("SubscribeStatusString")
    if status is not None:
        return template_id, status.lower()[:16]
    code = fields.get("ErrorCode", "")
    if not re.fullmatch(r"-?\d{1,10}", code):
        raise BadMessage("<List> has neither SubscribeStatusString nor a numeric ErrorCode")
    errcode = int(code)
    return template_id, "sent" if errcode == 0 else "reject" if errcode == _REFUSED else "failed"

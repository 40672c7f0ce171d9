"""What a person sent, as the handlers see it: no XML, no wechatpy, already validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Message:
    """One inbound message or event.

    `kind` is WeChat's MsgType (text, image, voice, video, shortvideo, location, link, event)
    or "unknown". `text` is the words a person wrote: a text message's content, or a voice
    message's speech recognition when the account has it enabled.
    """

    kind: str
    sender: str  # the person's openid
    account: str  # the Official Account's id (ToUserName)
    created_at: datetime
    msg_id: str | None = None
    text: str | None = None
    event: str | None = None  # lower case: subscribe, unsubscribe, click, ...
    event_key: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)  # kind-specific fields
    # A subscribe-message event's list: (notice template id, "accept" | "reject" | "sent" |
    # "failed") pairs (bot/wechat/inbound.py, subscription_choices).
    subscriptions: tuple[tuple[str, str], ...] = ()
    # The configured account it came in on (bot/config/accounts.py): its `[[accounts]]` name,
    # "" for the one account of a config without [[accounts]] (the legacy [wechat] table).
    # Stored on the person as `person.account` ("" as NULL): their pushes go out through it.
    account_name: str = ""
    # That account's community: a community's name, "street" (a street-wide account: the
    # person's community is theirs to say), or "" = the first community (the legacy account).
    account_community: str = ""

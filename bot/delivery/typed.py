"""Typed template messages and subscription notices: a push's parts, field by field.

Since WeChat's 2023 template rules only a template's typed fields are shown (no `first`, no
`remark`), so what a person must read goes into them. `[templates."KIND"]` and
`[subscriptions."KIND"]` (bot/config/templates.py) say which part of the push fills which field;
`typed_data` fills them from the rendered push's parts (bot/delivery/templates.py: the
payload's values, the headline, the next step) plus `sent_at`, and fits each value to its
field's type (bot/wechat/fields.py): cut with an ellipsis where the type allows, times in
WeChat's format. A value no cut can fit (Chinese in a character_string, a name the push does
not have) refuses the channel, and the next one carries the push.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from models.subscriptions import give_back, refused, use_subscription

from ..config.templates import TemplateMap, fill
from ..db import Database
from ..wechat.api import USER_REFUSES, Api, ApiFailure, ChannelRefused
from ..wechat.fields import Unfit, fit, wechat_time
from .templates import Rendered

log = logging.getLogger(__name__)

TYPED_TEMPLATE = "template"
SUBSCRIPTION = "subscribe"
TEMPLATE_SEND = "cgi-bin/message/template/send"
SUBSCRIBE_SEND = "cgi-bin/message/subscribe/bizsend"


def typed_data(
    mapping: TemplateMap, rendered: Rendered, now: datetime, tz: tzinfo
) -> dict[str, dict[str, str]]:
    """The `data` of a typed send: {"thing2": {"value": "…"}, …}; `Unfit` says which field
    cannot be filled and why."""
    parts = {name: _text(value, tz) for name, value in rendered.parts.items()}
    parts["sent_at"] = wechat_time(now.astimezone(tz))
    data: dict[str, dict[str, str]] = {}
    for field, value in mapping.fields:
        try:
            filled = fill(value, parts)
        except KeyError as exc:
            raise Unfit(f"{field}: the push {mapping.kind} has no {{{exc.args[0]}}}") from None
        data[field] = {"value": fit(field, filled)}
    return data


def _text(value: str | datetime, tz: tzinfo) -> str:
    if isinstance(value, datetime):
        moment = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
        return wechat_time(moment)
    return value


class TypedTemplateChannel:
    """A category template message (模板消息) with typed fields."""

    name = TYPED_TEMPLATE

    def __init__(
        self, api: Api, mapping: TemplateMap, tz: tzinfo, clock: Callable[[], datetime]
    ) -> None:
        self.api, self.mapping, self.tz, self.clock = api, mapping, tz, clock

    def send(self, person: Any, kind: str, rendered: Rendered) -> None:
        body = {
            "touser": person.openid,
            "template_id": self.mapping.template_id,
            "data": _data(self.mapping, rendered, self.clock(), self.tz),
        }
        if self.mapping.link:
            body["url"] = self.mapping.link
        self.api.post(TEMPLATE_SEND, body)


class SubscriptionChannel:
    """A subscription notice (订阅通知), for a person who accepted its template.

    A one-time subscription is taken before the send (so two workers never spend the same
    one) and given back when WeChat failed for its own reasons; 43101 (the person refuses it)
    marks it gone, and the next channel carries the push."""

    name = SUBSCRIPTION

    def __init__(
        self,
        api: Api,
        mapping: TemplateMap,
        db: Database,
        tz: tzinfo,
        clock: Callable[[], datetime],
    ) -> None:
        self.api, self.mapping, self.db, self.tz, self.clock = api, mapping, db, tz, clock

    def send(self, person: Any, kind: str, rendered: Rendered) -> None:
        mapping, now = self.mapping, self.clock()
        data = _data(mapping, rendered, now, self.tz)
        template_id, one_time = mapping.template_id, not mapping.long_term
        with self.db.transaction() as conn:
            taken = use_subscription(
                conn, person.id, template_id, long_term=mapping.long_term, now=now
            )
        if not taken:
            person.subscribed.pop(template_id, None)
            raise ChannelRefused(f"subscription {template_id}: none left for this person")
        body: dict[str, Any] = {"touser": person.openid, "template_id": template_id, "data": data}
        if mapping.link:
            body["page"] = mapping.link
        try:
            self.api.post(SUBSCRIBE_SEND, body)
        except ApiFailure as exc:
            with self.db.transaction() as conn:
                if exc.errcode == USER_REFUSES:
                    refused(conn, person.id, template_id, now)
                    person.subscribed.pop(template_id, None)
                elif one_time:
                    give_back(conn, person.id, template_id, now)
            raise
        if one_time:  # the batch's later pushes to this person see it used
            person.subscribed[template_id] = person.subscribed.get(template_id, 1) - 1


def _data(
    mapping: TemplateMap, rendered: Rendered, now: datetime, tz: tzinfo
) -> dict[str, dict[str, str]]:
    try:
        return typed_data(mapping, rendered, now, tz)
    except Unfit as exc:
        raise ChannelRefused(f"template {mapping.template_id} for {mapping.kind}: {exc}") from None

"""/api/v1/subscriptions: a key's webhooks — subscribe a URL to event types, list, delete.

Any valid key may subscribe, but only to events its scopes let it read (ticket.* needs
tickets:read, agenda.* needs agenda:read: 403 otherwise), and receives them only about its
own community's tickets and 议题 (a street key: all). The secret signs every delivery
(bot/delivery/webhooks.py) and is never shown again. Another key's subscription is 404.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Response, current_app, request
from pydantic import BaseModel, Field, JsonValue, field_validator
from sqlalchemy import select

from models.agenda import EVENTS as AGENDA_KINDS
from models.api.webhooks import EVENT_TYPES, WebhookSubscription, scope_for
from models.base import fits_id

from ..extension import yishiting
from . import texts
from .auth import ANY_KEY, caller, needs
from .blueprint import bp, spec
from .problems import not_json, problem
from .schemas import Problem, answers

# agenda.* is every event of a 议题; one kind of them may be asked for by name too.
KNOWN_EVENTS = frozenset(EVENT_TYPES) | {f"agenda.{kind}" for kind in AGENDA_KINDS}


# What a URL may be: http(s), a host name or IPv4 address, a port, then printable ASCII (no
# credentials, no spaces). The document says it (`pattern`) and the validator enforces it,
# so a request the document allows is never refused for its URL.
URL_PATTERN = r"^https?://[A-Za-z0-9][A-Za-z0-9.\-]*(:[0-9]{1,5})?([/?#][!-~]*)?$"
SECRET_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"  # no control characters (NUL, newline …)


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=500,
        description="接收推送的地址（http 或 https）",
        json_schema_extra={"pattern": URL_PATTERN},
    )
    events: list[str] = Field(
        min_length=1,
        max_length=20,
        description="事件类型：" + "、".join(EVENT_TYPES) + "（agenda.* 为议题的全部事件）",
        json_schema_extra={
            "items": {"type": "string", "enum": list[JsonValue](sorted(KNOWN_EVENTS))}
        },
    )
    secret: str = Field(
        min_length=16,
        max_length=200,
        description="签名密钥（16–200 个字符），只在此时提交一次",
        json_schema_extra={"pattern": SECRET_PATTERN},
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(URL_PATTERN, value):
            raise ValueError(texts.BAD_WEBHOOK_URL)
        return value

    @field_validator("secret")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not re.fullmatch(SECRET_PATTERN, value):  # a NUL cannot be stored, a newline typed back
            raise ValueError(texts.BAD_SECRET)
        return value

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in KNOWN_EVENTS]
        if unknown:
            raise ValueError(texts.UNKNOWN_EVENT.format(event=unknown[0]))
        return list(dict.fromkeys(value))  # each once, in the order given


class SubscriptionOut(BaseModel):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]


def _shown(sub: WebhookSubscription) -> SubscriptionOut:
    events = [e for e in sub.events.split(",") if e]
    return SubscriptionOut(id=sub.id, url=sub.url, events=events, created_at=sub.created_at)


@bp.post("/subscriptions")
@spec.validate(json=SubscriptionIn, resp=answers(HTTP_201=SubscriptionOut), tags=["webhooks"])
@needs(ANY_KEY)
def subscribe() -> tuple[SubscriptionOut, int] | Response:
    """订阅推送：把所列事件签名推送到 url（只推送本密钥有权读取、属于本社区的事件）。"""
    wanted: SubscriptionIn | None = request.context.json  # type: ignore[attr-defined]
    if wanted is None:  # a form body: spectree validates JSON bodies only
        return not_json()
    key = caller()
    for event in wanted.events:
        scope = scope_for(event)
        if not key.may(scope):
            return problem(403, texts.EVENT_SCOPE.format(event=event, scope=scope))
    ys = yishiting(current_app)
    with ys.db.session() as db:
        sub = WebhookSubscription(
            key_id=key.key_id,
            url=wanted.url,
            events=",".join(wanted.events),
            secret=wanted.secret,
            created_at=ys.conversation.clock(),
        )
        db.add(sub)
        db.flush()
        shown = _shown(sub)
    return shown, 201


@bp.get("/subscriptions")
@spec.validate(resp=answers(HTTP_200=SubscriptionList), tags=["webhooks"])
@needs(ANY_KEY)
def list_subscriptions() -> SubscriptionList:
    """本密钥的推送订阅（不含已删除的）。"""
    ys = yishiting(current_app)
    with ys.db.session(read_only=True) as db:
        subs = db.scalars(
            select(WebhookSubscription)
            .where(
                WebhookSubscription.key_id == caller().key_id,
                WebhookSubscription.deleted_at.is_(None),
            )
            .order_by(WebhookSubscription.id)
        )
        return SubscriptionList(items=[_shown(s) for s in subs])


@bp.delete("/subscriptions/<int:subscription_id>")
@spec.validate(resp=answers(HTTP_204=None, HTTP_404=Problem), tags=["webhooks"])
@needs(ANY_KEY)
def delete_subscription(subscription_id: int) -> Response:
    """删除推送订阅：此后不再推送；尚未送达的推送也不再发送。"""
    ys = yishiting(current_app)
    with ys.db.session() as db:
        sub = db.get(WebhookSubscription, subscription_id) if fits_id(subscription_id) else None
        if sub is None or sub.key_id != caller().key_id or sub.deleted_at is not None:
            return problem(404, texts.NO_SUBSCRIPTION.format(id=subscription_id))
        sub.deleted_at = ys.conversation.clock()
    return Response(status=204)

"""The ways a push reaches a person, and the order they are tried in.

For one person (see `Channels.route`):
Pushes go out through the account the person writes to (`person.account`), with its own
AppID, access token and templates.
1. no app secret configured for that account (development): the console channel;
2. staff with a WeCom user id, when WeCom is configured: WeCom app messages (no window);
3. inside WeChat's customer-service window (the person wrote within `cs_window_hours`) and
   under its budget (`cs_budget` messages since they wrote): a customer-service message;
4. a subscription notice (订阅通知), where `[subscriptions."KIND"]` maps one and the person
   accepted it (a one-time subscription is used up by one notice);
5. a typed template message, where `[templates."KIND"]` maps one (bot/delivery/typed.py),
   else a legacy keyword template named in `[wechat] templates`;
6. none of these: the push is held and shown at the top of the next reply the person gets.
A channel that refuses a push (a value its template does not take, a refused subscription)
passes it to the next one.
A broadcast (群发) goes through WeChat's mass send by openid list, one chunk per account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from models import Role

from ..config import Account, Settings
from ..db import Database
from ..wechat.api import Api, HttpJson, fetch_wechat_token, fetch_wecom_token
from ..wechat.tokens import SharedToken
from .templates import Rendered
from .typed import SubscriptionChannel, TypedTemplateChannel

log = logging.getLogger(__name__)
console_log = logging.getLogger("yishiting.console")

CONSOLE = "console"
CUSTOMER_SERVICE = "cs"
TEMPLATE = "template"
WECOM = "wecom"
MASS = "mass"


@dataclass
class Recipient:
    """What channel choice needs to know about a person (read once per batch)."""

    id: int
    openid: str
    role: Role
    following: bool
    last_message_at: datetime | None
    cs_sent: int
    wecom_user_id: str | None
    # The [[accounts]] name the person writes to; None = the first (or legacy) account.
    account: str | None = None
    # Notice templates the person accepted -> one-time notices left (models/subscriptions.py).
    subscribed: dict[str, int] = field(default_factory=dict)


class Channel(Protocol):
    name: str

    def send(self, person: Recipient, kind: str, rendered: Rendered) -> None: ...


class ConsoleChannel:
    """Development and tests: the push is logged (and the simulator shows it)."""

    name = CONSOLE

    # The text goes to DEBUG only: a push quotes what residents wrote (and masked phones),
    # which logs at INFO must never hold. The simulator and the outbox show it in full.
    def send(self, person: Recipient, kind: str, rendered: Rendered) -> None:
        console_log.info(
            "push %s to person %d (%d characters)", kind, person.id, len(rendered.text)
        )
        console_log.debug("push %s to %s: %s", kind, person.openid, rendered.text)

    def broadcast(self, openids: list[str], rendered: Rendered) -> None:
        console_log.info("broadcast to %d people (%d characters)", len(openids), len(rendered.text))
        console_log.debug("broadcast to %d people: %s", len(openids), rendered.text)


class CustomServiceChannel:
    name = CUSTOMER_SERVICE

    def __init__(self, api: Api) -> None:
        self.api = api

    def send(self, person: Recipient, kind: str, rendered: Rendered) -> None:
        self.api.post(
            "cgi-bin/message/custom/send",
            {"touser": person.openid, "msgtype": "text", "text": {"content": rendered.text}},
        )


class TemplateChannel:
    name = TEMPLATE

    def __init__(self, api: Api, template_id: str) -> None:
        self.api = api
        self.template_id = template_id

    def send(self, person: Recipient, kind: str, rendered: Rendered) -> None:
        data: dict[str, Any] = {"first": {"value": rendered.title}}
        for number, value in enumerate(rendered.fields, start=1):
            data[f"keyword{number}"] = {"value": value}
        data["remark"] = {"value": rendered.remark or rendered.text}
        self.api.post(
            "cgi-bin/message/template/send",
            {"touser": person.openid, "template_id": self.template_id, "data": data},
        )


class WecomChannel:
    name = WECOM

    def __init__(self, api: Api, agent_id: str) -> None:
        self.api = api
        self.agent_id = agent_id

    def send(self, person: Recipient, kind: str, rendered: Rendered) -> None:
        assert person.wecom_user_id
        self.api.post(
            "cgi-bin/message/send",
            {
                "touser": person.wecom_user_id,
                "msgtype": "text",
                "agentid": int(self.agent_id) if self.agent_id.isdigit() else self.agent_id,
                "text": {"content": rendered.text},
            },
        )


class MassChannel:
    name = MASS

    def __init__(self, api: Api) -> None:
        self.api = api

    def broadcast(self, openids: list[str], rendered: Rendered) -> None:
        self.api.post(
            "cgi-bin/message/mass/send",
            {"touser": openids, "msgtype": "text", "text": {"content": rendered.text}},
        )


class AccountApi:
    """One account's WeChat API (its host, AppID, secret and shared access token) and the
    channels that go through it."""

    def __init__(
        self,
        account: Account,
        db: Database,
        clock: Callable[[], datetime],
        timeout: float,
    ) -> None:
        self.account = account
        self.http = HttpJson(account.api_base_url, timeout)
        http, app_id, secret = self.http, account.app_id, account.app_secret
        token = SharedToken(
            db,
            account.token_key,
            lambda force: fetch_wechat_token(http, app_id, secret, force),
            clock,
        )
        self.api = Api(http, token)
        self.cs = CustomServiceChannel(self.api)
        self.mass = MassChannel(self.api)
        self.templates = account.keyword_templates()
        if self.templates:
            log.warning(
                "%s templates sends keyword templates (first, keyword1…, remark): WeChat "
                'no longer shows first and remark; map typed fields in [templates."KIND"] '
                "(see config.example.toml)",
                account.label,
            )


class Channels:
    """The channels of one worker (each worker has its own HTTP sessions).

    Pushes to a person go out through the account they write to (`person.account`, NULL =
    the first account), with that account's AppID, token and templates; an account without an
    app secret pushes to the console. WeCom is deployment-wide."""

    def __init__(self, settings: Settings, db: Database, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.tz = settings.tz
        self.console = ConsoleChannel()
        self.window = timedelta(hours=settings.delivery.cs_window_hours)
        self.budget = settings.delivery.cs_budget
        timeout = settings.delivery.timeout_seconds
        self.apis = {
            a.name: AccountApi(a, db, clock, timeout)
            for a in settings.accounts
            if not a.console_pushes
        }
        self._closers: list[HttpJson] = [a.http for a in self.apis.values()]
        self.wecom: Api | None = None
        if settings.wecom_enabled and not settings.console_pushes:
            wecom = settings.wecom
            http_wecom = HttpJson(wecom.api_base_url, timeout)
            self._closers.append(http_wecom)
            wecom_token = SharedToken(
                db,
                "wecom",
                lambda _force: fetch_wecom_token(http_wecom, wecom.corp_id, wecom.secret),
                clock,
            )
            self.wecom = Api(http_wecom, wecom_token)
        self.wecom_channel = (
            WecomChannel(self.wecom, settings.wecom.agent_id) if self.wecom else None
        )

    def account_problem(self, stored: str | None) -> str | None:
        """Why pushes to a person on this account cannot go out (None when they can)."""
        if self.settings.account_of(stored) is None:
            return f"the account {stored!r} is not configured ([[accounts]]): not sent"
        return None

    def mass_for(self, stored: str | None) -> MassChannel | ConsoleChannel:
        """The mass send (群发) of the account a broadcast's chunk belongs to."""
        account = self.settings.account_of(stored)
        found = self.apis.get(account.name) if account else None
        return found.mass if found else self.console

    def route(self, person: Recipient, kind: str, now: datetime) -> Iterator[Channel]:
        """The channels to try for this push, best first (see the module docstring)."""
        account = self.settings.account_of(person.account)
        found = self.apis.get(account.name) if account else None
        if found is None:
            yield self.console
            return
        if self.wecom_channel is not None and person.wecom_user_id and person.role >= Role.STAFF:
            yield self.wecom_channel
            return
        api, account = found.api, found.account
        if self.in_window(person, now):
            yield found.cs
        notice = account.subscription(kind)
        if notice is not None and notice.template_id in person.subscribed:
            if notice.long_term or person.subscribed[notice.template_id] > 0:
                yield SubscriptionChannel(api, notice, self.db, self.tz, self.clock)
        typed = account.typed_template(kind)
        if typed is not None:
            yield TypedTemplateChannel(api, typed, self.tz, self.clock)
            return
        template_id = found.templates.get(kind)
        if template_id:
            yield TemplateChannel(api, template_id)

    def in_window(self, person: Recipient, now: datetime) -> bool:
        return (
            person.last_message_at is not None
            and now - person.last_message_at < self.window
            and person.cs_sent < self.budget
        )

    def close(self) -> None:
        for http in self._closers:
            http.close()

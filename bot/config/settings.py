"""`Settings`: every section, the custom menu and the typed template maps, as one value."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from .accounts import HOME, LEGACY_NAME, Account
from .checks import validate
from .menu import Button
from .sections import (
    AbuseSettings,
    ApiSettings,
    AppSettings,
    ClassifierSettings,
    DeliberationSettings,
    DeliverySettings,
    HealthSettings,
    MediaSettings,
    MetricsSettings,
    PollSettings,
    PrivacySettings,
    SchedulerSettings,
    TicketSettings,
    WebhookSettings,
    WebSettings,
    WechatSettings,
    WecomSettings,
)
from .templates import TemplateMap, parse_templates


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    wechat: WechatSettings = field(default_factory=WechatSettings)
    wecom: WecomSettings = field(default_factory=WecomSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    web: WebSettings = field(default_factory=WebSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    tickets: TicketSettings = field(default_factory=TicketSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    polls: PollSettings = field(default_factory=PollSettings)
    deliberation: DeliberationSettings = field(default_factory=DeliberationSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    abuse: AbuseSettings = field(default_factory=AbuseSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    # `[[menu]]`: the custom menu (bot/config/menu.py); empty = the default (bot/menu.py).
    menu: tuple[Button, ...] = ()
    # `[templates."KIND"]` and `[subscriptions."KIND"]`: typed template messages and
    # subscription notices per push kind (bot/config/templates.py).
    template_maps: tuple[TemplateMap, ...] = ()
    subscription_maps: tuple[TemplateMap, ...] = ()
    # `[[accounts]]` (bot/config/accounts.py); empty = one account read from [wechat].
    configured_accounts: tuple[Account, ...] = ()
    source: str = ""  # the file the settings came from ("" = defaults only)

    @cached_property
    def accounts(self) -> tuple[Account, ...]:
        """The Official Accounts served, never empty: `[[accounts]]`, else the one account
        of `[wechat]` and the top-level templates and menu (named "default")."""
        if self.configured_accounts:
            return self.configured_accounts
        wechat = self.wechat
        return (
            Account(
                name=LEGACY_NAME,
                community=HOME,
                token=wechat.token,
                app_id=wechat.app_id,
                app_secret=wechat.app_secret,
                encoding_aes_key=wechat.encoding_aes_key,
                api_base_url=wechat.api_base_url,
                templates=wechat.templates,
                template_maps=self.template_maps,
                subscription_maps=self.subscription_maps,
                menu=self.menu,
                legacy=True,
            ),
        )

    def account(self, name: str) -> Account | None:
        """The account served at /wechat/NAME, None when there is none."""
        return next((a for a in self.accounts if a.name == name), None)

    def account_of(self, stored: str | None) -> Account | None:
        """The account a person follows, from `person.account`: NULL is the first account
        (the legacy one, or the first [[accounts]] entry); None when the stored name is no
        longer configured (its pushes cannot go out: an admin removed the account)."""
        if stored is None:
            return self.accounts[0]
        return self.account(stored)

    @property
    def development(self) -> bool:
        return self.app.mode == "development"

    @property
    def safe_mode(self) -> bool:
        """True when an EncodingAESKey is set: encrypted messages can be decrypted."""
        return bool(self.wechat.encoding_aes_key)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)

    @property
    def ladder(self) -> tuple[str, ...]:
        """The escalation levels' names, level 1 first (`[tickets] ladder`)."""
        return tuple(n.strip() for n in self.tickets.ladder.split(",") if n.strip())

    @property
    def templates(self) -> dict[str, str]:
        """Push kind -> WeChat template id, from `[wechat] templates`."""
        return parse_templates(self.wechat.templates)

    def typed_template(self, kind: str) -> TemplateMap | None:
        """The typed template message for a push kind, if `[templates."KIND"]` maps one."""
        return next((m for m in self.template_maps if m.kind == kind), None)

    def subscription(self, kind: str) -> TemplateMap | None:
        """The subscription notice for a push kind, if `[subscriptions."KIND"]` maps one."""
        return next((m for m in self.subscription_maps if m.kind == kind), None)

    @property
    def console_pushes(self) -> bool:
        """No account has an app secret: pushes go to the console channel (log + simulator)."""
        return all(a.console_pushes for a in self.accounts)

    @property
    def wecom_enabled(self) -> bool:
        return bool(self.wecom.corp_id and self.wecom.agent_id and self.wecom.secret)

    def replace(self, **sections: Mapping[str, Any]) -> Settings:
        """A copy with some keys changed, e.g. `replace(app={"mode": "development"})`."""
        changed = {
            name: dataclasses.replace(getattr(self, name), **values)
            for name, values in sections.items()
        }
        return validate(dataclasses.replace(self, **changed))

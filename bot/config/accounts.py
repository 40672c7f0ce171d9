"""The WeChat Official Accounts one deployment serves: `[[accounts]]`, or the legacy `[wechat]`.

A street office may run one account for the whole street, one per community, or both. Each
`[[accounts]]` entry is one account with its own server token, AppID, secret, AES key, API
host, typed templates and menu, served at `/wechat/<name>`:

    [[accounts]]
    name = "east"                 # [a-z0-9_-], at most 32: the webhook path /wechat/east
    community = "东社区"           # a community's name, or "street" for a street-wide account
    token = "..."
    app_id = "wx..."
    app_secret = "..."
    encoding_aes_key = ""         # empty = plain mode
    api_base_url = "https://api.weixin.qq.com/"   # default: [wechat] api_base_url
    templates = ""                # legacy keyword templates, as [wechat] templates
    [accounts.typed_templates."ticket.resolved"]  # its own typed templates (below)
    ...

An account's own `[accounts.typed_templates."KIND"]`, `[accounts.subscriptions."KIND"]` and
`[[accounts.menu]]` replace the top-level `[templates."KIND"]`, `[subscriptions."KIND"]` and
`[[menu]]` for it; without them it uses the top-level ones (template ids belong to one account:
check-config warns when several accounts share the top-level ones).

A config without `[[accounts]]` has one account, read from `[wechat]` and the top-level tables
exactly as before: named `default` (LEGACY_NAME), served at `/wechat` (and `/wechat/default`),
its community "" = the deployment's first community (id 1): a config of that shape was
written for one residents' committee, and everything it ever stored belongs to that community
(migration 0017), so its residents are never asked which community they live in.
`[wechat] max_clock_skew_seconds` and `accept_plaintext` stay deployment-wide either way.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError, ConfigProblems
from .menu import Button, parse_menu
from .templates import SUBSCRIPTIONS, TEMPLATES, TemplateMap, parse_maps, parse_templates

log = logging.getLogger(__name__)

LEGACY_NAME = "default"
STREET = "street"  # an account's community: the whole street
HOME = ""  # the legacy account's community: the first community (id 1)
NAME = re.compile(r"[a-z0-9_-]{1,32}")
NAME_RULE = "1-32 lower-case letters, digits, - or _ (it is the webhook's path /wechat/NAME)"
COMMUNITY_MAX = 32
APP_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # WeChat's are "wx" and 16 hex digits
# The keys of an [[accounts]] entry; the nested tables are read apart.
_STRINGS = ("name", "community", "token", "app_id", "app_secret", "encoding_aes_key")
_OPTIONAL = ("api_base_url", "templates")
TYPED = "typed_templates"  # [accounts.typed_templates."KIND"]: TEMPLATES of that account
_NESTED = (TYPED, SUBSCRIPTIONS, "menu")
REQUIRED = ("name", "community", "token", "app_id")
# [wechat] keys that are one account's: with [[accounts]] each entry has its own.
ACCOUNT_KEYS = ("token", "app_id", "app_secret", "encoding_aes_key", "templates")


@dataclass(frozen=True)
class Account:
    """One Official Account: where it is served, what it signs with, how it pushes."""

    name: str
    community: str  # a community's name, STREET, or HOME (the legacy account)
    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str
    api_base_url: str
    templates: str = ""  # legacy keyword templates: "kind=ID" pairs
    template_maps: tuple[TemplateMap, ...] = ()
    subscription_maps: tuple[TemplateMap, ...] = ()
    menu: tuple[Button, ...] = ()  # empty = the default menu (bot/menu.py)
    legacy: bool = False  # read from [wechat]: people on it are stored with account NULL

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)

    @property
    def console_pushes(self) -> bool:
        """No app secret: this account's pushes go to the console channel."""
        return not self.app_secret

    @property
    def street_wide(self) -> bool:
        return self.community == STREET

    @property
    def stored_name(self) -> str | None:
        """What `person.account` holds for its followers: None for the legacy account."""
        return None if self.legacy else self.name

    @property
    def token_key(self) -> str:
        """Its row in the shared access-token table: the legacy account keeps "wechat" (the
        row a database made before [[accounts]] holds); the others go by AppID, so renaming
        an account keeps its token and two accounts never share one."""
        return "wechat" if self.legacy else f"wechat:{self.app_id}"

    @property
    def label(self) -> str:
        """How findings and errors name it: `[wechat]` or `[[accounts]] east`."""
        return "[wechat]" if self.legacy else f"[[accounts]] {self.name}"

    def keyword_templates(self) -> dict[str, str]:
        return parse_templates(self.templates)

    def typed_template(self, kind: str) -> TemplateMap | None:
        return next((m for m in self.template_maps if m.kind == kind), None)

    def subscription(self, kind: str) -> TemplateMap | None:
        return next((m for m in self.subscription_maps if m.kind == kind), None)


def parse_accounts(
    raw: Any,
    *,
    api_base_url: str,
    shared: tuple[tuple[TemplateMap, ...], tuple[TemplateMap, ...], tuple[Button, ...]],
    menu: bool = True,
) -> tuple[Account, ...]:
    """The `[[accounts]]` array. ConfigProblems lists every problem, each naming its entry
    and key. `shared`: the top-level typed templates, subscriptions and menu an entry without
    its own uses."""
    if not isinstance(raw, list) or not raw or not all(isinstance(t, dict) for t in raw):
        raise ConfigError("[[accounts]]: each account is an [[accounts]] table")
    accounts, problems = [], []
    for number, table in enumerate(raw, start=1):
        try:
            accounts.append(_one(number, table, api_base_url, shared, menu))
        except ConfigError as exc:
            problems.append(str(exc))
    problems += _duplicates(accounts)
    if problems:
        raise ConfigProblems(problems)
    return tuple(accounts)


def _one(
    number: int,
    table: dict[str, Any],
    api_base_url: str,
    shared: tuple[tuple[TemplateMap, ...], tuple[TemplateMap, ...], tuple[Button, ...]],
    menu: bool,
) -> Account:
    name = table.get("name")
    where = f"[[accounts]] {name}" if isinstance(name, str) and name else f"[[accounts]] #{number}"
    for key, value in table.items():
        if key not in (*_STRINGS, *_OPTIONAL, *_NESTED):
            # As everywhere in the config: a warning naming the key (a typo shows at start).
            log.warning("config: unknown key %s %s ignored", where, key)
        elif key in (*_STRINGS, *_OPTIONAL) and not isinstance(value, str):
            raise ConfigError(f"{where} {key}: expected a string, got {value!r}")
    for key in REQUIRED:
        if not table.get(key, "").strip():
            raise ConfigError(f"{where} {key}: required (every account has its own)")
    if not NAME.fullmatch(table["name"]):
        raise ConfigError(f"{where} name: {NAME_RULE}")
    if not APP_ID.fullmatch(table["app_id"].strip()):
        raise ConfigError(f"{where} app_id: its AppID (开发者ID), like wx0123456789abcdef")
    community = table["community"].strip()
    if len(community) > COMMUNITY_MAX:
        raise ConfigError(f'{where} community: a community\'s name (at most 32) or "street"')
    typed, notices, buttons = _tables(where, table, shared, menu)
    account = Account(
        name=table["name"],
        community=community,
        token=table["token"],
        app_id=table["app_id"].strip(),
        app_secret=table.get("app_secret", ""),
        encoding_aes_key=table.get("encoding_aes_key", ""),
        api_base_url=table.get("api_base_url", api_base_url),
        templates=table.get("templates", ""),
        template_maps=typed,
        subscription_maps=notices,
        menu=buttons,
    )
    check_account(account)
    return account


def _tables(
    where: str,
    table: dict[str, Any],
    shared: tuple[tuple[TemplateMap, ...], tuple[TemplateMap, ...], tuple[Button, ...]],
    menu: bool,
) -> tuple[tuple[TemplateMap, ...], tuple[TemplateMap, ...], tuple[Button, ...]]:
    """The entry's own typed templates, subscriptions and menu, else the shared ones."""
    typed, notices, buttons = shared
    try:
        if TYPED in table:
            typed = parse_maps(TEMPLATES, table[TYPED])
        if SUBSCRIPTIONS in table:
            notices = parse_maps(SUBSCRIPTIONS, table[SUBSCRIPTIONS])
        if menu and "menu" in table:
            buttons = parse_menu(table["menu"])
        parse_templates(table.get("templates", ""))
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return typed, notices, buttons


def _duplicates(accounts: list[Account]) -> list[str]:
    """Two entries with one name or one AppID: each account has its own."""
    problems = []
    names: set[str] = set()
    app_ids: dict[str, str] = {}
    for account in accounts:
        if account.name in names:
            problems.append(
                f"[[accounts]] {account.name} name: two entries are named {account.name!r}; "
                "each account needs its own name (its webhook path)"
            )
        names.add(account.name)
        if account.app_id in app_ids:
            problems.append(
                f"[[accounts]] {account.name} app_id: {account.app_id!r} is also account "
                f"{app_ids[account.app_id]}'s; each account has its own AppID"
            )
        app_ids.setdefault(account.app_id, account.name)
    return problems


def check_account(account: Account) -> None:
    """The rules one account's values keep (its AES key, its API host, its templates)."""
    if account.encoding_aes_key:
        check_aes_key(account.encoding_aes_key, f"{account.label} encoding_aes_key")
    if not account.api_base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{account.label} api_base_url: not an http(s) URL: {account.api_base_url!r}"
        )
    both = set(account.keyword_templates()) & {m.kind for m in account.template_maps}
    if both:
        where = "[wechat] templates" if account.legacy else f"{account.label} templates"
        raise ConfigError(
            f"{where}: {', '.join(sorted(both))} also has a typed template table: keep the "
            "typed one and drop it from the keyword templates"
        )


def check_aes_key(key: str, where: str = "[wechat] encoding_aes_key") -> None:
    if len(key) != 43:
        raise ConfigError(f"{where}: must be 43 characters (got {len(key)}); empty = plain mode")
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except binascii.Error:
        raise ConfigError(f"{where}: not base64 (letters, digits, + and / only)") from None
    if len(decoded) != 32:
        raise ConfigError(f"{where}: does not decode to a 32-byte AES key")

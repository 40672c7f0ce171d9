"""`check-config`: each Official Account's own lines (token, safe mode, AppID and secret,
where it is served, its template mappings), and accounts that share template ids."""

from __future__ import annotations

import re

from ..config import Account, Settings
from .check_templates import local_template_findings
from .findings import Finding

FIXES_APPID = "copy 开发者ID(AppID) from 公众号后台 → 设置与开发 → 基本配置 into [wechat] app_id"
APPSEC = (
    "copy 开发者密码(AppSecret) from 公众号后台 → 设置与开发 → 基本配置 into [wechat] app_secret"
)


def account_findings(settings: Settings, account: Account) -> list[Finding]:
    """One account's token, safe mode, AppID and secret, and template mappings."""
    label = account.label
    found = [_token(account.token, label)]
    if account.encoding_aes_key:
        found.append(Finding(True, f"{label} encoding_aes_key: 43 characters (safe mode)"))
    if account.app_secret and not account.app_id:
        found.append(Finding(False, f"{label} app_secret without app_id", FIXES_APPID))
    elif account.app_id and not account.app_secret and not settings.development:
        fix = APPSEC.replace("[wechat]", label)
        found.append(Finding(False, f"{label} app_secret is empty: pushes are only logged", fix))
    if not account.legacy:
        where = "/wechat/" + account.name
        community = "the whole street" if account.street_wide else account.community
        found.append(Finding(True, f"{label}: served at {where}, for {community}"))
    return found + local_template_findings(account)


def shared_template_findings(settings: Settings) -> list[Finding]:
    """Template ids belong to one account: several accounts using the top-level tables."""
    sharing = [
        a.name
        for a in settings.configured_accounts
        if (a.template_maps and a.template_maps is settings.template_maps)
        or (a.subscription_maps and a.subscription_maps is settings.subscription_maps)
    ]
    if len(sharing) < 2:
        return []
    return [
        Finding(
            False,
            f"[[accounts]] {', '.join(sharing)}: share the top-level [templates.*] / "
            "[subscriptions.*] tables, but a template's id belongs to one account",
            'give each account its own [accounts.typed_templates."KIND"] and '
            '[accounts.subscriptions."KIND"] tables with that account\'s template ids',
        )
    ]


def _token(token: str, label: str) -> Finding:
    where = "公众号后台 → 设置与开发 → 基本配置 → 服务器配置 → 令牌(Token)"
    if not token:
        return Finding(False, f"{label} token is empty", f"choose one and enter it in {where}")
    if not re.fullmatch(r"[A-Za-z0-9]{3,32}", token):
        return Finding(False, f"{label} token: WeChat takes 3-32 letters and digits", where)
    return Finding(True, f"{label} token is set")

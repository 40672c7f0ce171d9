"""WeChat's error codes as an administrator needs them: what went wrong and the fix, one line.

Used by `menu push`, `menu show` and `check-config --online`. Paths such as 设置与开发 → 基本配置
are the Official Account admin site's (mp.weixin.qq.com) menus, as the administrator sees them.
"""

from __future__ import annotations

import re

from .api import ApiFailure

BASIC = "公众号后台 (mp.weixin.qq.com) → 设置与开发 → 基本配置"

FIXES: dict[int, str] = {
    40164: (
        "this server's IP address is not on the account's IP whitelist — add it in "
        f"{BASIC} → IP白名单, then try again (it takes effect within minutes)"
    ),
    48001: (
        "the account is not authorised for this API — customer-service, template and mass "
        "messages and the menu API need a verified (微信认证) account; verify it in 公众号后台 "
        "→ 设置与开发 → 接口权限, or leave that channel unconfigured"
    ),
    40013: f"the AppID is wrong — copy 开发者ID(AppID) from {BASIC} into [wechat] app_id",
    40125: (
        f"the AppSecret is wrong — reset it in {BASIC} → 开发者密码(AppSecret) and put the "
        "new one in [wechat] app_secret"
    ),
    40001: (
        f"WeChat refused the credentials — check [wechat] app_secret against {BASIC} "
        "(a reset AppSecret invalidates the old one)"
    ),
    45009: "the daily API quota is used up — wait until tomorrow, or clear it in 接口权限",
    -1: "WeChat is busy — try again in a minute",
    46003: "the account has no custom menu yet — publish one with `yishiting menu push`",
    40037: (
        "a template id is unknown — copy it from 公众号后台 → 广告与服务 → 模板消息 → 我的模板 "
        "into [wechat] templates"
    ),
    65301: "the menu is refused — run `yishiting check-config` and fix what it names",
}
MENU_REFUSED = (40016, 40017, 40018, 40019, 40020, 40022, 40023, 40024, 40025, 40026, 40027)
for _code in MENU_REFUSED:
    FIXES[_code] = "WeChat refused a menu button — run `yishiting check-config` for the limits"

NETWORK = (
    "WeChat's API could not be reached — check this server's network, DNS and firewall "
    "towards [wechat] api_base_url (outbound HTTPS to api.weixin.qq.com)"
)


def explain(failure: ApiFailure) -> str:
    """One line: what WeChat said, and what to do about it."""
    code = failure.errcode
    if code is None:
        return f"{failure.reason} — {NETWORK}"
    fix = FIXES.get(code, "see WeChat's global error codes (全局返回码) for this errcode")
    ip = ip_in(failure.reason) if code == 40164 else None
    said = f"errcode {code}" + (f" (this server's IP: {ip})" if ip else "")
    return f"{said}: {fix}"


def ip_in(errmsg: str) -> str | None:
    """The caller's IP in a 40164 message ("invalid ip 1.2.3.4 ipv6 ..., not in whitelist")."""
    found = re.search(r"invalid ip (\S+)", errmsg)
    return found.group(1).rstrip(",") if found else None

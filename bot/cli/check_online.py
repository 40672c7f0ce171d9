"""`check-config --online`: what WeChat says about this server and account.

The token is fetched with `stable_token` without force_refresh, so a running server's token
is not rotated. The permission probes only read (the customer-service account list, the mass
send speed, the template list): nothing reaches a resident.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..config import Account, Settings
from ..wechat.api import Api, ApiFailure, HttpJson, fetch_wechat_token, fetch_wecom_token
from ..wechat.errors import FIXES, explain, ip_in
from .check_templates import compare, compare_notices
from .findings import Finding

IP_WHITELIST = 40164
UNAUTHORIZED = 48001
TEMPLATES = "cgi-bin/template/get_all_private_template"
NOTICES = "wxaapi/newtmpl/gettemplate"
MY_TEMPLATES = "公众号后台 → 广告与服务 → 模板消息 → 我的模板"
# (method, path, what a person calls the channel)
PROBES = (
    ("GET", "cgi-bin/customservice/getkflist", "customer-service messages (客服消息)"),
    ("POST", "cgi-bin/message/mass/speed/get", "mass sends (群发, `yishiting notify`)"),
)


def online_findings(settings: Settings) -> list[Finding]:
    """What WeChat says, account by account (an [[accounts]] entry's lines name it)."""
    usable = [a for a in settings.accounts if a.app_id and a.app_secret]
    if not usable:
        fix = "set [wechat] app_id and app_secret, or run without --online"
        return [Finding(False, "--online: no app_id and app_secret to ask WeChat with", fix)]
    found = []
    for account in usable:
        about = "" if account.legacy else f"{account.label}: "
        for finding in _online_account(settings, account):
            found.append(replace(finding, what=about + finding.what))
    if settings.wecom_enabled:
        found.append(_wecom(settings))
    return found


def _online_account(settings: Settings, account: Account) -> list[Finding]:
    http = HttpJson(account.api_base_url, settings.delivery.timeout_seconds)
    try:
        try:
            token, _ = fetch_wechat_token(http, account.app_id, account.app_secret, False)
        except ApiFailure as exc:
            return _token_refused(exc)
        found = [
            Finding(True, "access token: fetched (stable_token)"),
            Finding(True, "this server's IP is on the account's IP whitelist"),
        ]
        api = Api(http, lambda _stale: token)
        found += [_probe(api, method, path, what) for method, path, what in PROBES]
        if account.templates or account.template_maps:
            found += _templates(api, account)
        if account.subscription_maps:
            found += _notices(api, account)
    finally:
        http.close()
    return found


def _token_refused(exc: ApiFailure) -> list[Finding]:
    if exc.errcode == IP_WHITELIST:
        ip = ip_in(exc.reason)
        what = "this server's IP" + (f" ({ip})" if ip else "") + " is not on the IP whitelist"
        fix = FIXES[IP_WHITELIST].split(" — ", 1)[1]
        return [
            Finding(False, "access token: refused (errcode 40164)", "see the next line"),
            Finding(False, what, fix),
        ]
    return [Finding(False, "access token: could not be fetched", explain(exc))]


def _probe(api: Api, method: str, path: str, what: str) -> Finding:
    try:
        api.call(method, path, {} if method == "POST" else None)
    except ApiFailure as exc:
        if exc.errcode == UNAUTHORIZED:
            return Finding(False, f"{what}: the account may not use them (48001)", _unauthorized())
        return Finding(False, f"{what}: could not be checked", explain(exc))
    return Finding(True, f"{what}: allowed")


def _unauthorized() -> str:
    return FIXES[UNAUTHORIZED].split(" — ", 1)[1]


def _listing(api: Api, path: str, name: str, chinese: str) -> dict[str, Any] | Finding:
    """The account's list at `path`, or the finding that says why it could not be read."""
    try:
        return api.get(path)
    except ApiFailure as exc:
        if exc.errcode == UNAUTHORIZED:
            what = f"{name} ({chinese}): the account may not use them (48001)"
            return Finding(False, what, _unauthorized())
        return Finding(False, f"{name}: could not list them", explain(exc))


def _templates(api: Api, account: Account) -> list[Finding]:
    answer = _listing(api, TEMPLATES, "template messages", "模板消息")
    if isinstance(answer, Finding):
        return [answer]
    listed: dict[str, tuple[str, str]] = {}
    for item in answer.get("template_list") or []:
        if isinstance(item, dict) and isinstance(item.get("template_id"), str):
            title, content = str(item.get("title") or ""), str(item.get("content") or "")
            listed[item["template_id"]] = (title, content)
    titles = {template_id: title for template_id, (title, _) in listed.items()}
    found = [_template(kind, tid, titles) for kind, tid in account.keyword_templates().items()]
    for mapping in account.template_maps:
        found += compare(mapping, listed)
    return found


def _notices(api: Api, account: Account) -> list[Finding]:
    answer = _listing(api, NOTICES, "subscription notices", "订阅通知")
    if isinstance(answer, Finding):
        return [answer]
    return compare_notices(account.subscription_maps, answer.get("data") or [])


def _template(kind: str, template_id: str, listed: dict[str, Any]) -> Finding:
    if template_id in listed:
        return Finding(True, f"template for {kind}: {template_id} ({listed[template_id]})")
    return Finding(
        False,
        f"template {template_id} (for {kind}) is not among the account's templates",
        f"add it in {MY_TEMPLATES} and copy its 模板ID into [wechat] templates",
    )


def _wecom(settings: Settings) -> Finding:
    wecom = settings.wecom
    http = HttpJson(wecom.api_base_url, settings.delivery.timeout_seconds)
    try:
        fetch_wecom_token(http, wecom.corp_id, wecom.secret)
    except ApiFailure as exc:
        fix = (
            "check [wecom] corp_id and secret (企业微信管理后台 → 应用管理 → the app), and the "
            "app's 企业可信IP"
        )
        return Finding(False, f"WeCom token: refused ({exc.reason})", fix)
    finally:
        http.close()
    return Finding(True, "WeCom: token fetched")

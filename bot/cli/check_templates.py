"""`check-config`: the template mappings, locally and against the account's templates.

Locally: the kinds exist, and `[wechat] templates` (keyword templates whose `first` and
`remark` WeChat no longer shows) is named as a problem. Online: every `[templates."KIND"]`
is compared with the account's template (`get_all_private_template`, whose `content` lists
`{{thing1.DATA}}` placeholders): a template that is not there, a field it does not have, a
field of it left empty, and a field whose type the value cannot fit are each named.
"""

from __future__ import annotations

from models.pushes import KINDS, Audience, PushKind

from ..config import Account
from ..config.templates import TemplateMap, fill, names_in
from ..wechat.fields import Unfit, describe, fit, placeholders
from .findings import Finding

MY_TEMPLATES = "公众号后台 → 广告与服务 → 模板消息 → 我的模板"
MY_NOTICES = "公众号后台 → 广告与服务 → 订阅通知 → 我的模板"
ONE_TIME, LONG_TERM = 2, 3  # wxaapi/newtmpl/gettemplate's type
LEGACY = (
    "[wechat] templates: keyword templates (first, keyword1…, remark) — WeChat no longer "
    "shows first and remark, so residents miss the headline and the next step"
)
LEGACY_FIX = 'map each kind\'s typed fields in [templates."KIND"] (see config.example.toml)'
# What a part of a push looks like, for trying a value against its field's type offline.
SAMPLE_TIME = "2026年12月6日 14:30"
SAMPLE_NUMBER = "12"
SAMPLE_TEXT = "社区工作人员已上门处理完毕并回访居民确认"
NUMERIC = {"number", "ticket", "open", "overdue", "supporters", "announcement"}


def local_template_findings(account: Account) -> list[Finding]:
    """What can be said of an account's mappings without WeChat: each names a kind of
    models/pushes.py that goes to a person, and only the parts that kind's push has."""
    found = []
    known = ", ".join(sorted(KINDS))
    keyword = account.keyword_templates()
    # The legacy account's lines read as they always did; an [[accounts]] entry's name it.
    about = "" if account.legacy else f"{account.label}: "
    templates = "[wechat] templates" if account.legacy else f"{account.label} templates"
    if keyword:
        found.append(Finding(False, LEGACY.replace("[wechat] templates", templates), LEGACY_FIX))
    unknown = sorted(set(keyword) - set(KINDS))
    if unknown:
        found.append(
            Finding(
                False,
                f"{templates}: unknown kind(s) {', '.join(unknown)}",
                f"use push kinds: {known}",
            )
        )
    for section, maps in (
        ("templates", account.template_maps),
        ("subscriptions", account.subscription_maps),
    ):
        for mapping in maps:
            kind = KINDS.get(mapping.kind)
            where = f'{about}[{section}."{mapping.kind}"]'
            if kind is None:
                found.append(
                    Finding(False, f"{where}: unknown push kind", f"use push kinds: {known}")
                )
            else:
                found += _against_kind(where, mapping, kind)
    return found


def _against_kind(where: str, mapping: TemplateMap, kind: PushKind) -> list[Finding]:
    if kind.audience == Audience.BROADCAST:
        return [
            Finding(
                False,
                f"{where}: {kind.name} is a broadcast (群发), sent by WeChat's mass send",
                f"remove {where}; map the kind sent to each person instead",
            )
        ]
    from ..delivery.templates import render

    parts = {*render(kind, kind.sample()).parts, "sent_at"}
    found = []
    for field, value in mapping.fields:
        for name in names_in(value):
            if name not in parts:
                found.append(
                    Finding(
                        False,
                        f"{where} fields.{field}: a {kind.name} push has no {{{name}}}",
                        f"its parts are {', '.join(sorted(parts))}",
                    )
                )
    return found


def compare(
    mapping: TemplateMap, listed: dict[str, tuple[str, str]], section: str = "templates"
) -> list[Finding]:
    """One `[templates."KIND"]` (or `[subscriptions."KIND"]`) against the account's templates
    (id -> (title, content))."""
    where = f'[{section}."{mapping.kind}"]'
    if mapping.template_id not in listed:
        what = "templates" if section == "templates" else "subscription notice templates"
        mine = MY_TEMPLATES if section == "templates" else MY_NOTICES
        return [
            Finding(
                False,
                f"template {mapping.template_id} (for {mapping.kind}) is not among the "
                f"account's {what}",
                f"add it in {mine} and copy its 模板ID into {where} id",
            )
        ]
    title, content = listed[mapping.template_id]
    has = placeholders(content)
    mapped = [name for name, _ in mapping.fields]
    fields = ", ".join(has) or "none"
    found = []
    for name, value in mapping.fields:
        if name not in has:
            found.append(
                Finding(
                    False,
                    f"{where} fields: template {mapping.template_id} ({title}) has no field {name}",
                    f"its fields are {fields}: name those in {where} fields",
                )
            )
            continue
        problem = _unfit(name, value)
        if problem:
            found.append(Finding(False, f"{where} fields.{name}: {problem}", _type_fix(name)))
    for name in has:
        if name not in mapped:
            found.append(
                Finding(
                    False,
                    f"{where}: field {name} of template {mapping.template_id} is left empty",
                    f'give it a value in {where} fields ({describe(name)}), e.g. "{{headline}}"',
                )
            )
    if not found:
        what = "template" if section == "templates" else "subscription notice"
        found.append(Finding(True, f"{what} for {mapping.kind}: {mapping.template_id} ({title})"))
    return found


def compare_notices(mappings: tuple[TemplateMap, ...], data: list[object]) -> list[Finding]:
    """Every `[subscriptions."KIND"]` against wxaapi/newtmpl/gettemplate's `data`."""
    listed: dict[str, tuple[str, str]] = {}
    kinds: dict[str, object] = {}
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("priTmplId"), str):
            template_id = item["priTmplId"]
            listed[template_id] = (str(item.get("title") or ""), str(item.get("content") or ""))
            kinds[template_id] = item.get("type")
    found = []
    for mapping in mappings:
        found += compare(mapping, listed, "subscriptions")
        kind = kinds.get(mapping.template_id)
        where = f'[subscriptions."{mapping.kind}"] long_term'
        if kind == ONE_TIME and mapping.long_term:
            fix = f"set {where} = false: each acceptance allows one notice"
            found.append(Finding(False, f"{where}: {mapping.template_id} is one-time", fix))
        elif kind == LONG_TERM and not mapping.long_term:
            fix = f"set {where} = true, or only one notice is sent per acceptance"
            found.append(Finding(False, f"{where}: {mapping.template_id} is long-term", fix))
    return found


def _unfit(field: str, value: str) -> str:
    """Why `value` cannot fit `field`'s type whatever the push holds ("" when it can)."""
    parts = {name: _sample(name) for name in names_in(value)}
    try:
        fit(field, fill(value, parts))
    except Unfit:
        return f"{value!r} cannot fit {describe(field)}"
    return ""


def _sample(name: str) -> str:
    if name.endswith("_at"):
        return SAMPLE_TIME
    if name in NUMERIC or name.endswith(("_id", "_count")):
        return SAMPLE_NUMBER
    return SAMPLE_TEXT


def _type_fix(field: str) -> str:
    return (
        f"map a part of the push that fits {describe(field)} — e.g. {{number}} for a "
        "character_string, {resolved_at} or {sent_at} for a time, text for a thing"
    )

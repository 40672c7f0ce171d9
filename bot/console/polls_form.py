"""The 新建投票 form: what it sends, checked field by field, into a `PollSpec`.

The form offers every option of `yishiting poll create`. Quorum and threshold are typed as
percentages (people think in 50%, the domain in 0.5); times are datetime-local values in the
configured zone. What the form cannot check alone (unknown buildings, the close before the
open …) `create_poll` refuses, and `refusal()` says why in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from models.communities import STREET, Scope
from models.polls import BOUND, FOLLOWERS, HOUSEHOLD_UNIT, LABELS, PERSON_UNIT, PollError, PollSpec

FIELDS = (
    "title",
    "description",
    "options",
    "scope",
    "grid",
    "buildings",
    "unit",
    "max_choices",
    "anonymous",
    "hide_results",
    "anyone",
    "opens_at",
    "closes_at",
    "quorum",
    "threshold",
    "community",
    "agenda",
)
FLAGS = ("anonymous", "hide_results", "anyone")
SCOPES = ("all", "grid", "buildings")
TITLE_MAX, OPTION_MAX, DESCRIPTION_MAX = 100, 100, 2000
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

TEXTS = {
    "title": "请填写投票标题。",
    "title_long": f"标题最多 {TITLE_MAX} 个字。",
    "description_long": f"说明最多 {DESCRIPTION_MAX} 个字。",
    "options": f"请填写 2 到 {len(LABELS)} 个选项，每行一个，且不能重复。",
    "option_long": f"每个选项最多 {OPTION_MAX} 个字。",
    "scope": "请选择参与范围。",
    "grid": "请选择网格。",
    "buildings": "请填写楼栋，多个楼栋用逗号分隔。",
    "unit": "请选择按人还是按户投票。",
    "max_choices": "每票可选项数应是 1 到选项个数之间的整数。",
    "flag": "勾选项的值不正确。",
    "opens_at": "开始时间格式不正确，请重新选择。",
    "closes_at": "请选择截止时间。",
    "closes_bad": "截止时间格式不正确，请重新选择。",
    "quorum": "法定参与率应是 0 到 100 之间的数（百分比）。",
    "threshold": "通过比例应是大于 0、不超过 100 的数（百分比）。",
    "community": "请选择投票所属的社区，或整个街道。",
    "agenda": "请选择要表决的议题，或不选。",
}
# PollError reasons from create_poll, as people at the console read them.
REFUSALS = {
    "title": TEXTS["title"],
    "options": TEXTS["options"],
    "choices": TEXTS["max_choices"],
    "closes_at": "截止时间必须晚于开始时间，也必须晚于现在。",
    "quorum": "法定参与率应在 0 到 100% 之间，通过比例应大于 0、不超过 100%。",
    "unit": TEXTS["unit"],
    "eligibility": "按户投票（户决制）只统计已绑定住址的居民，不能选择“所有关注者均可投票”。",
    "scope": "参与范围有误，请检查网格或楼栋。",
}


@dataclass
class Parsed:
    """The form's outcome: a spec to create, or the reasons (by field) it cannot be."""

    spec: PollSpec | None
    errors: dict[str, str] = field(default_factory=dict)
    agenda: int | None = None  # the 议题 #N it decides (None: a poll of its own)


def defaults(now: datetime, tz: tzinfo) -> dict[str, str]:
    """A blank form: open now, close a week later at 20:00 local, one choice, per person."""
    closes = (now.astimezone(tz) + timedelta(days=7)).replace(
        hour=20, minute=0, second=0, microsecond=0
    )
    values = {name: "" for name in FIELDS}
    values.update(
        scope="all",
        unit=PERSON_UNIT,
        max_choices="1",
        closes_at=closes.strftime(LOCAL_FORMAT),
        quorum="0",
        threshold="50",
    )
    return values


def typed(form: Mapping[str, str]) -> dict[str, str]:
    """What the person typed, to show the form again as it was."""
    return {name: str(form.get(name, "")) for name in FIELDS}


def split_names(text: str) -> list[str]:
    return [n for n in re.split(r"[,，、;；\s]+", text) if n]


def _local(text: str, tz: tzinfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 at the calendar's edge
        return None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value else None  # NaN is not a number people typed


def _flags(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, bool]:
    flags = {}
    for name in FLAGS:
        value = str(form.get(name, "")).strip().lower()
        if value not in ("", "1", "on", "y", "yes", "true"):
            errors[name] = TEXTS["flag"]
        flags[name] = bool(value)
    return flags


def _texts(form: Mapping[str, str], errors: dict[str, str]) -> tuple[str, str, list[str]]:
    title = str(form.get("title", "")).strip()
    description = str(form.get("description", "")).strip()
    options = [line.strip() for line in str(form.get("options", "")).splitlines()]
    options = [line for line in options if line]
    if not title:
        errors["title"] = TEXTS["title"]
    elif len(title) > TITLE_MAX:
        errors["title"] = TEXTS["title_long"]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = TEXTS["description_long"]
    if not 2 <= len(options) <= len(LABELS) or len(set(options)) != len(options):
        errors["options"] = TEXTS["options"]
    elif any(len(option) > OPTION_MAX for option in options):
        errors["options"] = TEXTS["option_long"]
    return title, description, options


def _scope(form: Mapping[str, str], errors: dict[str, str]) -> tuple[str, str | None, list[str]]:
    scope = str(form.get("scope", "")).strip()
    grid = str(form.get("grid", "")).strip() or None
    buildings = split_names(str(form.get("buildings", "")))
    if scope not in SCOPES:
        errors["scope"] = TEXTS["scope"]
    elif scope == "grid" and grid is None:
        errors["grid"] = TEXTS["grid"]
    elif scope == "buildings" and not buildings:
        errors["buildings"] = TEXTS["buildings"]
    return scope, grid if scope == "grid" else None, buildings if scope == "buildings" else []


def _times(
    form: Mapping[str, str], tz: tzinfo, errors: dict[str, str]
) -> tuple[datetime | None, datetime | None]:
    opens_text = str(form.get("opens_at", "")).strip()
    closes_text = str(form.get("closes_at", "")).strip()
    opens_at = _local(opens_text, tz) if opens_text else None
    if opens_text and opens_at is None:
        errors["opens_at"] = TEXTS["opens_at"]
    closes_at = _local(closes_text, tz) if closes_text else None
    if closes_at is None:
        errors["closes_at"] = TEXTS["closes_bad"] if closes_text else TEXTS["closes_at"]
    return opens_at, closes_at


def _rules(form: Mapping[str, str], errors: dict[str, str]) -> tuple[str, int, float, float]:
    unit = str(form.get("unit", "")).strip()
    if unit not in (PERSON_UNIT, HOUSEHOLD_UNIT):
        errors["unit"] = TEXTS["unit"]
    choices_text = str(form.get("max_choices", "")).strip()
    max_choices = int(choices_text) if choices_text.isascii() and choices_text.isdigit() else 0
    if max_choices < 1:
        errors["max_choices"] = TEXTS["max_choices"]
    quorum = _number(str(form.get("quorum", "")) or "0")
    if quorum is None or not 0 <= quorum <= 100:
        errors["quorum"] = TEXTS["quorum"]
    threshold = _number(str(form.get("threshold", "")) or "50")
    if threshold is None or not 0 < threshold <= 100:
        errors["threshold"] = TEXTS["threshold"]
    return unit, max_choices, (quorum or 0.0) / 100, (threshold or 0.0) / 100


def _community(
    form: Mapping[str, str], account: Scope, communities: Mapping[int, str], errors: dict[str, str]
) -> int | None:
    """The poll's community: a community account's own (no choice); a street account's pick
    (empty: the whole street)."""
    if not account.street:
        return account.community_id
    chosen = str(form.get("community", "")).strip()
    if not chosen:
        return None
    if not (chosen.isascii() and chosen.isdigit() and int(chosen) in communities):
        errors["community"] = TEXTS["community"]
        return None
    return int(chosen)


def parse(
    form: Mapping[str, str],
    tz: tzinfo,
    account: Scope = STREET,
    communities: Mapping[int, str] | None = None,
) -> Parsed:
    """Check every field; a spec only when all of them are right. `account` is the account's
    scope: a community's account makes its community's polls, a street account picks."""
    errors: dict[str, str] = {}
    community_id = _community(form, account, communities or {}, errors)
    title, description, options = _texts(form, errors)
    scope, grid, buildings = _scope(form, errors)
    unit, max_choices, quorum, threshold = _rules(form, errors)
    flags = _flags(form, errors)
    opens_at, closes_at = _times(form, tz, errors)
    if max_choices > len(options) >= 2 and "options" not in errors:
        errors["max_choices"] = TEXTS["max_choices"]
    agenda = _agenda(form, errors)
    if errors or closes_at is None:
        return Parsed(None, errors)
    spec = PollSpec(
        title=title,
        options=options,
        closes_at=closes_at,
        description=description,
        scope=scope,
        grid=grid,
        buildings=buildings,
        unit=unit,
        max_choices=max_choices,
        anonymous=flags["anonymous"],
        hide_results=flags["hide_results"],
        eligibility=FOLLOWERS if flags["anyone"] else BOUND,
        opens_at=opens_at,
        quorum=quorum,
        threshold=threshold,
        community_id=community_id,
    )
    return Parsed(spec, agenda=agenda)


def _agenda(form: Mapping[str, str], errors: dict[str, str]) -> int | None:
    """The 议题 chosen (its number), or None; whether it may be voted on is checked on
    creating (models/publicity.open_agenda_poll)."""
    chosen = str(form.get("agenda", "")).strip()
    if not chosen:
        return None
    if not (chosen.isascii() and chosen.isdigit() and len(chosen) < 10):
        errors["agenda"] = TEXTS["agenda"]
        return None
    return int(chosen)


def refusal(exc: PollError) -> tuple[str, str]:
    """(the field to mark, the reason in Chinese) for what create_poll refused."""
    if exc.reason == "scope" and exc.details.get("ambiguous"):
        names = "、".join(exc.details["ambiguous"])
        return "community", f"几个社区都有「{names}」，请选择投票所属的社区。"
    if exc.reason == "scope" and exc.details.get("missing"):
        return "buildings", "没有找到这些楼栋：" + "、".join(exc.details["missing"])
    if exc.reason == "scope" and exc.details.get("grid"):
        return "grid", f"没有找到网格「{exc.details['grid']}」。"
    target = {"choices": "max_choices", "eligibility": "anyone"}.get(exc.reason, exc.reason)
    return target, REFUSALS.get(exc.reason, "无法创建这个投票，请检查填写的内容。")

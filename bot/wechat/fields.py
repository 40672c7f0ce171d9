"""The typed fields of WeChat's category template messages and subscription notices.

Since WeChat's 2023 template rules a template's fields are named by type and position
(`thing2`, `time3`, `character_string1` …) and each type takes only values of its own shape;
a value that breaks the rule fails the whole send with errcode 47003 ("argument invalid!
data.thing2.value invalid"). The rules below are WeChat's published limits (参数值内容限制):

| type             | what WeChat takes                                                   |
|------------------|---------------------------------------------------------------------|
| thing            | up to 20 characters: Chinese, letters, digits, symbols              |
| character_string | up to 32 letters, digits or symbols (no Chinese)                    |
| number           | up to 32 digits, a decimal point allowed                            |
| letter           | up to 32 letters                                                    |
| symbol           | up to 5 symbols                                                     |
| time, date       | a date and/or 24-hour time, e.g. 2019年10月1日 15:01 (a range with ~) |
| amount           | one currency sign and up to 10 digits, decimals and a final 元 allowed |
| phone_number     | up to 17 digits and symbols                                         |
| car_number       | up to 8; the first and the last may be Chinese, the rest letters/digits |
| name             | up to 10 Chinese characters, or up to 20 letters or symbols          |
| phrase           | up to 5 Chinese characters, nothing else                            |

No value may hold a line break or another control character. A type not listed here (WeChat
adds some: `const`, `enum` …) is passed as written. The delivery fits
values with `fit`, `check-config --online` explains types with `describe`, and the fake WeChat
API refuses with `accepts` — the same rules everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..config.templates import FIELD_NAME

ELLIPSIS = "…"  # one character: a cut thing keeps 19 characters of the value
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+\d+)\.DATA\s*\}\}")

_DAY = (
    r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月|\d{1,2}月\d{1,2}日"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2})"
)
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
_TIME_POINT = rf"(?:{_DAY} ?)?{_CLOCK}|{_DAY}"
_DATE_POINT = rf"{_DAY}(?: ?{_CLOCK})?"


class Unfit(ValueError):
    """A value that no cutting makes acceptable to its field's type; the text says why."""


@dataclass(frozen=True)
class FieldType:
    name: str
    rule: str  # WeChat's rule in a few words, for check-config
    accepts: Callable[[str], bool]
    # How a value too long is made to fit: cut with an ellipsis, cut plainly, or not at all.
    cut: str  # "ellipsis", "plain" or "none"
    limit: int = 0  # characters (0: no count of its own, the shape decides)


def _pattern(expression: str) -> Callable[[str], bool]:
    compiled = re.compile(expression)
    return lambda value: compiled.fullmatch(value) is not None


def _range_of(point: str) -> Callable[[str], bool]:
    return _pattern(rf"(?:{point})(?: ?~ ?(?:{point}))?")


def _name(value: str) -> bool:
    if not value or _CONTROL.search(value) or re.search(r"\d", value):
        return False
    if re.search(f"[{_CJK}]", value):
        return len(value) <= 10
    return len(value) <= 20


_SYMBOL = rf"[^\sA-Za-z0-9{_CJK}\x00-\x1f\x7f]"
TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType("thing", "20 characters", _pattern(r"[^\x00-\x1f\x7f]{1,20}"), "ellipsis", 20),
        FieldType(
            "character_string",
            "32 letters, digits or symbols, no Chinese",
            _pattern(r"[\x20-\x7e]{1,32}"),
            "plain",
            32,
        ),
        FieldType("number", "32 digits (a decimal allowed)", _pattern(r"-?\d+(?:\.\d+)?"), "none"),
        FieldType("letter", "32 letters", _pattern(r"[A-Za-z]{1,32}"), "plain", 32),
        FieldType("symbol", "5 symbols", _pattern(f"{_SYMBOL}{{1,5}}"), "plain", 5),
        FieldType("time", "a time, e.g. 2019年10月1日 15:01", _range_of(_TIME_POINT), "none"),
        FieldType("date", "a date, e.g. 2019年10月1日", _range_of(_DATE_POINT), "none"),
        FieldType(
            "amount",
            "a currency sign and 10 digits, e.g. ¥12.50",
            _pattern(r"[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?"),
            "none",
        ),
        FieldType(
            "phone_number", "17 digits or symbols", _pattern(r"[0-9+\-() ]{1,17}"), "none", 17
        ),
        FieldType(
            "car_number",
            "8 characters: letters and digits, Chinese first or last",
            _pattern(rf"(?=.{{1,8}}$)[{_CJK}A-Za-z0-9][A-Za-z0-9]*[{_CJK}A-Za-z0-9]?"),
            "none",
        ),
        FieldType("name", "10 Chinese characters or 20 letters", _name, "ellipsis", 10),
        FieldType(
            "phrase", "5 Chinese characters, nothing else", _pattern(f"[{_CJK}]{{1,5}}"), "plain", 5
        ),
    )
}
# What an empty value becomes where the type has a word for "none".
_BLANK = {"thing": "无", "name": "无", "phrase": "无", "character_string": "-"}


def field_type(field: str) -> FieldType | None:
    """The type of a field by its name (`thing12` -> thing); None for a type not known here."""
    match = FIELD_NAME.fullmatch(field)
    return TYPES.get(match.group(1)) if match else None


def accepts(field: str, value: str) -> bool:
    """Would WeChat take `value` for `field`? (Types not known here: anything but control
    characters.)"""
    kind = field_type(field)
    if kind is None:
        return bool(value) and not _CONTROL.search(value)
    return kind.accepts(value)


def wechat_time(moment: datetime) -> str:
    """A time in the shape every time and date field takes: 2026年12月6日 14:30."""
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def fit(field: str, value: str) -> str:
    """`value` made acceptable for `field`: line breaks folded to spaces, cut to the type's
    limit (with an ellipsis where the type allows one); `Unfit` when no cut can help."""
    kind = field_type(field)
    value = _CONTROL.sub(" ", _SPACES.sub(" ", value)).strip()
    if not value and kind is not None:
        value = _BLANK.get(kind.name, "")
    if kind is None:
        if not value:
            raise Unfit(f"{field}: the value is empty")
        return value
    if not kind.accepts(value) and kind.limit and len(value) > _limit(kind, value):
        value = _cut(kind, value)
    if not kind.accepts(value):
        # Not the value itself: it may quote what a resident wrote, and this reaches the log.
        raise Unfit(f"{field}: a value of {len(value)} characters that is not {kind.rule}")
    return value


def _limit(kind: FieldType, value: str) -> int:
    if kind.name == "name" and not re.search(f"[{_CJK}]", value):
        return 20
    return kind.limit


def _cut(kind: FieldType, value: str) -> str:
    limit = _limit(kind, value)
    if kind.cut == "ellipsis":
        return value[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return value[:limit].rstrip()


def describe(field: str) -> str:
    """What a field takes, for a person: "thing (20 characters)"."""
    kind = field_type(field)
    if kind is None:
        return "a type yishiting does not know (not checked)"
    return f"{kind.name} ({kind.rule})"


def placeholders(content: str) -> list[str]:
    """The fields a template's content names: "{{thing1.DATA}} {{time2.DATA}}" -> [thing1,
    time2] (get_all_private_template lists a template's content this way)."""
    return _PLACEHOLDER.findall(content)

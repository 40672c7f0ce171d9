"""Which of the account's typed templates carries which push, field by field.

The config names, per push kind, a template message (`[templates."KIND"]`) and/or a
subscription notice (`[subscriptions."KIND"]`):

    [templates."ticket.resolved"]
    id = "TEMPLATE_ID"
    fields = { character_string1 = "#{number}", thing2 = "{outcome}", time3 = "{resolved_at}" }

Each field's value is a text with `{name}` placeholders naming a part of the push (a value of
its payload, or `headline`, `next_step`, `sent_at`; bot/delivery/typed.py fills them). This
module only reads and checks the shape (and the legacy `[wechat] templates` pairs).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

TEMPLATES = "templates"
SUBSCRIPTIONS = "subscriptions"
# A template field's name: its type and its position (thing2, character_string11); the types'
# rules are the WeChat edge's (bot/wechat/fields.py, which reads the type from this).
FIELD_NAME = re.compile(r"([a-z][a-z_]*?)(\d+)")
# Keys a table may have, besides id and fields: where a tap on the message leads.
_LINK = {TEMPLATES: "url", SUBSCRIPTIONS: "page"}


@dataclass(frozen=True)
class TemplateMap:
    """One push kind's typed template: its id and, per field, the value's text."""

    kind: str
    template_id: str
    fields: tuple[tuple[str, str], ...]  # (field, value text), in the config's order
    link: str = ""  # template: url; subscription: page
    long_term: bool = False  # subscription notices only: a subscription is not used up


def is_field_name(field: str) -> bool:
    """A template field's name: a type and its position, e.g. thing2, character_string11."""
    return FIELD_NAME.fullmatch(field) is not None


def parse_maps(section: str, raw: Any) -> tuple[TemplateMap, ...]:
    """The `[templates.*]` or `[subscriptions.*]` tables; ValueError names the bad key."""
    if not isinstance(raw, dict):
        raise ValueError(
            f'[{section}] must hold one table per push kind, e.g. [{section}."ticket.resolved"]'
        )
    return tuple(_one(section, kind, table) for kind, table in raw.items())


def _one(section: str, kind: str, table: Any) -> TemplateMap:
    where = f'[{section}."{kind}"]'
    if not isinstance(table, dict):
        raise ValueError(f"{where} must be a table with id and fields")
    known = {"id", "fields", _LINK[section]} | (
        {"long_term"} if section == SUBSCRIPTIONS else set()
    )
    for key in table:
        if key not in known:
            raise ValueError(f"{where} {key}: unknown key (known: {', '.join(sorted(known))})")
    template_id = table.get("id")
    if not isinstance(template_id, str) or not template_id.strip():
        raise ValueError(f"{where} id: the template's id (模板ID), a non-empty string")
    fields = table.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise ValueError(
            f'{where} fields: a table of field = "value", e.g. {{ thing2 = "{{outcome}}" }}'
        )
    pairs = tuple((name, _value(where, name, value)) for name, value in fields.items())
    link = table.get(_LINK[section], "")
    if not isinstance(link, str):
        raise ValueError(f"{where} {_LINK[section]}: expected a string")
    long_term = table.get("long_term", False)
    if not isinstance(long_term, bool):
        raise ValueError(f"{where} long_term: expected true or false")
    return TemplateMap(kind, template_id.strip(), pairs, link, long_term)


def _value(where: str, name: str, value: Any) -> str:
    if not is_field_name(name):
        raise ValueError(
            f"{where} fields: {name!r} is not a template field (a type and its number, "
            "like thing2 or time3, as in the template's {{thing2.DATA}})"
        )
    if not isinstance(value, str):
        raise ValueError(f"{where} fields.{name}: expected a string, got {value!r}")
    try:
        names_in(value)
    except ValueError as exc:
        raise ValueError(f"{where} fields.{name}: {exc}") from None
    return value


def names_in(value: str) -> list[str]:
    """The placeholders of a value text: "#{number} {topic}" -> [number, topic]. Only plain
    names: no attributes, indexes, conversions or formats ({{ and }} are literal braces)."""
    names = []
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{value!r}: {{{name}}} must be a plain name like {{number}}")
        names.append(name)
    return names


def fill(value: str, parts: Mapping[str, str]) -> str:
    """The value text with its placeholders replaced; KeyError names a part the push lacks."""
    return value.format_map(_Strict(parts))


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def parse_templates(text: str) -> dict[str, str]:
    """`"notice=ID1, ticket.assigned=ID2"` -> {"notice": "ID1", "ticket.assigned": "ID2"}."""
    templates: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kind, sep, template_id = (piece.strip() for piece in part.partition("="))
        if not sep or not kind or not template_id:
            raise ConfigError(f"[wechat] templates: expected kind=TEMPLATE_ID pairs, got {part!r}")
        templates[kind] = template_id
    return templates

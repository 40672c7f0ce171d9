"""Rules files (TOML): read with every problem's line and reason, written back the same way.

    [[topic]]
    name = "电梯设施"
    description = "电梯故障、困人、维保"
    sla_hours = 48
    sort_order = 4
    enabled = true
    rules = [
      { keyword = "电梯", weight = 3 },
      { keyword = "电梯广告", kind = "exclude" },
    ]

A file is read whole or refused whole: the first problem stops it, nothing is half-read.
Importing it over existing topics (`current`) changes only what it says: a topic's settings or
`rules` that its table leaves out stay as they are; a new topic gets the defaults.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from models import KINDS, RuleSpec, TopicSpec
from words import fold

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")

_TOPIC_KEYS = {"name", "description", "sla_hours", "sort_order", "enabled", "rules"}
_RULE_KEYS = {"keyword", "weight", "kind", "enabled"}
_TOML_LINE = re.compile(r"at line (\d+)")


class RulesFileError(ValueError):
    """A rules file that cannot be used; `line` points at the problem (0 = unknown)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


class _Lines:
    """Finds the line a value was written on, searching forward like a reader would."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, key: str, value: str, after: int = 0) -> int:
        """The 1-based number of the first line from `after` (0-based) with `key = value`."""
        quoted, single = json.dumps(value, ensure_ascii=False), f"'{value}'"
        for number in range(after, len(self.lines)):
            line = self.lines[number]
            if (quoted in line or single in line) and key in line:
                return number + 1
        return after + 1 if after else 0


# NUL and other control characters: no keyword or name needs them, and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_rules(text: str, current: Mapping[str, TopicSpec] | None = None) -> list[TopicSpec]:
    """Read rules from TOML text, or raise RulesFileError with the line and reason. With
    `current` (the topics as they are, by name), what a topic's table leaves out is kept."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        raise RulesFileError(
            int(found.group(1)) if found else 0, f"not valid TOML: {exc}"
        ) from None
    lines = _Lines(text)
    unknown = set(data) - {"topic"}
    if unknown:
        raise RulesFileError(
            0, f"unknown top-level key {sorted(unknown)[0]!r} (expected [[topic]])"
        )
    tables = data.get("topic", [])
    if not isinstance(tables, list) or not tables:
        raise RulesFileError(0, "no [[topic]] tables")
    specs: list[TopicSpec] = []
    seen_topics: set[str] = set()
    for table in tables:
        spec = _topic(table, lines, current or {})
        if spec.name in seen_topics:
            raise RulesFileError(lines.find("name", spec.name), f"topic {spec.name!r} twice")
        seen_topics.add(spec.name)
        specs.append(spec)
    return specs


def load_rules_file(
    path: str | Path, current: Mapping[str, TopicSpec] | None = None
) -> list[TopicSpec]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RulesFileError(0, f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith(b"PK\x03\x04"):  # a zip: what `model train -o` writes
        raise RulesFileError(
            0, "a classifier model (what `model train -o` writes), not a rules file"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RulesFileError(0, "not a rules file: not UTF-8 text") from None
    return parse_rules(text, current)


def _topic(table: dict[str, Any], lines: _Lines, current: Mapping[str, TopicSpec]) -> TopicSpec:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise RulesFileError(0, "a [[topic]] without a name")
    name = name.strip()
    # What the table leaves out: as the topic is now, or the defaults for a new one.
    base = current.get(name) or TopicSpec(name)
    at = lines.find("name", name)
    if len(name) > 32:
        raise RulesFileError(at, f"topic name {name!r} is longer than 32 characters")
    if _CONTROL.search(name):
        raise RulesFileError(at, f"topic name {name!r} contains control characters")
    extra = set(table) - _TOPIC_KEYS
    if extra:
        raise RulesFileError(at, f"topic {name!r}: unknown key {sorted(extra)[0]!r}")
    description = table.get("description", base.description)
    if not isinstance(description, str):
        raise RulesFileError(at, f"topic {name!r}: description must be text")
    if _CONTROL.search(description.replace("\n", "").replace("\t", "")):
        raise RulesFileError(at, f"topic {name!r}: description contains control characters")
    sla_hours = table.get("sla_hours", base.sla_hours)
    if not _is_int(sla_hours) or sla_hours <= 0:
        raise RulesFileError(at, f"topic {name!r}: sla_hours must be a positive whole number")
    sort_order = table.get("sort_order", base.sort_order)
    if not _is_int(sort_order):
        raise RulesFileError(at, f"topic {name!r}: sort_order must be a whole number")
    enabled = table.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise RulesFileError(at, f"topic {name!r}: enabled must be true or false")
    raw_rules = table.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RulesFileError(at, f"topic {name!r}: rules must be a list of {{ keyword = ... }}")
    rules: list[RuleSpec] = []
    seen: dict[str, str] = {}
    cursor = at  # rules are read in file order: each is searched for from the one before
    for raw in raw_rules:
        rule, cursor = _rule(name, raw, lines, cursor)
        key = fold(rule.keyword)
        if key in seen:
            raise RulesFileError(
                cursor, f"topic {name!r}: keyword {rule.keyword!r} repeats {seen[key]!r}"
            )
        seen[key] = rule.keyword
        rules.append(rule)
    if "rules" not in table:
        rules = list(base.rules)
    return TopicSpec(name, description, sla_hours, sort_order, enabled, tuple(rules))


def _rule(topic: str, raw: Any, lines: _Lines, previous: int) -> tuple[RuleSpec, int]:
    """The rule, and the line it was found on."""
    if not isinstance(raw, dict):
        raise RulesFileError(previous, f"topic {topic!r}: each rule is {{ keyword = ... }}")
    keyword = raw.get("keyword")
    if not isinstance(keyword, str) or not keyword.strip():
        raise RulesFileError(previous, f"topic {topic!r}: a rule without a keyword")
    at = (
        lines.find("keyword", keyword, max(previous - 1, 0))
        if previous
        else lines.find("keyword", keyword)
    )
    keyword = keyword.strip()
    where = f"topic {topic!r}, keyword {keyword!r}"
    if len(keyword) > 64:
        raise RulesFileError(at, f"{where}: longer than 64 characters")
    if _CONTROL.search(keyword):
        raise RulesFileError(at, f"{where}: contains control characters")
    extra = set(raw) - _RULE_KEYS
    if extra:
        raise RulesFileError(at, f"{where}: unknown key {sorted(extra)[0]!r}")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 100:
        raise RulesFileError(at, f"{where}: weight must be a number above 0 and at most 100")
    kind = raw.get("kind", "include")
    if kind not in KINDS:
        raise RulesFileError(at, f'{where}: kind must be "include" or "exclude"')
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RulesFileError(at, f"{where}: enabled must be true or false")
    return RuleSpec(keyword, float(weight), kind, enabled), at


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def dump_rules(specs: list[TopicSpec]) -> str:
    """Rules as TOML that `parse_rules` reads back to the same specs."""
    out = [
        "# Yishiting keyword rules (yishiting rules export). Edit, then `yishiting rules import`.",
        "# weight: how strongly a word points to its topic; kind: include, or exclude (vetoes).",
    ]
    for spec in specs:
        out += [
            "",
            "[[topic]]",
            f"name = {_s(spec.name)}",
            f"description = {_s(spec.description)}",
            f"sla_hours = {spec.sla_hours}",
            f"sort_order = {spec.sort_order}",
            f"enabled = {_b(spec.enabled)}",
            "rules = [",
        ]
        for rule in spec.rules:
            fields = [f"keyword = {_s(rule.keyword)}", f"weight = {_n(rule.weight)}"]
            if rule.kind != "include":
                fields.append(f"kind = {_s(rule.kind)}")
            if not rule.enabled:
                fields.append("enabled = false")
            out.append("  { " + ", ".join(fields) + " },")
        out.append("]")
    return "\n".join(out) + "\n"


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _b(value: bool) -> str:
    return "true" if value else "false"


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

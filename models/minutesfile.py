"""The minutes file `meeting minutes M FILE` reads: plain UTF-8 text a committee writes by hand.

    参会人员：张三、李四、王五（物业公司）
    纪要：
    到会居民代表 12 人，社区书记主持。
    （any lines, kept exactly as written, up to the next heading）
    议题 #3
    摘要：多数代表同意在北门空地安装健身器材，担心夜间噪音。
    结论：达成共识：安装一组健身器材，晚上九点后停用。
    议题 #4
    摘要：……
    结论：提交表决

Headings start a line: `参会人员：` (or `出席：`), `纪要：`, `议题 #N` (or `议题 N`); inside an
item `摘要：` and `结论：` (or `决议：`). Text may follow a heading on its line and go on over
the next lines. Full-width or half-width colons and ＃ both do. Lines starting with `//` are
comments. Required: 参会人员, 纪要, and a 结论 for each item written (an item of the agenda
left out keeps no summary and no outcome). A mistake is a `MinutesFileError` naming the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from words import fold

from .meeting_minutes import ItemMinutes, Minutes

_HEAD = re.compile(r"^(参会人员|出席|纪要)\s*[:：]\s?(.*)$")
_ITEM = re.compile(r"^议题\s*[#＃]?\s*(\S+)\s*$")
_FIELD = re.compile(r"^(摘要|结论|决议)\s*[:：]\s?(.*)$")
_NAMES = {"参会人员": "attendees", "出席": "attendees", "纪要": "text"}


class MinutesFileError(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class _Section:
    line: int
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = list(self.lines)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        return "\n".join(lines).strip()


@dataclass
class _Item:
    line: int
    fields: dict[str, _Section] = field(default_factory=dict)


class _Reader:
    def __init__(self) -> None:
        self.sections: dict[str, _Section] = {}
        self.items: dict[int, _Item] = {}
        self.current: _Section | None = None
        self.item: _Item | None = None

    def heading(self, number: int, name: str, rest: str) -> None:
        key = _NAMES[name]
        if key in self.sections:
            raise MinutesFileError(
                number, f"a second {name}： (it is on line {self.sections[key].line})"
            )
        self.item = None
        self.current = self.sections[key] = _Section(number, [rest])

    def item_heading(self, number: int, raw: str) -> None:
        digits = fold(raw).lstrip("#")
        if not (digits.isascii() and digits.isdigit()):
            raise MinutesFileError(number, f"议题 {raw}: an item is named by its number (议题 #3)")
        item_number = int(digits)
        if item_number in self.items:
            seen = self.items[item_number].line
            raise MinutesFileError(number, f"议题 #{item_number} again (it is on line {seen})")
        self.item = self.items[item_number] = _Item(number)
        self.current = None

    def field(self, number: int, name: str, rest: str) -> None:
        if self.item is None:
            raise MinutesFileError(number, f"{name}： belongs under an item's heading (议题 #N)")
        key = "summary" if name == "摘要" else "outcome"
        if key in self.item.fields:
            raise MinutesFileError(number, f"a second {name}： for this item")
        self.current = self.item.fields[key] = _Section(number, [rest])

    def text(self, number: int, line: str) -> None:
        if self.current is None:
            if not line.strip():
                return
            raise MinutesFileError(
                number,
                "text outside any heading: start a section with 参会人员：, 纪要： or 议题 #N",
            )
        self.current.lines.append(line)


def parse_minutes(text: str) -> tuple[Minutes, dict[int, int]]:
    """The minutes a file says (see the module's docstring) and the line of each item's
    heading (by number, for errors found later); MinutesFileError on a mistake."""
    reader = _Reader()
    lines = text.lstrip("\ufeff").splitlines()
    for number, line in enumerate(lines, start=1):
        bare = line.strip()
        if bare.startswith("//"):
            continue
        head, item, part = _HEAD.match(bare), _ITEM.match(bare), _FIELD.match(bare)
        if head:
            reader.heading(number, head.group(1), head.group(2))
        elif item:
            reader.item_heading(number, item.group(1))
        elif part:
            reader.field(number, part.group(1), part.group(2))
        else:
            reader.text(number, line.rstrip())
    end = len(lines) or 1
    for key, name in (("attendees", "参会人员："), ("text", "纪要：")):
        section = reader.sections.get(key)
        if section is None or not section.text():
            raise MinutesFileError(section.line if section else end, f"{name} is missing or empty")
    items = {}
    for item_number, written in reader.items.items():
        outcome = written.fields.get("outcome")
        if outcome is None or not outcome.text():
            raise MinutesFileError(written.line, f"议题 #{item_number} has no 结论： (the outcome)")
        summary = written.fields.get("summary")
        items[item_number] = ItemMinutes(summary.text() if summary else "", outcome.text())
    minutes = Minutes(reader.sections["attendees"].text(), reader.sections["text"].text(), items)
    return minutes, {number: found.line for number, found in reader.items.items()}

"""The Official Account's custom menu (自定义菜单): its entries, the words every floor shares.

`MENU` is the one list of entries: the menu set up on WeChat (bot/menu.py), the check of
`[[menu]]` (bot/config/menu.py), the simulator's menu bar and the answer to a tap
(handlers/menu.py) are all built from it. Plain data: imports nothing of the project's own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MenuEntry:
    """One menu button: the name people see, the click event's key, what a tap does."""

    name: str
    key: str  # EventKey of the click event (WeChat allows up to 128 bytes)
    command: str | None = None  # the typed command a tap stands for
    answer: str | None = None  # or a fixed answer, when no command fits


HOW_TO_REPORT = (
    "请直接发送文字，说明问题的地点和情况，例如：“3号楼2单元电梯坏了，有人被困”。\n"
    "我们会生成诉求编号，转给负责的社区工作人员，办理进展会通知您。"
    "发送文字后一会儿内再发图片或位置，会一并附在这条诉求上。"
)

MENU: tuple[MenuEntry, ...] = (
    MenuEntry("我要反映", "MENU_REPORT", answer=HOW_TO_REPORT),
    MenuEntry("我的诉求", "MENU_MINE", command="我的"),
    MenuEntry("参与投票", "MENU_VOTE", command="投票"),
    # A bare 提议 answers with how to write one (handlers/agenda.py HOW_TO_PROPOSE).
    MenuEntry("我要提议", "MENU_PROPOSE", command="提议"),
    MenuEntry("帮助", "MENU_HELP", command="帮助"),
)

# The top-level button that holds the entries past WeChat's three (bot/menu.py).
MORE = "更多"

_BY_KEY = {entry.key: entry for entry in MENU}
_BY_WORD = {**{entry.name: entry for entry in MENU}, **_BY_KEY}


def entry_for(key: str | None) -> MenuEntry | None:
    """The entry a click event's key stands for."""
    return _BY_KEY.get((key or "").strip())


def entry_named(word: str) -> MenuEntry | None:
    """The entry a config names by its key (MENU_MINE) or by its name (我的诉求)."""
    return _BY_WORD.get(word.strip())

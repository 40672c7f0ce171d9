"""`[[menu]]`, the custom menu (自定义菜单) a config may set: read into plain buttons, checked.

A button either stands for one of words/menu.py's entries (a click whose key the handlers
answer) or opens a web page (a view button); a top-level button may instead hold up to five
sub-buttons. WeChat's limits, checked here so `menu push` never meets a refusal it could have
foreseen: 1-3 top-level buttons, 1-5 sub-buttons each; a top-level name at most 4 Chinese
characters (16 bytes), a sub-button's at most 8 (60 bytes); a URL at most 1024 bytes.
Publishing the menu (and the default one, without `[[menu]]`): bot/menu.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from words.menu import MENU, entry_named

from .errors import ConfigError

MAX_TOP = 3
MAX_SUB = 5
# (display width in half-width units: a Chinese character counts 2; UTF-8 bytes)
TOP_NAME = (8, 16)
SUB_NAME = (16, 60)
MAX_URL_BYTES = 1024


@dataclass(frozen=True)
class Button:
    """One menu button: a click (key), a link (url), or a folder of sub-buttons."""

    name: str
    key: str = ""
    url: str = ""
    sub: tuple[Button, ...] = ()

    def to_wechat(self) -> dict[str, Any]:
        """The button as `menu/create` takes it."""
        if self.sub:
            return {"name": self.name, "sub_button": [b.to_wechat() for b in self.sub]}
        if self.url:
            return {"type": "view", "name": self.name, "url": self.url}
        return {"type": "click", "name": self.name, "key": self.key}

    def describe(self) -> str:
        """One line for a person: `我的诉求 → click MENU_MINE`."""
        if self.sub:
            return f"{self.name} ▸"
        return f"{self.name} → view {self.url}" if self.url else f"{self.name} → click {self.key}"


def parse_menu(raw: object) -> tuple[Button, ...]:
    """`[[menu]]` from the TOML file, checked; raises ConfigError listing every problem."""
    buttons, problems = read_menu(raw)
    if problems:
        raise ConfigError("; ".join(problems))
    return buttons


def read_menu(raw: object) -> tuple[tuple[Button, ...], list[str]]:
    """The buttons `[[menu]]` describes and every problem found (each naming its entry)."""
    if raw is None:
        return (), []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        return (), ["[[menu]]: must be an array of tables ([[menu]] entries with name = ...)"]
    problems: list[str] = []
    if not 1 <= len(raw) <= MAX_TOP:
        problems.append(f"[[menu]]: {len(raw)} top-level buttons, WeChat allows 1 to {MAX_TOP}")
    buttons = []
    for number, table in enumerate(raw, start=1):
        button = _button(table, f"[[menu]] #{number}", problems, top=True)
        if button is not None:
            buttons.append(button)
    return tuple(buttons), problems


def _button(table: dict[str, Any], where: str, problems: list[str], *, top: bool) -> Button | None:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: needs a name")
        return None
    name = name.strip()
    where = f"{where} ({name})"
    before = len(problems)
    unknown = sorted(
        set(table) - ({"name", "key", "url", "sub"} if top else {"name", "key", "url"})
    )
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    _check_name(name, where, problems, top=top)
    sub = table.get("sub")
    if sub is not None:
        buttons = _sub_buttons(sub, where, problems)
        if "key" in table or "url" in table:
            problems.append(f"{where}: a button with sub-buttons takes no key or url")
        return Button(name, sub=buttons) if len(problems) == before else None
    key, url = table.get("key"), table.get("url")
    if (key is None) == (url is None):
        problems.append(f"{where}: give either key (a menu command) or url (a web page)")
        return None
    if key is not None:
        entry = entry_named(key) if isinstance(key, str) else None
        if entry is None:
            known = ", ".join(f"{e.key} ({e.name})" for e in MENU)
            problems.append(f"{where}: unknown key {key!r}; one of {known}")
            return None
        return Button(name, key=entry.key) if len(problems) == before else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        problems.append(f"{where}: url must start with https:// (got {url!r})")
    elif len(url.encode()) > MAX_URL_BYTES:
        problems.append(f"{where}: url longer than {MAX_URL_BYTES} bytes")
    return Button(name, url=str(url)) if len(problems) == before else None


def _sub_buttons(sub: object, where: str, problems: list[str]) -> tuple[Button, ...]:
    if not isinstance(sub, list) or not all(isinstance(t, dict) for t in sub):
        problems.append(f"{where}: sub must be [[menu.sub]] entries")
        return ()
    if not 1 <= len(sub) <= MAX_SUB:
        problems.append(f"{where}: {len(sub)} sub-buttons, WeChat allows 1 to {MAX_SUB}")
    found = [_button(t, f"{where} sub #{n}", problems, top=False) for n, t in enumerate(sub, 1)]
    return tuple(b for b in found if b is not None)


def _check_name(name: str, where: str, problems: list[str], *, top: bool) -> None:
    width, size = TOP_NAME if top else SUB_NAME
    shown = sum(1 if ord(ch) < 128 else 2 for ch in name)
    if shown > width or len(name.encode()) > size:
        level = "a top-level" if top else "a sub-button"
        problems.append(
            f"{where}: name too long for {level} button "
            f"(at most {width // 2} Chinese characters or {width} letters)"
        )

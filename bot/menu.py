"""The custom menu (自定义菜单) published to WeChat: `[[menu]]` or the default, and its forms.

The buttons and their checks are config's (bot/config/menu.py); the entries are words/menu.py's.
Without `[[menu]]` the menu is built from MENU.
"""

from __future__ import annotations

from typing import Any

from words.menu import MENU, MORE

from .config import Account, Settings
from .config.menu import MAX_SUB, MAX_TOP, Button


def menu_of(settings: Settings) -> tuple[Button, ...]:
    """The menu to publish: `[[menu]]`, or the default built from words/menu.py."""
    return settings.menu or default_menu()


def account_menu(account: Account) -> tuple[Button, ...]:
    """An account's menu: its own `[[accounts.menu]]`, the top-level `[[menu]]`, or the
    default."""
    return account.menu or default_menu()


def outline(buttons: tuple[Button, ...], indent: str = "  ") -> list[str]:
    """The menu as lines for a person, sub-buttons indented under their folder."""
    lines: list[str] = []
    for button in buttons:
        lines.append(indent + button.describe())
        lines += outline(button.sub, indent + "  ")
    return lines


def payload(buttons: tuple[Button, ...]) -> dict[str, Any]:
    """The body of `cgi-bin/menu/create`."""
    return {"button": [b.to_wechat() for b in buttons]}


def default_menu() -> tuple[Button, ...]:
    """words/menu.py's MENU; past three entries the rest go under 更多 (WeChat shows 3)."""
    buttons = [Button(entry.name, key=entry.key) for entry in MENU]
    if len(buttons) <= MAX_TOP:
        return tuple(buttons)
    keep = MAX_TOP - 1
    return (*buttons[:keep], Button(MORE, sub=tuple(buttons[keep : keep + MAX_SUB])))


def from_wechat(answer: dict[str, Any]) -> tuple[Button, ...]:
    """The menu in a `get_current_selfmenu_info` answer (sub-buttons under `list`)."""
    info = answer.get("selfmenu_info") or {}
    return tuple(_from_wechat(b) for b in info.get("button") or [] if isinstance(b, dict))


def _from_wechat(raw: dict[str, Any]) -> Button:
    sub = raw.get("sub_button")
    if isinstance(sub, dict):
        sub = sub.get("list")
    if isinstance(sub, list) and sub:
        return Button(str(raw.get("name", "")), sub=tuple(_from_wechat(b) for b in sub))
    url = raw.get("url") if raw.get("type") == "view" else None
    if url:
        return Button(str(raw.get("name", "")), url=str(url))
    return Button(str(raw.get("name", "")), key=str(raw.get("key") or raw.get("type") or ""))


def click_keys(buttons: tuple[Button, ...]) -> list[str]:
    """Every click key in the menu, sub-buttons included."""
    keys: list[str] = []
    for button in buttons:
        keys += click_keys(button.sub) if button.sub else ([button.key] if button.key else [])
    return keys

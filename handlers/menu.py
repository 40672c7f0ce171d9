"""The answer to a tap on the custom menu (自定义菜单); the entries themselves: words/menu.py.

A tap on an entry that stands for a command runs that command, exactly as if the person had
typed it (the same function, the same role check), so a tap never meets "unknown command";
a key no entry has goes on to the generic answer in events.py.
"""

from __future__ import annotations

from words.menu import entry_for

from . import events, texts
from .router import Context, Reply, Router

router = Router("menu")


@router.event("click")
def tap(ctx: Context) -> Reply:
    """A tap on a menu entry: its command's answer; an unknown key gets the generic answer."""
    entry = entry_for(ctx.message.event_key)
    if entry is None:
        return events.menu_tap(ctx)
    if entry.answer is not None:
        return entry.answer
    found = ctx.router.find_command(entry.command or "")
    if found is None:  # a command renamed without updating MENU; a test keeps them in step
        return events.menu_tap(ctx)
    command, args = found
    if ctx.person.role < command.role:
        return texts.NOT_ALLOWED
    return command.func(ctx, args)

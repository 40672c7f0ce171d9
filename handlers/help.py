"""帮助: the list of commands, built from their help strings."""

from __future__ import annotations

from . import texts
from .router import Command, Context, Router

router = Router("help")

# What a passive reply shows whole (bot/wechat/protocol.py cuts a longer one).
REPLY_CHARS = 600


def _listing(helps: list[str]) -> str:
    return "\n".join([texts.HELP_HEADER, *(f"· {h}" for h in helps), texts.HELP_FOOTER])


def _usage(command: Command) -> str:
    """The help's usage part only (`进展 议题编号 内容`), without what it does."""
    return command.help.partition("：")[0]


@router.command("帮助", help="帮助：查看可以办理的事项", aliases=("help", "?", "菜单"))
def show_help(ctx: Context, args: str) -> str:
    """Every command this person may use, one line each."""
    commands = [c for c in ctx.router.commands if ctx.person.role >= c.role]
    full = _listing([c.help for c in commands])
    if len(full) <= REPLY_CHARS:
        return full
    # Too many to explain each in one reply (staff see everyone's commands): their own
    # role's commands in full, the others by their usage, so that every one still shows.
    return _listing([c.help if c.role == ctx.person.role else _usage(c) for c in commands])

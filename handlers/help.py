"""帮助: the list of commands, built from their help strings."""

from __future__ import annotations

from . import texts
from .router import Context, Router

router = Router("help")


@router.command("帮助", help="帮助：查看可以办理的事项", aliases=("help", "?", "菜单"))
def show_help(ctx: Context, args: str) -> str:
    """Every command this person may use, one line each."""
    lines = [texts.HELP_HEADER]
    lines += [f"· {c.help}" for c in ctx.router.commands if ctx.person.role >= c.role]
    lines.append(texts.HELP_FOOTER)
    return "\n".join(lines)

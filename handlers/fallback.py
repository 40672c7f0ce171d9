"""An answer for every kind of message nothing else took: never an error, never silence."""

from __future__ import annotations

from . import texts
from .router import Context, Reply, Router

router = Router("fallback")


@router.message("link")
def on_link(ctx: Context) -> str:
    return texts.LINK


@router.fallback
def on_anything_else(ctx: Context) -> Reply:
    """Unknown message kinds get a polite answer; unknown events need none."""
    if ctx.message.kind == "event":
        return None
    return texts.UNKNOWN

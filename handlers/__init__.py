"""The conversation. The order of the routers here is the order they are tried in."""

from __future__ import annotations

from . import events, fallback, help
from .message import Message
from .router import Command, Context, Reply, Router

__all__ = ["Command", "Context", "Message", "Reply", "Router", "build_router"]


def build_router() -> Router:
    """The bot's router: feature routers first, the catch-all fallbacks last."""
    root = Router("root")
    root.include(help.router, events.router, fallback.router)
    return root

"""The conversation. The order of the routers here is the order they are tried in."""

from __future__ import annotations

from . import (
    admin,
    agenda,
    carrying,
    events,
    fallback,
    help,
    meetings,
    menu,
    mine,
    people,
    publicity,
    rating,
    report,
    staff,
    vote,
)
from .message import Message
from .router import PASS, Command, Context, Options, Pass, Reply, Router

__all__ = [
    "PASS",
    "Command",
    "Context",
    "Message",
    "Options",
    "Pass",
    "Reply",
    "Router",
    "build_router",
]


def build_router() -> Router:
    """The bot's router: feature routers first, the catch-all fallbacks last."""
    root = Router("root")
    root.include(
        help.router,
        mine.router,
        people.router,
        staff.router,
        rating.router,
        vote.router,
        agenda.router,  # 议: 提议 附议 议题
        meetings.router,
        publicity.router,
        carrying.router,
        admin.router,
        menu.router,  # menu taps it knows, before events' generic answer to a click
        events.router,
        report.router,
        fallback.router,
    )
    return root

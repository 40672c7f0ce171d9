"""Following, leaving, scanning and menu taps."""

from __future__ import annotations

from models import set_following

from . import texts
from .router import Context, Router

router = Router("events")


@router.event("subscribe", "subscribe_scan")
def welcome(ctx: Context) -> str:
    """A new (or returning) follower gets the welcome."""
    set_following(ctx.db, ctx.person.id, True)
    return texts.WELCOME


@router.event("unsubscribe")
def farewell(ctx: Context) -> None:
    """WeChat shows nothing after an unfollow; we only note it."""
    set_following(ctx.db, ctx.person.id, False)


@router.event("scan")
def scanned(ctx: Context) -> str:
    return texts.SCAN


@router.event("click")
def menu_tap(ctx: Context) -> str:
    """A menu key menu.MENU does not have (an old menu still on a phone): say so, never stay
    silent after a tap. menu.tap answers the keys it knows and hands the rest here."""
    return texts.MENU_UNKNOWN


@router.event("view", "location", "templatesendjobfinish", "masssendjobfinish")
def no_answer_expected(ctx: Context) -> None:
    """Link taps and automatic reports: the person expects no message back."""

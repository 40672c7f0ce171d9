"""Following, leaving, scanning and menu taps."""

from __future__ import annotations

from models import set_following
from models.outbox import cancel_for
from models.subscriptions import record_subscriptions

from . import texts
from .router import Context, Router

router = Router("events")

UNFOLLOWED = "the person stopped following the account"


@router.event("subscribe", "subscribe_scan")
def welcome(ctx: Context) -> str:
    """A new (or returning) follower gets the welcome, with the privacy notice; pushes to
    them are delivered again from now on."""
    set_following(ctx.db, ctx.person.id, True)
    return texts.WELCOME


@router.event("unsubscribe")
def farewell(ctx: Context) -> None:
    """WeChat shows nothing after an unfollow. Pushes still queued for them are cancelled
    (WeChat would refuse them: 43004); their tickets stay open and are handled as before."""
    set_following(ctx.db, ctx.person.id, False)
    cancel_for(ctx.db, ctx.person.id, UNFOLLOWED)


@router.command("个人信息", help="个人信息：我们保存哪些信息、保存多久，如何查阅或删除")
def privacy(ctx: Context, args: str) -> str:
    """个人信息保护: what is kept, for how long, how to ask for a copy or erasure."""
    return texts.PRIVACY


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


@router.event("subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event")
def subscriptions_changed(ctx: Context) -> None:
    """订阅通知: the person accepted or refused notice templates (in a popup, in their notice
    settings, or a notice could not be delivered). Recorded for the delivery; WeChat shows
    nothing back."""
    record_subscriptions(ctx.db, ctx.person.id, ctx.message.subscriptions, ctx.now)

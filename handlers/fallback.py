"""An answer for every kind of message nothing else took: never an error, never silence."""

from __future__ import annotations

from . import texts
from .router import Context, Reply, Router

router = Router("fallback")


@router.message("text")
def on_text(ctx: Context) -> str:
    return texts.TEXT_RECEIVED


@router.message("voice")
def on_voice(ctx: Context) -> str:
    """A recognised voice message is treated as the words it carries."""
    if ctx.message.text:
        return on_text(ctx)
    return texts.VOICE_UNRECOGNISED


@router.message("image")
def on_image(ctx: Context) -> str:
    return texts.IMAGE


@router.message("video", "shortvideo")
def on_video(ctx: Context) -> str:
    return texts.VIDEO


@router.message("location")
def on_location(ctx: Context) -> str:
    label = ctx.message.details.get("label")
    return texts.LOCATION.format(label=label) if label else texts.LOCATION_NO_LABEL


@router.message("link")
def on_link(ctx: Context) -> str:
    return texts.LINK


@router.fallback
def on_anything_else(ctx: Context) -> Reply:
    """Unknown message kinds get a polite answer; unknown events need none."""
    if ctx.message.kind == "event":
        return None
    return texts.UNKNOWN

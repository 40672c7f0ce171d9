"""What a push says: every pushed text, in Simplified Chinese, rendered from a row's payload.

An outbox row holds ids and values; the words are chosen here when the push is sent, so a
wording change reaches pushes already queued. Each kind renders to a `Rendered`: the text for
a customer-service, WeCom or console message (and for the top of a passive reply), plus the
title and fields for a template message (`first`, `keyword1` … `remark`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class UnknownKind(Exception):
    """A row whose kind no template renders: a permanent error, the row goes dead."""


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    fields: tuple[str, ...] = field(default_factory=tuple)  # keyword1, keyword2, …
    remark: str = ""


# How held pushes are introduced at the top of a passive reply.
HELD_HEADER = "【您有新消息】"
HELD_MORE = "（还有更多消息，回复任意内容继续查看）"
# Longest text a push carries; the rest is cut (a very long notice or ticket stays whole in
# the database and the console).
MAX_CHARS = 600
ELLIPSIS = "……"


def _notice(payload: dict[str, Any]) -> Rendered:
    text = str(payload["text"])
    return Rendered(
        title="社区通知",
        text=f"【社区通知】\n{text}",
        fields=(shorten(text, 20),),
        remark=text,
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], Rendered]] = {
    "notice": _notice,
    "notice.mass": _notice,
}


def register(kind: str) -> Callable[[Callable[[dict[str, Any]], Rendered]], Any]:
    """Decorator for a later feature's renderer: `@register("ticket.assigned")`."""

    def add(func: Callable[[dict[str, Any]], Rendered]) -> Callable[[dict[str, Any]], Rendered]:
        RENDERERS[kind] = func
        return func

    return add


def render(kind: str, payload: dict[str, Any]) -> Rendered:
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise UnknownKind(f"no template for push kind {kind!r}") from None
    try:
        rendered = renderer(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownKind(f"push kind {kind!r}: payload cannot be rendered ({exc!r})") from None
    return Rendered(
        rendered.title, shorten(rendered.text, MAX_CHARS), rendered.fields, rendered.remark
    )


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS


def with_held(reply: str | None, held: list[tuple[str, dict[str, Any]]], more: bool) -> str:
    """A passive reply with the pushes that waited for the person to write on top."""
    parts = [HELD_HEADER]
    for kind, payload in held:
        try:
            parts.append(render(kind, payload).text)
        except UnknownKind:
            continue  # cannot happen for a row the worker held: it rendered it first
    if more:
        parts.append(HELD_MORE)
    if reply:
        parts.append("——————\n" + reply)
    return "\n\n".join(parts)

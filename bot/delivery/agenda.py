"""What the 议 cycle's pushes say (议题, 议事会, 公示, 落实, 评议), in Simplified Chinese.

One section per stage, each ending in its table of kinds and renderers; `RENDERERS` joins
them and bot/delivery/templates.py adds them to its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models import pushes
from models.pushes import PushKind

from .rendered import Rendered, shorten, when_iso

Renderer = Callable[[dict[str, Any]], Rendered]

# -- 议题: 提议 · 附议 · 立项 ------------------------------------------------------------------

_PROPOSALS: dict[PushKind, Renderer] = {}

# -- 议事会 -------------------------------------------------------------------------------------


def _agenda_lines(payload: dict[str, Any]) -> str:
    return "\n".join(f"#{number}「{title}」" for number, title in payload.get("agenda") or [])


def _meeting_invited(payload: dict[str, Any]) -> Rendered:
    number, at = payload["number"], when_iso(payload["at"])
    text = (
        f"【议事会邀请】#{number}「{payload['title']}」\n时间：{at}\n地点：{payload['place']}\n"
        f"议题：\n{_agenda_lines(payload)}\n"
        f"能来请回复“参加 {number}”，不能来请回复“请假 {number}”（可附理由）。"
    )
    then = f"回复“参加 {number}”或“请假 {number}”"
    fields = (str(payload["title"]), at, str(payload["place"]))
    return Rendered("议事会邀请", text, fields, text, then, values={"when": at})


def _meeting_reminder(payload: dict[str, Any]) -> Rendered:
    number, at = payload["number"], when_iso(payload["at"])
    text = (
        f"提醒：议事会 #{number}「{payload['title']}」将于 {at} 在{payload['place']}召开，"
        f"您已回复参加，请准时到场。如临时不能参加，请回复“请假 {number}”。"
    )
    then = f"不能参加请回复“请假 {number}”"
    fields = (str(payload["title"]), at, str(payload["place"]))
    return Rendered("议事会提醒", text, fields, text, then, values={"when": at})


def _meeting_minutes(payload: dict[str, Any]) -> Rendered:
    outcomes = [
        f"#{number}「{title}」：{shorten(str(outcome), 80) if outcome else '（未形成结论）'}"
        for number, title, outcome in payload.get("outcomes") or []
    ]
    lines = "\n".join(outcomes)
    text = (
        f"【议事会纪要】#{payload['number']}「{payload['title']}」\n"
        f"{shorten(str(payload['minutes']), 120)}\n{lines}"
    )
    first = next(iter(payload.get("outcomes") or []), None)
    then = f"回复“议题 {first[0]}”查看进程" if first else ""
    fields = (str(payload["title"]), shorten(str(payload["minutes"]), 20))
    return Rendered("议事会纪要", text, fields, text, then, values={"outcomes": lines})


_MEETINGS: dict[PushKind, Renderer] = {
    pushes.MEETING_INVITED: _meeting_invited,
    pushes.MEETING_REMINDER: _meeting_reminder,
    pushes.MEETING_MINUTES: _meeting_minutes,
}

# -- 表决 · 公示 · 异议 -------------------------------------------------------------------------

_PUBLICITY: dict[PushKind, Renderer] = {}

# -- 落实 · 评议 · 回头看 -----------------------------------------------------------------------

_CARRYING: dict[PushKind, Renderer] = {}


RENDERERS: dict[str, Renderer] = {
    kind.name: renderer
    for table in (_PROPOSALS, _MEETINGS, _PUBLICITY, _CARRYING)
    for kind, renderer in table.items()
}

"""What the 议 cycle's pushes say (议题, 议事会, 公示, 落实, 评议), in Simplified Chinese.

One section per stage, each ending in its table of kinds and renderers; `RENDERERS` joins
them and bot/delivery/templates.py adds them to its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models import pushes
from models.pushes import (
    PUBLICITY_OBJECTION,
    PUBLICITY_OBJECTIONS_DUE,
    PUBLICITY_PUBLISHED,
    PUBLICITY_WITHDRAWN,
    PushKind,
)

from .rendered import Rendered, shorten, when_iso

Renderer = Callable[[dict[str, Any]], Rendered]

# -- 议题: 提议 · 附议 · 立项 ------------------------------------------------------------------

_UNIT_WORDS = {"household": "户", "person": "人"}


def _threshold(payload: dict[str, Any]) -> Rendered:
    unit = _UNIT_WORDS.get(str(payload["unit"]), "户")
    number = payload["number"]
    text = (
        f"【议题附议达到门槛】议题 #{number}「{payload['title']}」已有 "
        f"{payload['backing']} {unit}附议（门槛 {payload['needed']} {unit}），请研究是否立项。\n"
        f"在管理后台“议题”中立项或不予立项，或运行 yishiting agenda accept {number}。"
    )
    then = f"研究议题 #{number} 是否立项"
    fields = (str(payload["title"]), f"{payload['backing']}/{payload['needed']}")
    return Rendered("议题附议达到门槛", text, fields, text, then)


def _accepted(payload: dict[str, Any]) -> Rendered:
    number = payload["number"]
    text = (
        f"您提议或附议的议题 #{number}「{payload['title']}」已立项，列入社区议事议程。"
        f"后续的议事会、表决和落实情况会通知您。回复“议题 {number}”查看进程。"
    )
    then = f"回复“议题 {number}”查看进程"
    return Rendered("议题已立项", text, (str(payload["title"]), "已立项"), text, then)


def _declined(payload: dict[str, Any]) -> Rendered:
    number = payload["number"]
    text = (
        f"您提议或附议的议题 #{number}「{payload['title']}」经社区研究，暂不立项。"
        f"理由：{payload['reason']}\n感谢您的关心，如有其他想法，欢迎再次提议。"
    )
    then = f"回复“议题 {number}”查看详情"
    fields = (str(payload["title"]), "不予立项")
    return Rendered("议题不予立项", text, fields, text, then)


_PROPOSALS: dict[PushKind, Renderer] = {
    pushes.AGENDA_THRESHOLD: _threshold,
    pushes.AGENDA_ACCEPTED: _accepted,
    pushes.AGENDA_DECLINED: _declined,
}

# -- 议事会 -------------------------------------------------------------------------------------

_MEETINGS: dict[PushKind, Renderer] = {}

# -- 表决 · 公示 · 异议 -------------------------------------------------------------------------


def _published(payload: dict[str, Any]) -> Rendered:
    number, until = payload["number"], when_iso(payload.get("until"))
    link = f"\n全文：{payload['url']}" if payload.get("url") else ""
    text = (
        f"【公示】议题 #{number}「{payload['title']}」的决定：{payload['decision']}\n"
        f"公示期至 {until}。{link}\n"
        f"如有不同意见，请在公示期内回复“异议 {number} 理由”，如：异议 {number} 位置离住户太近"
    )
    fields = (f"#{number} {shorten(str(payload['title']), 16)}", until)
    then = f"有意见回复“异议 {number} 理由”"
    return Rendered("议题决定公示", text, fields, text, then, values={"until": until})


def _objection(payload: dict[str, Any]) -> Rendered:
    number = payload["number"]
    text = (
        f"议题 #{number}「{payload['title']}」收到一条异议：{payload['text']}\n"
        f"公示期至 {when_iso(payload.get('until'))}。请在管理后台查看，期满后确认或撤回决定。"
    )
    fields = (f"#{number}", shorten(str(payload["text"]), 20))
    return Rendered("公示异议", text, fields, text, "到管理后台查看异议")


def _objections_due(payload: dict[str, Any]) -> Rendered:
    number = payload["number"]
    text = (
        f"议题 #{number}「{payload['title']}」公示期已满，共收到 {payload['objections']} 条异议。"
        f"请在管理后台确认或撤回决定（yishiting agenda confirm|withdraw {number}）。"
    )
    fields = (f"#{number}", f"{payload['objections']} 条异议")
    return Rendered("公示期满待处理", text, fields, text, "确认或撤回决定")


def _withdrawn(payload: dict[str, Any]) -> Rendered:
    number = payload["number"]
    text = f"议题 #{number}「{payload['title']}」已撤回，决定不再执行。原因：{payload['reason']}"
    fields = (
        f"#{number} {shorten(str(payload['title']), 16)}",
        shorten(str(payload["reason"]), 20),
    )
    return Rendered("议题决定撤回", text, fields, text)


_PUBLICITY: dict[PushKind, Renderer] = {
    PUBLICITY_PUBLISHED: _published,
    PUBLICITY_OBJECTION: _objection,
    PUBLICITY_OBJECTIONS_DUE: _objections_due,
    PUBLICITY_WITHDRAWN: _withdrawn,
}

# -- 落实 · 评议 · 回头看 -----------------------------------------------------------------------

_CARRYING: dict[PushKind, Renderer] = {}


RENDERERS: dict[str, Renderer] = {
    kind.name: renderer
    for table in (_PROPOSALS, _MEETINGS, _PUBLICITY, _CARRYING)
    for kind, renderer in table.items()
}

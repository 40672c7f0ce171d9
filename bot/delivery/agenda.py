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


def _item(payload: dict[str, Any]) -> str:
    return f"议题 #{payload['number']}「{payload['title']}」"


def _assigned(payload: dict[str, Any]) -> Rendered:
    party = payload.get("party")
    who = f"由{party}实施，请您负责督促落实" if party else "请您负责落实"
    step = f"回复“进展 {payload['number']} 内容”报告进展"
    lines = [f"【落实任务】{_item(payload)}"]
    if payload["decision"]:
        lines.append(f"决定：{shorten(str(payload['decision']), 200)}")
    lines.append(f"{who}，期限 {when_iso(payload['due_at'])}。")
    lines.append(f"{step}；完成后回复“完成 {payload['number']} 结果”。")
    fields = (f"#{payload['number']}", str(payload["title"]), when_iso(payload["due_at"]))
    return Rendered("议题落实任务", "\n".join(lines), fields, step, next_step="回复 进展 或 完成")


def _overdue(payload: dict[str, Any]) -> Rendered:
    text = (
        f"【落实逾期】{_item(payload)}已过期限（{when_iso(payload['due_at'])}）。"
        f"请尽快落实，并回复“进展 {payload['number']} 内容”说明情况；"
        f"逾期未办将上报上级督办。"
    )
    fields = (f"#{payload['number']}", str(payload["title"]), when_iso(payload["due_at"]))
    return Rendered("议题落实逾期", text, fields, text, next_step="回复 进展 说明情况")


def _escalated(payload: dict[str, Any]) -> Rendered:
    owner = payload["owner"] or "负责人"
    if payload.get("party"):
        owner = f"{payload['party']}（{owner}负责）"
    text = (
        f"【落实督办·{payload['level_name']}】{_item(payload)}已过落实期限"
        f"（{when_iso(payload['due_at'])}），负责：{owner}。请督促落实。"
    )
    fields = (f"#{payload['number']}", str(payload["title"]), when_iso(payload["due_at"]))
    return Rendered("议题落实督办", text, fields, text, next_step="请督促落实")


def _progress(payload: dict[str, Any]) -> Rendered:
    text = f"【落实进展】{_item(payload)}：{payload['text']}"
    fields = (f"#{payload['number']}", str(payload["title"]), shorten(str(payload["text"]), 20))
    step = f"回复“议题 {payload['number']}”查看详情"
    return Rendered("议题落实进展", text, fields, step, next_step="回复 议题 编号 查看")


def _rate(payload: dict[str, Any]) -> Rendered:
    text = (
        f"【落实完成】{_item(payload)}已落实：{payload['result']}\n"
        "您对落实结果满意吗？请回复数字：1 满意  2 基本满意  3 不满意"
    )
    fields = (f"#{payload['number']}", str(payload["title"]), shorten(str(payload["result"]), 20))
    return Rendered(
        "议题落实完成", text, fields, "请回复 1、2 或 3 评议", next_step="回复 1/2/3 评议"
    )


def _review(payload: dict[str, Any]) -> Rendered:
    text = (
        f"【回头看】{_item(payload)}落实（{shorten(str(payload['result']), 60)}）已有一段时间，"
        "现在情况如何？请回复数字：1 仍在落实、效果良好  2 没有坚持、出现反复"
        "（可在数字后写下具体情况）"
    )
    fields = (f"#{payload['number']}", str(payload["title"]), shorten(str(payload["result"]), 20))
    return Rendered("议题回头看", text, fields, "请回复 1 或 2", next_step="回复 1 或 2")


_CARRYING: dict[PushKind, Renderer] = {
    pushes.AGENDA_ASSIGNED: _assigned,
    pushes.AGENDA_OVERDUE: _overdue,
    pushes.AGENDA_ESCALATED: _escalated,
    pushes.AGENDA_PROGRESS: _progress,
    pushes.AGENDA_RATE: _rate,
    pushes.AGENDA_REVIEW: _review,
}


RENDERERS: dict[str, Renderer] = {
    kind.name: renderer
    for table in (_PROPOSALS, _MEETINGS, _PUBLICITY, _CARRYING)
    for kind, renderer in table.items()
}

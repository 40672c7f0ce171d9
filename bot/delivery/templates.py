"""What a push says: every pushed text, in Simplified Chinese, rendered from a row's payload.

An outbox row holds ids and values; the words are chosen here when the push is sent, so a
wording change reaches pushes already queued. Each kind renders to a `Rendered`: the text for
a customer-service, WeCom or console message (and for the top of a passive reply), the title
and fields for a legacy keyword template (`first`, `keyword1` … `remark`), and the named parts
a typed template's fields are filled from (`parts`: the payload's values, the `headline` and
the `next_step`; bot/delivery/typed.py). Each kind of models/pushes.py has one renderer, listed
in `RENDERERS` at the end (tests/test_push_kinds.py checks that none is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from models import pushes
from models.pushes import PushKind
from words.addresses import spot_text
from words.channels import HOTLINE, ORDER_NUMBER, order_mark

from . import agenda
from .rendered import Rendered, shorten
from .rendered import when_iso as _when


class UnknownKind(Exception):
    """A row whose kind no template renders: a permanent error, the row goes dead."""


# How held pushes are introduced at the top of a passive reply.
HELD_HEADER = "【您有新消息】"
HELD_MORE = "（还有更多消息，回复任意内容继续查看）"
# Longest text a push carries; the rest is cut (a very long notice or ticket stays whole in
# the database and the console).
MAX_CHARS = 600


def _notice(payload: dict[str, Any]) -> Rendered:
    text = str(payload["text"])
    return Rendered(
        title="社区通知",
        text=f"【社区通知】\n{text}",
        fields=(shorten(text, 20),),
        remark=text,
    )


def _late_reply(payload: dict[str, Any]) -> Rendered:
    """The reply to a message whose handling failed and that staff retried (bot/retry.py)."""
    text = str(payload["text"])
    return Rendered(title="回复", text=text, fields=(shorten(text, 20),), remark=text)


# -- 办·督·评: tickets ------------------------------------------------------------------------

RATE_QUESTION = "请您评价办理结果，回复数字：\n1 满意\n2 基本满意\n3 不满意"
RATE_STEP = "回复1满意 2基本满意 3不满意"
NO_TOPIC = "待分类"


def _ticket_lines(payload: dict[str, Any]) -> list[str]:
    lines = [f"编号：#{payload['number']}", f"类别：{payload.get('topic') or NO_TOPIC}"]
    if payload.get("supporters"):
        lines.append(f"附议：另有 {payload['supporters']} 位居民反映了同样的问题")
    if payload.get("place") or payload.get("spot"):
        lines.append(place_line(payload.get("spot"), payload.get("place"), payload.get("phone")))
    lines.append(f"内容：{shorten(str(payload.get('text', '')), 200)}")
    lines.append(f"办理时限：{_when(payload.get('due_at'))}")
    return lines


def place_line(spot: str | None, home: str | None, phone: str | None = None) -> str:
    """地点：where the problem is — 3号楼（居民住1号楼）when the report named a place other
    than the resident's home, 3号楼 when no home is known, else the home (16-2-501) as ever;
    the resident's masked phone with it."""
    where = spot_text(spot, home)
    return f"地点：{where}（居民电话 {phone}）" if phone else f"地点：{where}"


def order_line(payload: dict[str, Any]) -> str:
    """A platform's work order, first thing staff read: 【12345工单】#12 工单号 GD…，办理时限
    12月7日 18:00 ("" for any other ticket)."""
    mark = order_mark(payload.get("source"))
    if not mark:
        return ""
    number = f" {ORDER_NUMBER} {payload['external_id']}" if payload.get("external_id") else ""
    return f"【{mark}】#{payload['number']}{number}，办理时限 {_when(payload.get('due_at'))}"


def _staff(title: str, footer: str) -> Callable[[dict[str, Any]], Rendered]:
    """A push to the ticket's holder; the footer is what to reply (the next step). A work
    order opens with its mark, number and deadline, and its headline names the platform."""

    def render_it(payload: dict[str, Any]) -> Rendered:
        lines = _ticket_lines(payload)
        order = order_line(payload)
        head = [order] if order else []
        text = "\n".join(
            [*head, f"【{title.format(**payload)}】", *lines, footer.format(**payload)]
        )
        mark = order_mark(payload.get("source"))
        return Rendered(
            title=f"{mark}·{title.format(**payload)}" if mark else title.format(**payload),
            text=text,
            fields=(
                f"#{payload['number']}",
                payload.get("topic") or NO_TOPIC,
                _when(payload.get("due_at")),
            ),
            remark=footer.format(**payload),
            next_step=footer.format(**payload),
        )

    return render_it


_assigned = _staff("新诉求待办", "请回复“接单 {number}”接单。")
_escalated = _staff(
    "逾期升级至{level_name}", "该诉求已超过办理时限，请回复“接单 {number}”接手处理。"
)
_reopened = _staff(
    "诉求重新打开", "居民对办理结果不满意或问题仍在，请回复“接单 {number}”继续处理。"
)
_due_soon = _staff("诉求即将到期", "请在时限前办结：回复“办结 {number} 处理结果”。")
_overdue = _staff("诉求已逾期", "请尽快处理并回复“办结 {number} 处理结果”。")
_unassigned = _staff(
    "诉求{hours}小时无人认领",
    "请回复“接单 {number}”接手，或“转派 {number} 类别或姓名”交给合适的人。",
)


def _resident_note(payload: dict[str, Any]) -> Rendered:
    text = f"【居民补充】#{payload['number']}：{shorten(str(payload['text']), 300)}"
    return Rendered("居民补充说明", text, (f"#{payload['number']}",), text)


def _escalated_away(payload: dict[str, Any]) -> Rendered:
    text = f"您名下的诉求 #{payload['number']} 已逾期，已升级至{payload['level_name']}处理。"
    return Rendered("诉求已升级", text, (f"#{payload['number']}",), text)


def _resident(title: str, body: str, then: str = "") -> Callable[[dict[str, Any]], Rendered]:
    def render_it(payload: dict[str, Any]) -> Rendered:
        text = body.format(**payload)
        fields = (f"#{payload['number']}", title)
        return Rendered(title, text, fields, text, next_step=then.format(**payload))

    return render_it


_accepted = _resident(
    "诉求已受理",
    "您反映的问题 #{number} 已由社区工作人员受理，正在处理中。回复“查询 {number}”查看进度。",
    "回复“查询 {number}”查看进度",
)
_transferred = _resident("诉求已转办", "您反映的问题 #{number} 已转至“{topic}”类别的工作人员办理。")
# `staff remove`: the holder left and a colleague has the ticket now (models/staff_removal.py).
_handed_over = _resident(
    "诉求办理人变更", "您反映的问题 #{number} 已改由社区工作人员{holder}继续办理。"
)
_rejected_here = _resident(
    "诉求已退回",
    "您反映的问题 #{number} 不属于社区居委会的办理范围，已退回。\n说明：{reason}",
)
# A 12345 order sent back is 退单: the hotline dispatches it again to whoever it belongs to.
_rejected_hotline = _resident(
    "12345工单已退单",
    "您通过12345热线反映的问题 #{number} 经社区核实不属于本社区办理范围，"
    "已退回12345热线重新派单，并说明了原因。\n说明：{reason}",
)


def _rejected(payload: dict[str, Any]) -> Rendered:
    if payload.get("source") == HOTLINE:
        return _rejected_hotline(payload)
    return _rejected_here(payload)


_rating_reminder = _resident(
    "请评价办理结果",
    "您反映的问题 #{number} 已办结，还没收到您的评价。\n" + RATE_QUESTION,
    RATE_STEP,
)
_followup = _resident(
    "回头看",
    "回头看：您之前反映的问题 #{number} 已办结一段时间了，问题还有吗？"
    "\n回复数字：\n1 已解决\n2 问题还在",
    "回复1已解决，2问题还在",
)


def _resolved(payload: dict[str, Any]) -> Rendered:
    text = (
        f"您反映的问题 #{payload['number']} 已办结。\n处理结果：{payload['outcome']}\n"
        + RATE_QUESTION
    )
    fields = (f"#{payload['number']}", str(payload["outcome"]))
    return Rendered("诉求已办结", text, fields, text, next_step=RATE_STEP)


# 附议: residents who seconded a ticket are told its outcome too (models/lifecycle.py).
_supported_resolved = _resident(
    "诉求已办结", "您附议的问题 #{number} 已办结。\n处理结果：{outcome}"
)
_supported_rejected = _resident(
    "诉求已退回",
    "您附议的问题 #{number} 不属于社区居委会的办理范围，已退回。\n说明：{reason}",
)


# -- people and places ------------------------------------------------------------------------


def _binding_requested(payload: dict[str, Any]) -> Rendered:
    who = payload.get("person") or "居民"
    text = f"【住户绑定待审核】{who} 申请绑定 {payload['place']}。回复“审核”查看并处理。"
    return Rendered("住户绑定待审核", text, (str(payload["place"]),), text, "回复“审核”查看并处理")


def _binding_approved(payload: dict[str, Any]) -> Rendered:
    text = f"您绑定的住址 {payload['place']} 已通过审核。"
    return Rendered("住址绑定已通过", text, (str(payload["place"]),), text)


def _binding_rejected(payload: dict[str, Any]) -> Rendered:
    text = (
        f"您申请绑定的住址 {payload['place']} 未通过审核。"
        "如有疑问，请联系所在网格的网格员，或重新发送“绑定 楼号-单元-房号”。"
    )
    return Rendered("住址绑定未通过", text, (str(payload["place"]),), text)


# -- 议: polls ----------------------------------------------------------------------------------


def _poll_words(payload: dict[str, Any]) -> dict[str, str]:
    """A poll push's values in words: also the parts a typed template names ({closes},
    {options}, {choices}, {counts}, {leaders}). Rows queued before issue #15 carry these
    words already (a str) and are taken as they are."""
    words: dict[str, str] = {}
    if "closes_at" in payload:
        words["closes"] = _when(payload["closes_at"])
    for name, join in (("options", "\n"), ("choices", "、")):
        value = payload.get(name)
        if isinstance(value, list):
            words[name] = join.join(f"{label} {text}" for label, text in value)
    counts = payload.get("counts")
    if isinstance(counts, list):
        words["counts"] = "\n".join(f"{label} {text}：{n} 票" for label, text, n in counts)
    leaders = payload.get("leaders")
    if isinstance(leaders, list):
        words["leaders"] = "、".join(leaders)
    for name in ("closes", "options", "choices", "counts", "leaders"):
        if isinstance(payload.get(name), str):  # queued before issue #15
            words[name] = payload[name]
    return words


def _household_vote(payload: dict[str, Any]) -> Rendered:
    words = _poll_words(payload)
    text = (
        f"您家中的成员已在投票 #{payload['number']}「{payload['title']}」"
        f"中投票：{words['choices']}。"
        "本次投票按户计票，本户以最后一次投票为准；截止前如需修改，回复“投票 编号 选项”。"
    )
    fields = (f"#{payload['number']}", words["choices"])
    return Rendered("本户投票已更新", text, fields, text, values=words)


def _poll_opened(payload: dict[str, Any]) -> Rendered:
    words = _poll_words(payload)
    text = (
        f"【社区投票】#{payload['number']}「{payload['title']}」开始投票，"
        f"{words['closes']} 截止。\n{words['options']}\n"
        f"回复“投票 {payload['number']} 选项字母”参加，如：投票 {payload['number']} A"
    )
    then = f"回复“投票 {payload['number']} 选项字母”参加"
    fields = (str(payload["title"]), words["closes"])
    return Rendered("社区投票", text, fields, text, then, values=words)


def _poll_reminder(payload: dict[str, Any]) -> Rendered:
    words = _poll_words(payload)
    text = (
        f"提醒：投票 #{payload['number']}「{payload['title']}」将于 {words['closes']} 截止，"
        f"您还没有投票。回复“投票 {payload['number']}”查看选项。"
    )
    then = f"回复“投票 {payload['number']}”查看选项"
    fields = (str(payload["title"]), words["closes"])
    return Rendered("投票提醒", text, fields, text, then, values=words)


def _poll_result(payload: dict[str, Any]) -> Rendered:
    words = _poll_words(payload)
    if payload.get("tie"):
        verdict = f"结果：{words['leaders']} 票数相同（平票）。"
    elif words.get("leaders"):
        verdict = f"领先：{words['leaders']}。"
    else:
        verdict = "本次无人投票。"
    if not payload.get("quorum_met"):
        verdict += "参与人数未达到法定比例。"
    text = (
        f"投票 #{payload['number']}「{payload['title']}」已截止，感谢参与！\n"
        f"{words['counts']}\n{verdict}\n社区将据此形成决议并公布。"
    )
    fields = (str(payload["title"]), verdict)
    return Rendered("投票结果", text, fields, text, values=words)


def _poll_decision(payload: dict[str, Any]) -> Rendered:
    text = f"投票 #{payload['number']}「{payload['title']}」的决议：{payload['decision']}"
    return Rendered("投票决议", text, (str(payload["title"]),), text)


def _poll_followup(payload: dict[str, Any]) -> Rendered:
    text = (
        f"回头看：投票 #{payload['number']}「{payload['title']}」的决议"
        f"（{shorten(str(payload['decision']), 60)}）落实了吗？"
        "如有意见或问题，直接回复文字告诉我们，我们会转给社区工作人员。"
    )
    return Rendered("投票决议回头看", text, (str(payload["title"]),), text)


def _digest(payload: dict[str, Any]) -> Rendered:
    lines = [
        f"【今日待办 {payload['date']}】您有 {payload['open']} 件诉求在办，"
        f"其中 {payload['overdue']} 件已逾期。"
    ]
    for item in payload.get("tickets", []):
        late = "（已逾期）" if item.get("overdue") else ""
        topic = item.get("topic") or NO_TOPIC
        mark = order_mark(item.get("source"))
        order = f"【{mark}】" if mark else ""
        lines.append(f"#{item['number']} {order}{topic} 时限 {_when(item.get('due_at'))}{late}")
    lines.append("回复“待办”查看全部。")
    text = "\n".join(lines)
    fields = (str(payload["date"]), str(payload["open"]))
    return Rendered("今日待办", text, fields, text, "回复“待办”查看全部")


Renderer = Callable[[dict[str, Any]], Rendered]


def _table(renderers: dict[PushKind, Renderer]) -> dict[str, Renderer]:
    """Each kind of models/pushes.py and the function that puts it in words, by kind name
    (an outbox row holds the name)."""
    return {kind.name: renderer for kind, renderer in renderers.items()}


RENDERERS = _table(
    {
        pushes.NOTICE: _notice,
        pushes.NOTICE_MASS: _notice,
        pushes.INBOUND_REPLY: _late_reply,
        pushes.TICKET_ASSIGNED: _assigned,
        pushes.TICKET_ESCALATED: _escalated,
        pushes.TICKET_REOPENED: _reopened,
        pushes.TICKET_DUE_SOON: _due_soon,
        pushes.TICKET_OVERDUE: _overdue,
        pushes.TICKET_UNASSIGNED: _unassigned,
        pushes.TICKET_RESIDENT_NOTE: _resident_note,
        pushes.TICKET_ESCALATED_AWAY: _escalated_away,
        pushes.TICKET_ACCEPTED: _accepted,
        pushes.TICKET_TRANSFERRED: _transferred,
        pushes.TICKET_HANDED_OVER: _handed_over,
        pushes.TICKET_REJECTED: _rejected,
        pushes.TICKET_RESOLVED: _resolved,
        pushes.TICKET_SUPPORTED_RESOLVED: _supported_resolved,
        pushes.TICKET_SUPPORTED_REJECTED: _supported_rejected,
        pushes.TICKET_RATING_REMINDER: _rating_reminder,
        pushes.TICKET_FOLLOWUP: _followup,
        pushes.BINDING_REQUESTED: _binding_requested,
        pushes.BINDING_APPROVED: _binding_approved,
        pushes.BINDING_REJECTED: _binding_rejected,
        pushes.POLL_HOUSEHOLD_VOTE: _household_vote,
        pushes.POLL_OPENED: _poll_opened,
        pushes.POLL_REMINDER: _poll_reminder,
        pushes.POLL_RESULT: _poll_result,
        pushes.POLL_DECISION: _poll_decision,
        pushes.POLL_FOLLOWUP: _poll_followup,
        pushes.STAFF_DIGEST: _digest,
    }
)
RENDERERS.update(agenda.RENDERERS)  # the 议 cycle's (bot/delivery/agenda.py)


def render(kind: str | PushKind, payload: dict[str, Any]) -> Rendered:
    kind = kind if isinstance(kind, str) else kind.name
    try:
        renderer = RENDERERS[kind]
    except KeyError:
        raise UnknownKind(f"no template for push kind {kind!r}") from None
    try:
        rendered = renderer(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownKind(f"push kind {kind!r}: payload cannot be rendered ({exc!r})") from None
    parts: dict[str, str | datetime] = {
        **_parts(payload),
        **rendered.values,
        "headline": rendered.title,
        "next_step": rendered.next_step,
    }
    return replace(rendered, text=shorten(rendered.text, MAX_CHARS), parts=parts)


def _parts(payload: dict[str, Any]) -> dict[str, str | datetime]:
    """The payload's plain values by name, for typed template fields: None is "", and a
    `…_at` value (ISO 8601 by the models' habit) a datetime, formatted per field later."""
    parts: dict[str, str | datetime] = {}
    for name, value in payload.items():
        if value is None:
            parts[name] = ""
        elif isinstance(value, str) and name.endswith("_at"):
            try:
                parts[name] = datetime.fromisoformat(value)
            except ValueError:
                parts[name] = value
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            parts[name] = str(value)
    return parts


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

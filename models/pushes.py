"""Every kind of push, declared once: its name, its dedupe key's parts and its payload's fields.

A domain operation makes a push with `KIND.push(person_id, **values)`: the values named by
the kind's fields make the payload (ids and values, never rendered text: the words are chosen
by the kind's renderer in bot/delivery/templates.py when the push is sent), and the key is
built from the kind's key template, so two events never share a key and a job that runs
again makes the same key (the outbox keeps the first row). `{to}` in a key is the recipient.

Key parts are formatted as `str.format` does, plus two specs for moments: `{now:stamp6}` is
the POSIX timestamp with six decimals, `{now:stamp}` the float as Python prints it. Keys of
rows already queued must stay byte-identical: tests/test_push_kinds.py pins each shape.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from .outbox import Push

# Sample values, named once: the registry's guard test renders every kind from them.
_AT = "2026-12-06T18:00:00+08:00"
_TICKET: dict[str, Any] = {"ticket": 3, "number": 12}
_POLL: dict[str, Any] = {"poll": 2, "number": 5, "title": "1号楼前道路重铺"}
_AGENDA: dict[str, Any] = {"agenda": 4, "number": 7, "title": "北门空地增加一组健身器材"}


class Audience(StrEnum):
    """Who a kind is for; a typed template or subscription notice can carry a person's push,
    never a broadcast (it goes by WeChat's mass send)."""

    RESIDENT = "resident"
    STAFF = "staff"
    BROADCAST = "broadcast"


@dataclass(frozen=True, eq=False)
class PushKind:
    """One kind of push. `fields` and `optional` name the payload's values (with a sample
    each); `key` is the dedupe key's template after the name; `variants` are other key
    templates for the same kind sent for a different reason (`push_variant`)."""

    name: str
    audience: Audience
    key: str
    fields: Mapping[str, Any]
    optional: Mapping[str, Any] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)

    def push(self, person_id: int | None, /, **values: Any) -> Push:
        """The push of this kind for `person_id`; TypeError names a missing or unknown value."""
        return self._make(self.key, person_id, values)

    def push_variant(self, variant: str, person_id: int | None, /, **values: Any) -> Push:
        """The push keyed by one of the kind's `variants` (another reason to send it)."""
        return self._make(self.variants[variant], person_id, values)

    def _make(self, template: str, person_id: int | None, values: dict[str, Any]) -> Push:
        plain, stamps = _compiled(template)
        missing = self.fields.keys() - values.keys()
        unknown = values.keys() - self.fields.keys() - self.optional.keys() - key_parts(template)
        if missing or unknown:
            raise TypeError(
                f"push {self.name}: missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        payload = {n: v for n, v in values.items() if n in self.fields or n in self.optional}
        parts = {**values, "to": person_id}
        for name, spec in stamps.items():
            stamp = parts[name].timestamp()
            parts[name] = f"{stamp:.6f}" if spec == "stamp6" else str(stamp)
        return Push(self.name, person_id, payload, f"{self.name}:{plain.format_map(parts)}")

    def sample(self) -> dict[str, Any]:
        """A payload with every field, for tests and for checking template mappings."""
        return {**self.fields, **self.optional}

    def __repr__(self) -> str:
        return f"PushKind({self.name!r})"


@cache  # a handful of templates, parsed on the filing path's every push otherwise
def key_parts(template: str) -> frozenset[str]:
    """The names a key template uses ("{ticket}:{now:stamp6}" -> ticket, now)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@cache
def _compiled(template: str) -> tuple[str, dict[str, str]]:
    """The template without its stamp specs, and which parts are stamps of what kind."""
    plain, stamps = [], {}
    for text, name, spec, _ in string.Formatter().parse(template):
        plain.append(text.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if spec in ("stamp", "stamp6"):
            stamps[name] = spec
            spec = ""
        plain.append(f"{{{name}:{spec}}}" if spec else f"{{{name}}}")
    return "".join(plain), stamps


KINDS: dict[str, PushKind] = {}


def _kind(
    name: str,
    audience: Audience,
    key: str,
    fields: Mapping[str, Any],
    optional: Mapping[str, Any] | None = None,
    variants: Mapping[str, str] | None = None,
) -> PushKind:
    kind = PushKind(name, audience, key, fields, optional or {}, variants or {})
    assert name not in KINDS, f"push kind {name} declared twice"
    KINDS[name] = kind
    return kind


def kind_named(name: str) -> PushKind | None:
    return KINDS.get(name)


R, S = Audience.RESIDENT, Audience.STAFF

# -- announcements and late replies -------------------------------------------------------------

NOTICE = _kind("notice", R, "{announcement}:{to}", {"announcement": 1, "text": "明天停水"})
# A mass send goes through one account (its followers' openids are that account's): `account`
# is its [[accounts]] name, absent for the first (or legacy) account, and part of `chunk`.
NOTICE_MASS = _kind(
    "notice.mass",
    Audience.BROADCAST,
    "{announcement}:{chunk}",
    {"announcement": 1, "text": "明天停水", "openids": ["o-1", "o-2"]},
    {"account": "east"},
)
# The reply to a message whose handling failed and that staff retried (bot/retry.py): the
# reply the conversation gave, whole; the key is the inbound message's own dedupe key.
INBOUND_REPLY = _kind("inbound.reply", R, "{receipt}", {"text": "已收到您的反映"})

# -- 办·督: to the ticket's holder (the cause and moment in `event`, e.g. "filed",
# "reassigned:1765000000.000000", "due:2026-12-06 10:00:00+00:00") ---------------------------

_STAFF_TICKET: dict[str, Any] = {
    **_TICKET,
    "topic": "噪音扰民",
    "place": "1号楼2单元",
    "phone": "138****0000",
    "text": "楼下装修太吵",
    "due_at": _AT,
}
# A city platform's work order (channel "api"): its platform ("12345", "grid", …) and its own
# order number, shown with the ticket (【12345工单】); absent for every other ticket, so their
# payloads and keys are as before.
_ORDER: dict[str, Any] = {"source": "12345", "external_id": "GD2026120600123"}
# Where the problem is when the report named a place other than the home (Ticket.spot):
# shown as 地点：3号楼（居民住1号楼）.
_MORE = {"supporters": 2, **_ORDER, "spot": "3号楼"}
_HOLDER = "{ticket}:{event}:{to}"

TICKET_ASSIGNED = _kind("ticket.assigned", S, _HOLDER, _STAFF_TICKET, _MORE)
TICKET_ESCALATED = _kind(
    "ticket.escalated", S, _HOLDER, {**_STAFF_TICKET, "level_name": "街道"}, _MORE
)
TICKET_REOPENED = _kind(
    "ticket.reopened",
    S,
    _HOLDER,
    {**_TICKET, "topic": "噪音扰民", "text": "楼下装修太吵"},
    {k: _STAFF_TICKET[k] for k in ("place", "phone", "due_at")} | _MORE | {"supervisor": True},
    variants={"supervisor": "{ticket}:{now:stamp6}:supervisor"},
)
TICKET_DUE_SOON = _kind("ticket.due_soon", S, _HOLDER, _STAFF_TICKET, _MORE)
TICKET_OVERDUE = _kind("ticket.overdue", S, _HOLDER, _STAFF_TICKET, _MORE)
TICKET_UNASSIGNED = _kind("ticket.unassigned", S, _HOLDER, {**_STAFF_TICKET, "hours": "24"}, _MORE)
TICKET_RESIDENT_NOTE = _kind(
    "ticket.resident_note", S, "{ticket}:{now:stamp6}", {**_TICKET, "text": "还是很吵"}
)
TICKET_ESCALATED_AWAY = _kind(
    "ticket.escalated_away", S, "{ticket}:{level}", {**_TICKET, "level_name": "街道"}
)

# -- 办·评: to the resident who filed it (and to those who seconded it, 附议) --------------------

_RESIDENT = "{ticket}:{now:stamp6}"
_OUTCOME = {"outcome": "已协调施工方调整时间", "resolved_at": _AT}

TICKET_ACCEPTED = _kind("ticket.accepted", R, _RESIDENT, _TICKET)
TICKET_TRANSFERRED = _kind("ticket.transferred", R, _RESIDENT, {**_TICKET, "topic": "物业服务"})
TICKET_HANDED_OVER = _kind("ticket.handed_over", R, _RESIDENT, {**_TICKET, "holder": "王芳"})
# `source`: the order's platform, for a work order (a 12345 order's 退回 is 退单).
TICKET_REJECTED = _kind(
    "ticket.rejected", R, _RESIDENT, {**_TICKET, "reason": "属于物业合同纠纷"}, {"source": "12345"}
)
TICKET_RESOLVED = _kind(
    "ticket.resolved", R, _RESIDENT, {**_TICKET, "topic": "噪音扰民", **_OUTCOME}
)
TICKET_SUPPORTED_RESOLVED = _kind(
    "ticket.supported_resolved", R, "{ticket}:{to}:{now:stamp6}", {**_TICKET, **_OUTCOME}
)
TICKET_SUPPORTED_REJECTED = _kind(
    "ticket.supported_rejected",
    R,
    "{ticket}:{to}:{now:stamp6}",
    {**_TICKET, "reason": "属于物业合同纠纷"},
)
# The sweeps' (models/sweeps/): keyed by the moment the question became due.
TICKET_RATING_REMINDER = _kind("ticket.rating_reminder", R, "{ticket}:{asked_at}", _TICKET)
TICKET_FOLLOWUP = _kind("ticket.followup", R, "{ticket}:{due_at}", _TICKET)

# -- people and places --------------------------------------------------------------------------

_PLACE = {"place": "1号楼-2-301"}
BINDING_REQUESTED = _kind(
    "binding.requested",
    S,
    "{binding}:{now:stamp}",
    {"person": "张三", **_PLACE, "phone": "138****0000", "binding": 4},
)
BINDING_APPROVED = _kind("binding.approved", R, "{binding}:{now:stamp}", _PLACE)
BINDING_REJECTED = _kind("binding.rejected", R, "{binding}:{now:stamp}", _PLACE)

# -- 议: polls (options are (label, text) pairs; the text is what the admin wrote) --------------

_OPTIONS = [["A", "同意"], ["B", "不同意"]]
POLL_HOUSEHOLD_VOTE = _kind(
    "poll.household_vote", R, "{poll}:{to}:{now:stamp6}", {**_POLL, "choices": [["A", "同意"]]}
)
POLL_OPENED = _kind(
    "poll.opened", R, "{poll}:{to}", {**_POLL, "options": _OPTIONS, "closes_at": _AT}
)
POLL_REMINDER = _kind("poll.reminder", R, "{poll}:{to}", {**_POLL, "closes_at": _AT})
POLL_RESULT = _kind(
    "poll.result",
    R,
    "{poll}:{to}",
    {
        **_POLL,
        "counts": [["A", "同意", 3], ["B", "不同意", 1]],
        "tie": False,
        "leaders": ["A"],
        "quorum_met": True,
    },
)
POLL_DECISION = _kind("poll.decision", R, "{poll}:{to}", {**_POLL, "decision": "下月开工"})
POLL_FOLLOWUP = _kind("poll.followup", R, "{poll}:{to}", {**_POLL, "decision": "下月开工"})

# -- 议题: 提议 · 附议 · 立项 (models/proposals.py) ----------------------------------------------

# To the community's admins, once: the backing reached [deliberation] backing_threshold.
AGENDA_THRESHOLD = _kind(
    "agenda.threshold",
    S,
    "{agenda}:{to}",
    {**_AGENDA, "backing": 10, "needed": 10, "unit": "household"},
)
# To the proposer and every backer: 立项, or 不予立项 with the reason as the admin wrote it.
AGENDA_ACCEPTED = _kind("agenda.accepted", R, "{agenda}:{to}", _AGENDA)
AGENDA_DECLINED = _kind(
    "agenda.declined", R, "{agenda}:{to}", {**_AGENDA, "reason": "该空地属于消防通道"}
)

# -- 议事会 (models/meetings.py) ---------------------------------------------------------------

_MEETING: dict[str, Any] = {"meeting": 4, "number": 2, "title": "北门空地议事会"}
_MEETING_AT = {**_MEETING, "at": "2026-12-10T19:00:00+08:00", "place": "社区活动室"}
MEETING_INVITED = _kind(
    "meeting.invited", R, "{meeting}:{to}", {**_MEETING_AT, "agenda": [[3, "北门增加健身器材"]]}
)
MEETING_REMINDER = _kind("meeting.reminder", R, "{meeting}:{to}", _MEETING_AT)
MEETING_MINUTES = _kind(
    "meeting.minutes",
    R,
    "{meeting}:{to}",
    {
        **_MEETING,
        "minutes": "到会居民代表十二人，逐项协商。",
        "outcomes": [[3, "北门增加健身器材", "达成共识：在北门空地安装一组健身器材"]],
    },
)


# -- 表决 · 公示 · 异议 (models/publicity.py) ----------------------------------------------------

# To every resident in scope: the decision, the period's end, the public page (None: no
# [app] public_url to link to). One per item and person: an item is published once.
PUBLICITY_PUBLISHED = _kind(
    "publicity.published",
    R,
    "{agenda}:{to}",
    {**_AGENDA, "decision": "同意在北门空地安装健身器材", "until": _AT, "url": "https://x/p/t"},
)
# To the community's admins: one 异议 as written.
PUBLICITY_OBJECTION = _kind(
    "publicity.objection",
    S,
    "{agenda}:{objection}:{to}",
    {**_AGENDA, "objection": 7, "text": "器材离住户太近，晚上会吵", "until": _AT},
)
# To the admins when the period ended with objections: confirm or withdraw (once).
PUBLICITY_OBJECTIONS_DUE = _kind(
    "publicity.objections_due", S, "{agenda}:{to}", {**_AGENDA, "objections": 2}
)
# To the people told of the item: the decision (or the item) is withdrawn, and why.
PUBLICITY_WITHDRAWN = _kind(
    "publicity.withdrawn", R, "{agenda}:{to}", {**_AGENDA, "reason": "选址需重新论证"}
)


# -- 落实 · 评议 · 回头看 (models/carrying.py) ---------------------------------------------------

# To the staff member answerable (the owner, or the one answering for an outside party) and,
# when it is late, up the ladder; `event` names the timeline line that caused it
# ("assigned:41", "overdue:2:2026-12-20T23:59:00+08:00"), so each event pushes once.
_CARRY_STAFF = "{agenda}:{event}:{to}"
AGENDA_ASSIGNED = _kind(
    "agenda.assigned",
    S,
    _CARRY_STAFF,
    {**_AGENDA, "decision": "年内安装一组健身器材", "due_at": _AT},
    {"party": "物业公司"},
)
AGENDA_OVERDUE = _kind("agenda.overdue", S, _CARRY_STAFF, {**_AGENDA, "due_at": _AT})
AGENDA_ESCALATED = _kind(
    "agenda.escalated",
    S,
    _CARRY_STAFF,
    {**_AGENDA, "due_at": _AT, "owner": "王芳", "level_name": "社区"},
    {"party": "物业公司"},
)
# To the proposer, backers and voters: a progress report as written (one per report).
AGENDA_PROGRESS = _kind(
    "agenda.progress", R, _CARRY_STAFF, {**_AGENDA, "text": "器材已订购，下周进场"}
)
# To those who took part: done, with the result, and the 评议 question (once per item); the
# 回头看 question `review_days` later (once per item).
AGENDA_RATE = _kind("agenda.rate", R, "{agenda}:{to}", {**_AGENDA, "result": "已安装并验收"})
AGENDA_REVIEW = _kind("agenda.review", R, "{agenda}:{to}", {**_AGENDA, "result": "已安装并验收"})


# -- staff --------------------------------------------------------------------------------------

STAFF_DIGEST = _kind(
    "staff.digest",
    S,
    "{date}:{to}",
    {
        "date": "2026-12-06",
        "open": 2,
        "overdue": 1,
        "tickets": [
            {"number": 12, "topic": "噪音扰民", "due_at": _AT, "overdue": True},
            {"number": 13, "topic": None, "due_at": None, "overdue": False},
            {"number": 14, "topic": "市政设施", "due_at": _AT, "overdue": False, "source": "12345"},
        ],
    },
)

"""议题's words every floor shares: the stages' and timeline events' names, and the one rule of
what free text "reads like a proposal" (the chat's hint to use 提议, tested both ways).

Plain data and a matcher: imports nothing of the project's own but words/.
"""

from __future__ import annotations

import re

from .folding import fold

# What a meeting's minutes write of an item when the meeting decided nothing: sent to a vote
# (提交表决, 提交住户表决, 同意提交表决 …) or put off (暂缓, 下次再议, 搁置). An outcome saying
# any of these is never a 公示's decision; when unsure the admin writes the decision.
UNDECIDED_WORDS = ("表决", "暂缓", "再议", "搁置", "待定")


def decides(outcome: str) -> bool:
    """True when a minutes' outcome, as written, is a decision (a consensus), not a deferral."""
    said = fold(outcome).strip()
    return bool(said) and not any(word in said for word in UNDECIDED_WORDS)


# models/agenda.py STAGES, as residents and admins read them.
STAGE_NAMES: dict[str, str] = {
    "proposed": "待立项",
    "declined": "不予立项",
    "accepted": "已立项",
    "deliberating": "协商中",
    "voting": "表决中",
    "publicised": "公示中",
    "carrying_out": "落实中",
    "done": "已完成",
    "withdrawn": "已撤回",
}

# models/agenda.py EVENTS: one line of an item's timeline.
EVENT_NAMES: dict[str, str] = {
    **STAGE_NAMES,
    "proposed": "提议",
    "declined": "不予立项",
    "accepted": "立项",
    "threshold": "附议达到门槛",
    "meeting": "列入议事会",
    "minutes": "议事会纪要",
    "poll": "发起表决",
    "objection": "异议",
    "confirmed": "确认决定",
    "assigned": "明确落实责任",
    "progress": "落实进展",
    "overdue": "落实逾期",
    "review": "回头看",
}

# Verbs of adding something to the neighbourhood (a proposal's usual ask), after 希望 / 能不能.
_ADD = r"(增加|增设|加装|安装|设置|开设|新建|修建|建一|建个|开辟|配备|配置|添置|开展|组织|举办)"
_PROPOSAL = re.compile(
    # 建议/提议/倡议 opening the message (optionally after 我/我们/本人): a proposal, not a
    # complaint that ends "…建议尽快修".
    r"^(我们?|本人)?(建议|提议|倡议)"
    # 希望(能)增加… / 能不能增设… / 可否加装… anywhere.
    rf"|希望(能|能够|可以)?(在.{{0,12}})?{_ADD}"
    rf"|(能不能|能否|可不可以|可否|是否可以)(在.{{0,12}})?{_ADD}"
    # 我们想… opening the message (我们想在小区里办个…).
    r"|^我们(想|希望|打算)"
)


def reads_like_proposal(text: str) -> bool:
    """True when free text reads like a proposal (建议…, 希望增加…, 能不能增设…, 我们想…)."""
    return _PROPOSAL.search(fold(text).strip()) is not None

"""What the console says about 议事会 and 议事代表 (bot/console/meetings.py, meeting_reps.py)."""

from __future__ import annotations

from typing import Any

from models.meeting_ops import MeetingError

CALLED = "已召开议事会 #{number}「{title}」，邀请已推送给受邀人。"
BAD_TIME = "请填写会议时间，如 2026-12-10 19:00。"
NO_OUTCOME = "议题 #{number} 填写了摘要，请同时填写结论（如：达成共识：……／提交表决／暂缓）。"
MINUTES_FIRST = "已记录议事会 #{number} 的纪要，并推送给受邀人和各议题的附议居民。"
MINUTES_AGAIN = "已更正议事会 #{number} 的纪要。居民已收到之前的纪要，更正后不会再次推送。"
STAGE_NAMES = {
    "proposed": "待立项",
    "declined": "不予立项",
    "done": "已完成",
    "withdrawn": "已撤回",
    "publicised": "公示中",
    "carrying_out": "落实中",
}

REASONS = {
    "title": "会议名称须为 1 到 {limit} 个字。",
    "place": "会议地点须为 1 到 {limit} 个字。",
    "invite": "邀请范围填写有误：{part}。",
    "invite_long": "邀请范围太长（最多 {limit} 个字）。",
    "past": "会议时间已过，请选择将来的时间。",
    "no_agenda": "请至少选择一个已立项的议题。",
    "unknown_item": "没有议题 #{number}。",
    "street_item": "议题 #{number} 是街道的议题，只能由街道召开议事会。",
    "item_stage": "议题 #{number} 目前{stage}，只有已立项（或协商中、表决中）的议题可以上会。",
    "mixed_items": "所选议题属于不同社区，请每个社区分别召开议事会。",
    "places": "邀请的网格或楼栋有误：{message}",
    "not_held": "议事会 #{number} 还没有召开，会后再记录纪要。",
    "no_attendees": "请填写参会人员。",
    "no_text": "请填写纪要内容。",
    "not_on_agenda": "议题 #{number} 不在本次议事会的议程中。",
}
NO_INVITE = "请选择邀请范围（议事代表、全体居民、网格或楼栋）。"

REP_ADDED = "已将 {who} 列为议事代表。"
REP_ALREADY = "{who} 已经是议事代表。"
REP_REMOVED = "已将 {who} 移出议事代表名单。"
REP_NOT_LISTED = "{who} 不是议事代表。"
REP_REFUSED = {
    "nobody": (
        "没有找到“{who}”：请填写居民的 openid、绑定时留的手机号，"
        "或只有一位居民绑定的门牌（如 16-2-501）。"
    ),
    "several": "“{who}”对应 {count} 位居民，请改用 openid 或手机号指明是哪一位。",
    "bad": "请填写居民的 openid、手机号或门牌（如 16-2-501）。",
}


def refusal(exc: MeetingError) -> str:
    details: dict[str, Any] = dict(exc.details)
    if exc.reason == "item_stage":
        stage = str(details.get("stage", ""))
        details["stage"] = "为" + STAGE_NAMES.get(stage, stage)
    if exc.reason == "invite" and not details.get("part"):
        return NO_INVITE
    return REASONS.get(exc.reason, exc.reason).format(**details)

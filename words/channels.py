"""How a ticket came in, as staff read it, and what staff filing for a resident are told.

Shared by the console's 代居民登记 form and `yishiting tickets file` (which prints the
Chinese line with its English beside it for admins).
"""

from __future__ import annotations

CHANNEL_NAMES = {
    "wechat": "微信",
    "phone": "电话",
    "visit": "来访",
    "patrol": "巡查",
    "api": "平台",
}

# What is wrong with an on-behalf filing (models/onbehalf.py OnBehalfError.reason):
# (Chinese for staff, English for the CLI's admins).
ON_BEHALF_ERRORS = {
    "bad_channel": (
        "登记渠道应为 电话、来访 或 巡查",
        "the channel must be phone, visit or patrol",
    ),
    "empty_text": ("请填写居民反映的内容", "the text is empty"),
    "bad_phone": (
        "电话号码应为 5 到 20 位数字（可带 - 或 +86）",
        "the phone must be 5 to 20 digits (- and +86 allowed)",
    ),
    "no_contact": (
        "电话或来访登记须留居民电话（或其微信 openid），以便回访",
        "a phone or visit report needs the resident's phone (or openid) for the call back",
    ),
    "unknown_building": ("没有这栋楼：{value}", "no building named {value!r}"),
    "unknown_openid": ("没有这位居民（openid {value}）", "no person with openid {value!r}"),
    "not_staff": (
        "只有工作人员可以代居民登记：{value}",
        "only staff may file for a resident: {value!r} is not staff",
    ),
}

# 电话回访: a ticket whose resident the account cannot reach; staff call and record it.
CALLBACK = "电话回访"
CALLBACK_RESULTS = {
    "1": "满意",
    "2": "基本满意",
    "3": "不满意",
    "none": "未接通",
}

# -- work orders from city platforms (channel "api"; models/api/orders.py) ---------------------

HOTLINE = "12345"  # the city hotline's source name (models/api/orders.py HOTLINE)
GRID = "grid"  # a grid platform (网格化管理平台)

# How staff see a platform's work order: 【12345工单】, 【网格平台工单】, else 【平台工单】.
ORDER_MARKS = {HOTLINE: "12345工单", GRID: "网格平台工单"}
OTHER_ORDER_MARK = "平台工单"
ORDER_NUMBER = "工单号"

# KPIs and the console's filter split tickets by where they came from (the lead's groups).
SOURCE_GROUPS = {
    "wechat": "微信",
    "12345": "12345",
    "on_behalf": "代居民登记",
    "grid": "网格平台",
    "other": "其他平台",
}
ON_BEHALF_CHANNELS = ("phone", "visit", "patrol")


def order_mark(source: str | None) -> str:
    """The mark of a platform's work order (without brackets), "" for any other ticket."""
    if not source:
        return ""
    return ORDER_MARKS.get(source, OTHER_ORDER_MARK)


# What a 退回 of a work order is called to its platform (webhook data.result): the hotline's
# is 退单 (不属于本社区, sent back for 12345 to dispatch again).
REJECTED_RESULTS = {HOTLINE: "退单"}
OTHER_REJECTED_RESULT = "退回"


def rejected_result(source: str | None) -> str:
    """data.result of a ticket.rejected delivery: 退单 for a 12345 order, else 退回."""
    return REJECTED_RESULTS.get(source or "", OTHER_REJECTED_RESULT)


def source_group(channel: str, source: str | None) -> str:
    """The KPI group (a SOURCE_GROUPS key) of a ticket filed by `channel` from `source`."""
    if channel == "api":
        if source == HOTLINE:
            return "12345"
        return "grid" if source == GRID else "other"
    return "on_behalf" if channel in ON_BEHALF_CHANNELS else "wechat"


# The street dashboard's 12345 table and its XLSX sheet (models/kpi_hotline.py's rates).
HOTLINE_SHEET = "12345三率"
HOTLINE_HEADERS = ("社区", "12345工单", "退单", "响应率", "解决率", "满意率")
HOTLINE_TOTAL = "全街道"

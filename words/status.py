"""The names residents, staff and admins read for a ticket's statuses and staff actions."""

from __future__ import annotations

STATUS_NAMES = {
    "new": "待受理",
    "accepted": "已受理",
    "in_progress": "处理中",
    "resolved": "已办结",
    "closed": "已关闭",
    "reopened": "重新办理",
    "rejected": "不予受理",
    "escalated": "已升级督办",
}

ACTION_NAMES = {
    "accept": "接单",
    "progress": "添加备注",
    "resolve": "办结",
    "reject": "退回",
    "reassign": "转派",
    "close": "关闭",
    "reopen": "重新打开",
    "callback": "电话回访",
}

"""The Chinese the 居民与网格, 控制台账号 and 待发消息 pages say in flash messages and labels."""

from __future__ import annotations

from models.staff import LEVEL_COMMUNITY, LEVEL_STAFF, LEVEL_STREET

LEVEL_LABELS = {
    LEVEL_STAFF: "一级 · 工作人员",
    LEVEL_COMMUNITY: "二级 · 社区主管",
    LEVEL_STREET: "三级 · 街道联系人",
}
ROLE_LABELS = {"admin": "管理员", "staff": "工作人员", "viewer": "只读"}
OUTBOX_STATUS_LABELS = {
    "dead": "发送失败",
    "held": "等待回复",
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "cancelled": "已取消",
}

APPROVED = "已通过 {place} 的住址绑定，居民会收到通知。"
REJECTED = "已驳回 {place} 的住址绑定，居民会收到通知。"
BINDING_GONE = "这条绑定申请已被处理或已变更，请刷新页面后再看。"
NEEDS_LINK = "您的后台账号还没有关联微信身份，请管理员先在“后台账号”里关联后再审核。"
NOT_STAFF = "您账号关联的微信身份已不是社区工作人员，不能审核。"
NOT_YOUR_GRID = "这户不在您负责的网格内，请由该网格的网格员或社区主管审核。"

STAFF_SAVED = "已保存 {name} 的分工。"
NAME_REQUIRED = "请填写姓名（不超过 32 个字）。"
LEVEL_INVALID = "请选择有效的级别。"
TOPIC_UNKNOWN = "没有名为“{name}”的分类，请刷新页面后重试。"
GRID_UNKNOWN = "没有名为“{name}”的网格，请刷新页面后重试。"
WECOM_INVALID = "企业微信账号不超过 64 个字符，且不含空格。"
DAYS_INVALID = "有效天数须为 1–90 之间的整数。"

USERNAME_INVALID = "用户名须为 1–64 个字符，且不含空格。"
USERNAME_TAKEN = "用户名“{name}”已被使用。"
PASSWORD_SHORT = "密码至少 8 个字符（不超过 256 个）。"
ROLE_INVALID = "请选择有效的角色。"
STAFF_LINK_INVALID = "请选择一位工作人员，或选择“不关联”。"
ACCOUNT_UNKNOWN = "没有这个账号。"
ACCOUNT_CREATED = "已创建账号 {name}（{role}）。"
ROLE_CHANGED = "已将 {name} 的角色改为{role}。"
LAST_ADMIN = "至少要保留一个管理员账号，不能修改最后一个管理员的角色。"
LINKED = "已将账号 {name} 关联到工作人员 {person}，此后在后台的操作记在其名下。"
UNLINKED = "已取消账号 {name} 与工作人员的关联。"
STREET_ACCOUNT = "街道（全部社区）"
COMMUNITY_INVALID = "请选择有效的社区。"
COMMUNITY_CHANGED = "已将账号 {name} 改为{community}的账号。"

RETRIED_ONE = "已将第 {id} 条消息重新放回发送队列。"
RETRIED_NONE = "第 {id} 条消息不是发送失败状态（可能已被处理），未作改动。"
RETRIED_ALL = "已将 {count} 条发送失败的消息重新放回发送队列。"
RETRIED_ALL_NONE = "没有发送失败的消息。"

"""What the API says to a platform's staff (problem `detail`s), in one place."""

from __future__ import annotations

NO_KEY = "缺少 API 密钥：请在请求头中发送 Authorization: Bearer <密钥>"
UNKNOWN_KEY = "API 密钥无效：没有这个密钥"
REVOKED_KEY = "API 密钥已被吊销（{at}），请向社区管理员申请新的密钥"
MISSING_SCOPE = "此密钥没有 {scope} 权限"
OTHER_COMMUNITY = "此密钥只能访问{community}的数据"
RATE_LIMITED = "请求过于频繁：每个密钥每分钟最多 {limit} 次，请 {seconds} 秒后再试"
INVALID = "请求内容不符合接口说明，见 errors"
NOT_FOUND = "没有这个地址或资源"
METHOD = "此地址不支持这个请求方法"
TOO_LARGE = "请求体太大"
SERVER = "服务器出错，请稍后重试"
UNAVAILABLE = "数据库暂时不可用，请稍后重试"

# -- tickets (bot/api/tickets*.py) --------------------------------------------------------
# Why a work order could not be filed (models/api/orders.py OrderError reasons).
ORDER_ERRORS = {
    "bad_source": "来源 source 不能为空，且不超过 32 个字符：{value}",
    "bad_external_id": "工单编号 external_id 不能为空，且不超过 64 个字符：{value}",
    "empty_text": "工单内容 text 不能为空",
    "bad_phone": "电话号码应为 5 到 20 位数字（可带 +86、空格和短横线）：{value}",
    "unknown_building": "没有这栋楼：{value}",
}
ORDER_ELSEWHERE = "工单 {order} 已登记在其他社区，不能重复登记"
UNKNOWN_COMMUNITY = "没有这个社区：{name}"
DUE_IN_PAST = "办理时限 due_at 不能早于现在（{due}）"
IDEMPOTENCY_REUSED = "这个 Idempotency-Key 已用于另一个请求：同一个键只能重发同一个请求"
TICKET_NOT_FOUND = "没有这件诉求：#{number}"
BAD_CURSOR = "cursor 无效：请使用上一页返回的 next_cursor"
NOTHING_TO_DO = "请给出 status（要办理的动作）或 note（备注）"
ILLEGAL_MOVE = "诉求 #{number} 当前状态为“{status_name}”（{status}），不能{action}"
NO_HOLDER = "诉求 #{number} 还没有承办人（待分派），不能接单：请先由社区转派给工作人员"
TAKEN = "诉求 #{number} 已由其他工作人员办理"
OUTCOME_NEEDED = "办结（resolved）需要填写处理结果 outcome，结果会告知居民"
REASON_NEEDED = "退回（rejected）需要填写理由 reason，理由会告知居民"
OUTCOME_ONLY = "处理结果 outcome 只用于办结（status 为 resolved）"
REASON_ONLY = "理由 reason 只用于退回（status 为 rejected）"
# How a move made through the API is signed on the ticket's timeline.
PLATFORM = "平台：{name}"

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
NO_SUCH_COMMUNITY = "没有名为“{community}”的社区（见 GET /api/v1/communities）"
NO_SUCH_GRID = "没有编号为 {grid} 的网格（见 GET /api/v1/grids）"
NO_SUCH_AGENDA = "没有议题 #{number}"
NO_SUCH_POLL = "没有投票 #{number}"

# Webhook subscriptions (subscriptions.py)
BAD_WEBHOOK_URL = "推送地址须为 http:// 或 https:// 开头的完整网址"
JSON_BODY = "请求体须为 JSON（Content-Type: application/json）"
BAD_SECRET = "签名密钥不能包含控制字符（换行、制表符等）"
UNKNOWN_EVENT = "没有这种事件类型：{event}"
EVENT_SCOPE = "此密钥没有 {scope} 权限，不能订阅 {event}"
NO_SUBSCRIPTION = "没有编号为 {id} 的推送订阅"

# Open311 GeoReport v2 (/open311/v2): each refusal is [{"code": status, "description": …}].
O311_NO_KEY = "缺少 API 密钥：请以 api_key 参数发送（或请求头 Authorization: Bearer <密钥>）"
O311_FORMAT = "只提供 JSON 格式：请把地址中的 .{fmt} 换成 .json"
O311_BAD_BODY = "请求体应为 JSON 对象或表单"
O311_NOT_TEXT = "参数 {name} 应为文本或数字"
O311_BAD_CHARACTERS = "参数 {name} 含有无法保存的字符（半个 UTF-16 代理对）"
O311_MISSING = "缺少参数 {name}"
O311_TOO_LONG = "参数 {name} 太长：最多 {limit} 个字"
O311_BAD_CODE = "参数 {name} 应为数字编号（可用逗号分隔），收到「{value}」"
O311_TOO_MANY = "参数 {name} 最多 {most} 个编号"
O311_UNKNOWN_SERVICE = "没有这个类别：service_code={value}（类别见 services.json）"
O311_SERVICE_OFF = "类别「{topic}」在{community}未启用"
O311_UNKNOWN_JURISDICTION = "没有这个社区：jurisdiction_id={value}（应为社区名称）"
O311_NEED_JURISDICTION = (
    "本街道有多个社区：请用 jurisdiction_id 写明社区名称，或用 address_string 写明楼栋"
)
O311_BAD_COORDINATE = "参数 {name} 应为坐标数值（lat 在 -90～90，long 在 -180～180）"
O311_BAD_DATE = "参数 {name} 应为 ISO 8601 时间，如 2026-12-01T00:00:00+08:00，收到「{value}」"
O311_DATES_REVERSED = "start_date 不能晚于 end_date"
O311_BAD_STATUS = "参数 status 只能是 open 或 closed（可用逗号分隔），收到「{value}」"
O311_NO_REQUEST = "没有这个诉求：{value}"
O311_BAD_PHONE = "电话号码无效：{value}"
O311_UNKNOWN_BUILDING = (
    "没有找到楼栋「{value}」：address_string 应为楼栋名称，如 16号楼"
    "（几个社区都有这个楼栋时，请同时给出 jurisdiction_id）"
)
O311_NOTICE = "已登记为诉求 #{number}，由{community}办理，办理时限 {due}。"
O311_NO_COORDINATES = "坐标未保存：请用 address_string 写明楼栋。"
O311_GROUP = "社区诉求"

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

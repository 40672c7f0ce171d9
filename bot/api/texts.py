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

"""The street's ranking of its communities (街道看板, `report --by community`): its columns,
as the console page, its CSV and XLSX exports and the CLI's table head them."""

from __future__ import annotations

RANKING_HEADERS = (
    "排名",
    "社区",
    "诉求数",
    "未办结",
    "超时",
    "响应率",
    "解决率",
    "满意率",
    "按时率",
    "综合得分",
)

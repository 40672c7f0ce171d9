"""What residents and staff read in the 议 cycle's chat (议题, 附议, 议事会, 公示, 落实, 评议).

One section per stage; the pushes' words are in bot/delivery/agenda.py.
"""

# -- 提议 · 附议 · 议题 (handlers/agenda.py) ----------------------------------------------------


# -- 议事会: 参加 / 请假 (handlers/meetings.py) ------------------------------------------------


# -- 公示: 异议 (handlers/publicity.py) ---------------------------------------------------------

HELP_OBJECT = "异议 编号 理由：对公示中的议题决定提出异议，如 异议 3 位置离住户太近"
OBJECT_USAGE = "请回复“异议 编号 理由”，如：异议 3 位置离住户太近"
OBJECT_NO_REASON = "请写上您的理由，如：异议 {number} 位置离住户太近。理由会原样转给社区工作人员。"
OBJECT_RECEIPT = (
    "已收到您对议题 #{number}「{title}」的异议，已转给社区工作人员：\n{text}\n"
    "公示期至 {until}，期满后社区会确认或撤回这项决定。"
)
OBJECT_REFUSED = {
    "unknown": "没有找到编号为 #{number} 的议题，请核对编号。",
    "not_publicised": (
        "议题 #{number} 目前不在公示期，暂时不能提出异议。回复“议题 {number}”查看进展。"
    ),
    "period_over": "议题 #{number} 的公示期已于 {until} 结束，不能再提出异议。感谢您的关注。",
    "not_in_scope": (
        "议题 #{number} 的异议仅限本社区已绑定住址的居民提出。"
        "如您住在本社区，请先回复“绑定 楼号-单元-房号”绑定住址。"
    ),
    "too_long": "异议最多 {max} 个字，请精简后再发。",
}


# -- 落实 · 评议 · 回头看 (handlers/carrying.py) ------------------------------------------------

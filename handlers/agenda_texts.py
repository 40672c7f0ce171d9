"""What residents and staff read in the 议 cycle's chat (议题, 附议, 议事会, 公示, 落实, 评议).

One section per stage; the pushes' words are in bot/delivery/agenda.py.
"""

# -- 提议 · 附议 · 议题 (handlers/agenda.py) ----------------------------------------------------


# -- 议事会: 参加 / 请假 (handlers/meetings.py) ------------------------------------------------

MEETING_HELP_ATTEND = "参加 编号：收到会议邀请后回复，确认参加，如 参加 2"
MEETING_HELP_EXCUSED = "请假 编号 [理由]：收到会议邀请后回复，请假不能参加，如 请假 2 出差"
MEETING_USAGE = "请回复“参加 编号”或“请假 编号 理由”，编号见议事会邀请，如：参加 2"
MEETING_NOT_FOUND = "没有找到编号为 #{number} 的议事会，请核对邀请里的编号。"
MEETING_NOT_INVITED = "您不在本次议事会的邀请名单中。如想旁听，请联系社区居委会。"
MEETING_STARTED = "议事会 #{number}「{title}」已经开始（{at}），无法再修改回复。感谢您的关注！"
MEETING_CANCELLED = "议事会 #{number}「{title}」已取消，无需回复。"
MEETING_ATTEND = (
    "已记录：您将参加议事会 #{number}「{title}」。\n时间：{at}\n地点：{place}\n"
    "会前一天会提醒您；如临时不能来，开会前回复“请假 {number}”即可。"
)
MEETING_EXCUSED = (
    "已记录您的请假：议事会 #{number}「{title}」（{at}）。{reason}\n"
    "如又能参加，开会前回复“参加 {number}”即可。"
)
MEETING_REASON = "请假理由：{reason}。"
MEETING_SAME_ATTEND = "您已回复参加议事会 #{number}「{title}」，{at} 见。"
MEETING_SAME_EXCUSED = "您已请过假：议事会 #{number}「{title}」（{at}）。"
MEETING_CHANGED = "（已更新您之前的回复）"


# -- 公示: 异议 (handlers/publicity.py) ---------------------------------------------------------


# -- 落实 · 评议 · 回头看 (handlers/carrying.py) ------------------------------------------------

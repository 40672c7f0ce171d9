"""What residents and staff read in the 议 cycle's chat (议题, 附议, 议事会, 公示, 落实, 评议).

One section per stage; the pushes' words are in bot/delivery/agenda.py.
"""

# -- 提议 · 附议 · 议题 (handlers/agenda.py) ----------------------------------------------------

HELP_PROPOSE = "提议 内容：向社区提出议题，如 提议 在小区北门空地增加一组健身器材"
HELP_BACK = "附议 编号：支持邻居的提议，如 附议 3"
HELP_AGENDA = "议题：查看社区的议题；议题 编号：查看一个议题的进程"

HOW_TO_PROPOSE = (
    "想为小区办件事？请发送“提议”加上您的想法，如：\n"
    "提议 在小区北门空地增加一组健身器材\n"
    "邻居可以附议支持，居委会将研究是否列入议事议程（立项），结果会通知您。"
)
PROPOSED = "已收到您的提议，登记为议题 #{number}「{title}」。\n{backing}\n{next}"
PROPOSED_BACKING = "需要 {needed} {unit}附议，目前 {count} {unit}（您已算作第一{unit}）。"
PROPOSED_NO_THRESHOLD = "您已算作第一{unit}附议，附议越多越能引起重视。"
PROPOSED_NEXT = (
    "接下来：请邻居发送“附议 {number}”支持它；居委会将决定是否列入议事议程（立项），"
    "结果会通知您。发送“议题 {number}”可随时查看进程。"
)
UNIT_WORDS = {"household": "户", "person": "人"}

NOT_BOUND = "{what}需要先绑定住址：回复“绑定 楼号-单元-房号”，如：绑定 16-2-501"
PENDING = "您的住址绑定还在等待工作人员审核，审核通过后即可{what}。"
WHAT_PROPOSE = "提议"
WHAT_BACK = "附议"

NOT_FOUND = "没有找到编号为 #{number} 的议题，请核对编号。发送“议题”查看社区的议题。"
BACK_USAGE = "请在“附议”后写上议题编号，如：附议 3。发送“议题”查看社区的议题。"
AGENDA_USAGE = "请在“议题”后写上编号，如：议题 3；只发“议题”查看全部。"
BACKED = "已为议题 #{number}「{title}」附议。{count}"
BACKED_ALREADY = "本户已附议 #{number}，无需重复。{count}"
BACKED_ALREADY_PERSON = "您已附议 #{number}，无需重复。{count}"
BACKED_REACHED = "\n附议已达到门槛，已通知居委会研究是否立项。"
BACK_CLOSED = "议题 #{number} 目前{stage}，已不再征集附议。"
COUNT = "目前 {count}/{needed} {unit}附议。"
COUNT_NO_THRESHOLD = "目前 {count} {unit}附议。"

LIST_NONE = "社区目前没有进行中的议题。想为小区办件事？发送“提议 内容”。"
LIST_HEADER = "社区的议题："
LIST_LINE = "#{number} {title}（{stage}，{count}）"
LIST_FOOTER = "发送“议题 编号”查看进程，“附议 编号”支持它。"
DETAIL = "议题 #{number}「{title}」\n阶段：{stage}\n{body}\n{count}\n进程：\n{timeline}"
DETAIL_BACK = "\n发送“附议 {number}”支持它。"
TIMELINE_LINE = "{at} {event}"

# The hint under the reply to a ticket that reads like a proposal (handlers/report.py).
PROPOSAL_HINT = (
    "如果这是一个想让大家一起商议的建议，可以发送“提议 内容”把它作为议题提出，邻居可以附议。"
)


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

CARRY_USAGE = {
    "进展": "请按格式回复：进展 议题编号 进展内容，例如：进展 7 器材已订购，下周进场",
    "完成": "请按格式回复：完成 议题编号 落实结果，例如：完成 7 健身器材已安装并验收",
}
CARRY_NOT_FOUND = "没有找到议题 #{number}。"
CARRY_NOT_YOURS = "抱歉，议题 #{number} 的落实不由您负责。如需报告进展，请联系负责人或社区管理员。"
CARRY_NOT_NOW = "议题 #{number} 现在不在落实阶段，无法报告{what}。"
CARRY_TEXT_LONG = "内容太长了（最多 {limit} 字），请精简后再发。"
PROGRESS_NOTED = "已记录议题 #{number} 的落实进展。"
PROGRESS_TOLD = "已记录议题 #{number} 的落实进展，并告知 {count} 位参与的居民。"
COMPLETED = (
    "议题 #{number} 已落实完成，结果已记录。已请 {count} 位参与的居民评议；"
    "{days} 天后将请他们回头看。"
)

RATING_LABELS = {1: "满意", 2: "基本满意", 3: "不满意"}
AGENDA_RATE_USAGE = "请按格式回复：评议 议题编号 数字（1 满意 2 基本满意 3 不满意），例如：评议 7 1"
AGENDA_RATE_CHOICES = "请回复数字：1 满意  2 基本满意  3 不满意"
AGENDA_RATED = "感谢您的评议！议题 #{number}「{title}」：{label}。"
AGENDA_RERATED = "已更新您的评议：议题 #{number}「{title}」：{label}。"
AGENDA_RATE_NOT_YET = "议题 #{number} 还没有落实完成，完成后会请您评议。"
AGENDA_RATE_NOT_YOURS = "议题 #{number} 由提议、附议、参与表决或议事会的居民评议。感谢您的关注！"
AGENDA_REVIEW_CHOICES = (
    "请回复数字：1 仍在落实、效果良好  2 没有坚持、出现反复（可在数字后写下具体情况）"
)
AGENDA_REVIEW_HELD = "感谢您的反馈！已记录：议题 #{number} 的决定仍在落实、效果良好。"
AGENDA_REVIEW_NOT_HELD = (
    "感谢您的反馈！已记录：议题 #{number} 的决定没有坚持、出现反复。"
    "您的意见会在议题的回头看结果中呈现给社区。"
)
# Short replies to the 回头看 that say which way it went; what does not fit is asked again.
REVIEW_NOT_HELD_WORDS = (
    "没有坚持",
    "没坚持",
    "反复",
    "又坏",
    "不好",
    "没用",
    "不行",
    "变差",
    "不满意",
    "没落实",
    "没有落实",
)
# (Not a bare 好的 / 收到: an acknowledgement says nothing about whether it held.)
REVIEW_HELD_WORDS = ("很好", "挺好", "良好", "还好", "好用", "有效", "坚持", "不错", "还行", "满意")
REVIEW_HELD_EXACT = ("好", "可以", "落实了")

"""What residents and staff read in the 议 cycle's chat (议题, 附议, 议事会, 公示, 落实, 评议).

One section per stage; the pushes' words are in bot/delivery/agenda.py.
"""

# -- 提议 · 附议 · 议题 (handlers/agenda.py) ----------------------------------------------------


# -- 议事会: 参加 / 请假 (handlers/meetings.py) ------------------------------------------------


# -- 公示: 异议 (handlers/publicity.py) ---------------------------------------------------------


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

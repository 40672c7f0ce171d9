"""Everything the bot says about polls (handlers/vote.py), in Simplified Chinese."""

HELP_VOTE = "投票：查看可参加的投票；投票 编号 选项：投票，如 投票 3 A"
HELP_RESULT = "结果 编号：查看投票的结果"

NONE_OPEN = "目前没有您可以参加的投票。"
LIST_HEADER = "可以参加的投票："
LIST_LINE = "#{number} {title}（{closes} 截止）"
LIST_FOOTER = "回复“投票 编号”查看选项，如：投票 {number}"
USAGE = "请回复“投票 编号 选项”，如：投票 3 A"
NOT_FOUND = "没有找到编号为 #{number} 的投票，请核对编号。"
DETAIL = (
    "#{number} {title}\n{description}{options}\n{rule}截止时间：{closes}\n"
    "回复选项字母投票，如：{example}"
)
RULE_HOUSEHOLD = "本次投票按户计票（户决制），每户一票，以本户最后一次投票为准。\n"
RULE_CHOICES = "最多可选 {count} 项，如：投票 {number} A C\n"
RECEIPT = "已记录您对 #{number}「{title}」的投票：{choices}。\n截止（{closes}）前可以重新投票修改。"
RECEIPT_REPLACED = (
    "已更新您对 #{number}「{title}」的投票：{choices}。\n截止（{closes}）前可以重新投票修改。"
)
RECEIPT_HOUSEHOLD = "\n本次投票按户计票：本户以这一票为准，已告知您的家庭成员。"
# A household poll, and nobody else of the household is bound: there is nobody to tell.
RECEIPT_HOUSEHOLD_ALONE = "\n本次投票按户计票：本户以这一票为准。"

# A poll of another community: not shown, not open to this resident's ballot.
OTHER_COMMUNITY = "#{number} 是其他社区的投票，仅限该社区居民参加，您不在本次投票范围内。"

REFUSED = {
    "not_open": "#{number} 尚未开始投票，{opens} 开始。",
    "closed": "#{number} 的投票已经截止，感谢关注。回复“结果 {number}”查看结果。",
    "out_of_scope": "#{number} 仅限相关楼栋或网格的居民参加，您不在本次投票范围内。",
    "other_community": OTHER_COMMUNITY,
    "pending": "您的住址绑定还在等待工作人员审核，审核通过后即可参加 #{number} 的投票。",
    "not_bound": (
        "参加 #{number} 的投票需要先绑定住址：回复“绑定 楼号-单元-房号”，如：绑定 16-2-501"
    ),
    "invalid_option": "没有这个选项。#{number} 的选项是 {labels}，请回复其中的字母。",
    "too_many": "#{number} 最多可选 {max} 项，请重新选择。",
    "repeated_option": "同一个选项只能选一次，请重新选择。",
    "no_choice": "请在编号后写上选项字母，如：投票 {number} A",
}

RESULT_HIDDEN = "#{number} 的结果将在投票截止后公布（{closes} 截止）。"
RESULT_HEADER = "#{number}「{title}」{state}"
RESULT_LINE = "{label} {option}：{count} 票"
RESULT_TURNOUT = "参与：{ballots}/{eligible}（{unit}）"
RESULT_TURNOUT_UNKNOWN = "参与：{ballots}（{unit}）"
RESULT_TIE = "结果：{labels} 票数相同（平票）。"
RESULT_LEADER = "领先：{label} {option}。"
RESULT_NO_QUORUM = "参与人数未达到法定比例。"
RESULT_DECISION = "决议：{decision}"
STATE_NAMES = {
    "draft": "（未开始）",
    "open": "（进行中）",
    "closed": "（已截止）",
    "decided": "（已决议）",
}
UNIT_NAMES = {"person": "人", "household": "户"}

"""What the bot says in the foundation's conversations: greeting, help and the fallbacks.

Every resident-facing word of these features lives here, in Simplified Chinese.
"""

from __future__ import annotations

# 个人信息保护: a short notice with the welcome, in full on “个人信息” (handlers/events.py).
PRIVACY_NOTICE = (
    "【个人信息保护】我们只保存为您办事所需的信息：您发来的消息和诉求、绑定的住址，"
    "以及您留下的手机号（如有），仅用于社区办理您的事项。"
    "回复“个人信息”了解保存多久，以及如何查阅、复制或删除。"
)

WELCOME = (
    "您好，欢迎关注议事厅！\n"
    "这里是社区居委会的线上议事窗口：小区里的问题和建议，直接发文字告诉我们；"
    "社区议题的投票，也在这里参加。\n"
    "回复“帮助”查看可以办理的事项。\n\n" + PRIVACY_NOTICE
)

SCAN = "您好，欢迎回到议事厅！回复“帮助”查看可以办理的事项。"
PRIVACY = (
    "【个人信息保护】\n"
    "我们保存：您发来的消息和诉求（含图片、位置）、您绑定的住址和留下的手机号（如有）、"
    "您参与投票的记录。\n"
    "用途：仅供社区工作人员办理您反映的事项、核实住户身份，不向无关人员提供，不作他用。\n"
    "保存多久：诉求及相关消息在办结后按社区档案管理规定的期限保存；"
    "取消关注不会删除已登记的诉求。\n"
    "取消关注后，我们不再向您推送消息；已登记的诉求照常办理，重新关注后可继续收到进展。\n"
    "如需查阅、复制或删除您的个人信息，请联系社区居委会工作人员（到居委会办公室或拨打居委会电话），"
    "核实身份后为您办理。"
)

HELP_HEADER = "议事厅可以为您办理："
HELP_FOOTER = "也可以直接用文字描述您遇到的问题或建议，我们会转给社区工作人员。"


IMAGE = "已收到您的图片。如需反映问题，请再发一段文字，说明地点和情况，方便工作人员处理。"
VOICE_UNRECOGNISED = "抱歉，这条语音暂时无法识别为文字，请改用文字描述，方便工作人员处理。"
VIDEO = "已收到您的视频。如需反映问题，请再发一段文字，说明地点和情况，方便工作人员处理。"
LOCATION = "已收到您的位置：{label}。如需反映这里的问题，请再发一段文字说明情况。"
LOCATION_NO_LABEL = "已收到您的位置。如需反映这里的问题，请再发一段文字说明情况。"
LINK = "已收到您分享的链接。如有问题或建议，请直接用文字告诉我们。"
UNKNOWN = "抱歉，暂不支持这种消息。请发送文字，或回复“帮助”查看可以办理的事项。"
MENU_UNKNOWN = "该功能正在建设中，敬请期待。回复“帮助”查看目前可以办理的事项。"

NOT_ALLOWED = "抱歉，该指令仅限社区工作人员使用。"

# Shown when handling a message failed unexpectedly: the message itself is kept.
SORRY = "抱歉，系统刚才出了点问题，您的消息已保存，工作人员会尽快查看。请稍后再试。"

# -- 集 collect: requests become tickets (handlers/report.py, handlers/mine.py) ---------------

GREETING = (
    "您好！请直接用文字描述您遇到的问题或建议，比如：“3号楼2单元楼道灯坏了”。回复“帮助”查看更多。"
)
TOO_SHORT = "请再多说几句：在什么地方、遇到了什么情况？这样工作人员才能帮您处理。"
FILED = (
    "已登记您反映的问题，编号 #{number}，类别：{topic}。\n"
    "我们会尽快安排工作人员处理。回复【我的】查看进度。"
)
# The unsure question (handlers/report.py): the likeliest topics first, then 更多类别 (the
# last number) for the whole list; a topic's name answers too; 其他 leaves it for staff.
FILED_UNSURE = (
    "已登记您反映的问题，编号 #{number}。\n请问属于哪一类？请回复数字或类别名称：\n{options}\n"
    "都不是请回复“其他”，由工作人员分类。"
)
FILED_FOR_STAFF = (
    "已登记您反映的问题，编号 #{number}，工作人员会为您分类处理。回复【我的】查看进度。"
)
TOPICS_ALL = (
    "#{number} 可选的全部类别，请回复数字或类别名称：\n{options}\n"
    "都不是请回复“其他”，由工作人员分类。"
)
MORE_TOPICS = "更多类别"
TOPIC_OUT_OF_RANGE = "请回复 1 到 {last} 之间的数字，或类别名称。"
SAME_AGAIN = "您刚才反映的问题已登记为 #{number}（{topic}），无需重复发送。回复【我的】查看进度。"
TOPIC_CHOSEN = "好的，#{number} 已归入【{topic}】。回复【我的】查看进度。"
TOPIC_KEPT = "#{number} 已由工作人员受理（{topic}），无需再选择类别。回复【我的】查看进度。"
TOPIC_OTHER = "好的，#{number} 已转交工作人员分类处理。回复【我的】查看进度。"
CHOICE_OUT_OF_RANGE = "请回复 1 到 {last} 之间的数字。"
CHOICE_LEFT = "您之前反映的 #{number} 已转交工作人员分类处理。"
# What the resident may answer instead of a number (matched folded, without spaces or
# punctuation): the whole list, or none of them (staff will sort it out).
MORE_WORDS = frozenset(
    "更多 更多类别 更多分类 全部 全部类别 所有 所有类别 其他类别 其它类别 别的类别 查看更多 "
    "more all".split()
)
OTHER_WORDS = frozenset("其他 其它 都不是 都不对 不知道 不清楚 不确定 不好说 other".split())
# A street-wide account's resident whose community is not known yet (handlers/report.py).
ASK_COMMUNITY = "为了把您的诉求转给对应的社区，请问您住在哪个社区？回复数字：\n{options}"
ASK_COMMUNITY_AGAIN = (
    "请先回复数字选择您所在的社区，选好后我们立即登记您刚才反映的问题"
    "（这条消息请在选择后重新发送）：\n{options}"
)
COMMUNITY_CHOSEN = "好的，已记下您是{community}的居民。"
NO_TOPIC = "待分类"

ATTACHED = "已将{what}补充到诉求 #{number}。"
ATTACHMENT_NAMES = {
    "image": "图片",
    "location": "位置",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "视频",
}

MINE_EMPTY = "您目前没有办理中的诉求。直接发文字即可反映新的问题。"
MINE_HEADER = "您办理中的诉求："
MINE_LINE = "#{number} {topic} · {status} · {date}"
MINE_FOOTER = "回复“查询 编号”查看详情，如：查询 {number}"
QUERY_USAGE = "请回复“查询 编号”，如：查询 12"
QUERY_NOT_FOUND = "没有找到编号为 #{number} 的诉求，请核对编号。"
QUERY_DETAIL = "诉求 #{number}\n类别：{topic}\n状态：{status}\n登记时间：{created}\n内容：{text}"
QUERY_ATTACHMENTS = "附件：{count} 个"


GREETINGS = frozenset(
    "你好 您好 在吗 在不在 有人吗 hi hello 哈喽 嗨 早 早上好 中午好 下午好 晚上好 谢谢 "
    "谢谢你 谢谢您 多谢 感谢 好的 好 嗯 嗯嗯 ok 收到 知道了 明白了 辛苦了 再见 拜拜".split()
)

# -- the classifier, explained (handlers/admin.py) --------------------------------------------

EXPLAIN_USAGE = "请回复“分类 要测试的文字”，如：分类 电梯又坏了"

# -- 办·督·评: staff commands and the resident's rating (handlers/staff.py, handlers/rating.py) --

TICKET_USAGE = "请在指令后写上诉求编号，如：{command} 12"
TICKET_NOT_FOUND = "没有找到编号为 #{number} 的诉求，请核对编号。"
TODO_EMPTY = "您目前没有待办的诉求。"
TODO_HEADER = "您的待办诉求（按时限排序）："
TODO_LINE = "#{number} {order}{topic} · {status} · 时限 {due}{late}"
TODO_LATE = "（已逾期）"
TODO_SUPPORTERS = " · 附议 {count} 人"
# Filed by staff for a resident the account cannot reach (models/onbehalf.py): call them.
TODO_CALLBACK = " · 电话回访"
QUERY_CALLBACK = "电话回访：{phone}（居民收不到微信通知，完整号码见管理后台）"
QUERY_NO_PHONE = "未留电话"
QUERY_ON_BEHALF = "登记渠道：{channel}（代居民登记）"
TODO_FOOTER = "回复“接单 编号”“备注 编号 内容”“办结 编号 处理结果”“退回 编号 理由”处理。"
ACCEPTED = (
    "已接单 #{number}{order}（{topic}），办理时限 {due}。处理完毕请回复“办结 {number} 处理结果”。"
)
TAKEN = "#{number} 已由{holder}接单，无需重复接单。"
NOT_YOURS = "#{number} 目前由{holder}负责，如需转给您，请联系对方或社区负责人转派。"
SOMEONE = "其他工作人员"
ILLEGAL = "#{number} 当前状态为“{status}”，不能{action}。"
NOTE_USAGE = "请回复“备注 编号 内容”，如：备注 12 已上门查看，明天维修"
NOTED = "已在 #{number} 的办理记录中添加备注。"
RESOLVE_USAGE = "请回复“办结 编号 处理结果”，如：办结 12 已更换楼道灯泡"
RESOLVED = "#{number} 已办结，处理结果已告知居民，并请居民评价。"
# 办结 of a ticket whose resident the account cannot reach: a platform's order (the platform
# gets the result and calls back itself), or one staff filed for someone (电话回访).
RESOLVED_ORDER = "#{number} 已办结，办理结果将反馈{platform}。"
RESOLVED_PLATFORM = {"12345": "12345热线", "grid": "网格平台"}
RESOLVED_PLATFORM_OTHER = "来源平台"
RESOLVED_CALLBACK = "#{number} 已办结。居民收不到微信通知，请电话回访告知结果并记录评价。"
REJECT_USAGE = (
    "请回复“退回 编号 理由”，理由会告知居民（如应向哪个部门反映），"
    "如：退回 12 属于供电公司业务，请拨打95598"
)
REJECTED = "#{number} 已退回，理由已告知居民。"
# 退回 of a platform's work order: a 12345 order's is 退单 (not this community's), reported
# back to the platform with the reason (webhooks); its caller, when bound, is told too.
REJECTED_ORDER = (
    "#{number} 已{verb}（不属于本社区），将连同理由反馈{platform}{resident}。\n理由：{reason}"
)
REJECTED_VERB = {"12345": "退单"}
REJECTED_VERB_OTHER = "退回"
REJECTED_PLATFORM = {"12345": "12345热线重新派单", "grid": "网格平台"}
REJECTED_PLATFORM_OTHER = "来源平台"
REJECTED_RESIDENT = "，并已告知反映问题的居民"
REJECT_ORDER_USAGE = (
    "#{number} 是{mark}：退回即退单（不属于本社区），理由将反馈平台，请写明理由，"
    "如：退回 {number} 该路段属于邻街社区管辖"
)
# A platform's work order in staff lists: 【12345工单 GD2026120600123】
ORDER_TAG = "【{mark}{external_id}】"
REASSIGN_USAGE = "请回复“转派 编号 类别或工作人员姓名”，如：转派 12 环境卫生"
REASSIGN_UNKNOWN = "没有叫“{target}”的类别或工作人员。可转派的类别：{topics}"
REASSIGNED_TOPIC = "#{number} 已转派至【{topic}】，由{holder}办理。"
REASSIGNED_TRIAGE = "#{number} 已转派至【{topic}】，暂无对应工作人员，已进入待分派队列。"
REASSIGNED_PERSON = "#{number} 已转派给{holder}。"
REASSIGN_SWITCHED_OFF = (
    "“{topic}”在#{number}所属社区已停用，不能转派到这个类别。可转派的类别：{topics}"
)

RATE_USAGE = "请回复“评价 编号 数字”，如：评价 12 1（1 满意，2 基本满意，3 不满意）"
RATE_NOT_YOURS = "没有找到您可以评价的诉求 #{number}，请核对编号。"
RATE_NOT_NOW = "#{number} 目前不在待评价状态，感谢您的关注。"
RATE_CHOICES = "请回复 1、2 或 3：1 满意，2 基本满意，3 不满意。"
RATED_GOOD = "感谢您的评价！#{number} 已办结归档。如问题再次出现，欢迎随时反映。"
RATED_BAD = (
    "抱歉让您不满意。#{number} 已重新打开，并已通知办理人员和社区负责人。\n"
    "请直接回复还有哪些问题没有解决，我们会一并转给办理人员。"
)
REOPEN_DETAIL_NOTED = "已将您的补充说明转给 #{number} 的办理人员，我们会尽快处理。"
FOLLOWUP_GOOD = "太好了，感谢您的反馈！"
FOLLOWUP_BAD = "抱歉问题仍未解决，#{number} 已重新打开，并已通知办理人员。"
FOLLOWUP_CHOICES = "请回复 1 或 2：1 已解决，2 问题还在。"

# 防刷屏 (bot/conversation.py, models/intake.py): rate limits, open-ticket cap and 附议.
TOO_FAST = (
    "您发送太频繁了，请稍后再试。为保证每位居民的诉求都能及时处理，"
    "接下来一段时间内您发来的消息我们会保存，但暂不回复、不登记新诉求。"
)
TOO_MANY_OPEN = (
    "您已有 {count} 件诉求正在办理：{numbers}。请等待办结后再反映新的问题，"
    "如是同一件事的补充，请回复“查询 编号”查看进度。回复“我的”查看全部。"
)
SUPPORTED = "已有居民反映了同样的问题 #{number}，已为您记一次附议，办理结果也会通知您。"
SUPPORTED_AGAIN = "您已为 #{number} 附议过了，办理结果会通知您。"

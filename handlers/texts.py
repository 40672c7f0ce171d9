"""What the bot says in the foundation's conversations: greeting, help and the fallbacks.

Every resident-facing word of these features lives here, in Simplified Chinese.
"""

WELCOME = (
    "您好，欢迎关注议事厅！\n"
    "这里是社区居委会的线上议事窗口：小区里的问题和建议，直接发文字告诉我们；"
    "社区议题的投票，也在这里参加。\n"
    "回复“帮助”查看可以办理的事项。"
)

SCAN = "您好，欢迎回到议事厅！回复“帮助”查看可以办理的事项。"

HELP_HEADER = "议事厅可以为您办理："
HELP_FOOTER = "也可以直接用文字描述您遇到的问题或建议，我们会转给社区工作人员。"

TEXT_RECEIVED = "您好，议事厅已收到您的消息。\n回复“帮助”查看可以办理的事项。"

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

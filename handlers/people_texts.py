"""What the bot says about people and places: 绑定, 解绑, 审核, 员工 (handlers/people.py).

Every word these conversations use lives here, in Simplified Chinese.
"""

HELP_BIND = "绑定 <楼号-单元-房号> [手机号]：登记您的住址，例如“绑定 16-2-501”"
HELP_UNBIND = "解绑：取消住址绑定"
HELP_REVIEW = "审核：查看待审核的住址绑定；审核 通过 <编号> / 审核 拒绝 <编号>"
HELP_STAFF = "员工 <登记码>：工作人员凭社区发放的登记码完成登记"

# -- 绑定 / 解绑 ------------------------------------------------------------------------------

BIND_USAGE = (
    "请按“楼号-单元-房号”的格式发送，例如：\n"
    "绑定 16-2-501\n"
    "也可以写成“绑定 16号楼2单元501室”。如需留下联系电话，请写在住址后面：\n"
    "绑定 16-2-501 13812345678"
)
BIND_BAD_PHONE = "手机号应为 1 开头的 11 位数字，请核对后重新发送，例如：绑定 16-2-501 13812345678"
BIND_UNKNOWN_BUILDING = (
    "抱歉，没有找到 {building} 号楼。请核对楼号后重新发送，格式为“楼号-单元-房号”，"
    "例如：绑定 16-2-501。\n如果楼号无误，请联系社区工作人员。"
)
BIND_WHICH_COMMUNITY = "{building}在以下几个社区都有，请问您住在哪个社区？请回复序号："
BIND_COMMUNITY_LINE = "{n}. {name}"
BIND_COMMUNITY_FOOTER = "例如回复：1"
BIND_COMMUNITY_RANGE = "请回复 1 到 {count} 之间的序号，告诉我们您住在哪个社区。"
BIND_PENDING = "已收到您的住址绑定申请：{place}。\n社区工作人员审核通过后会通知您，请耐心等候。"
BIND_PENDING_PHONE = (
    "已收到您的住址绑定申请：{place}（联系电话 {phone}）。\n"
    "社区工作人员审核通过后会通知您，请耐心等候。"
)
BIND_ALREADY = "您已绑定住址 {place}，无需重复申请。"
UNBOUND = "已取消您与 {place} 的住址绑定。如需重新绑定，请发送“绑定 楼号-单元-房号”。"
UNBIND_NONE = "您目前没有绑定住址。如需绑定，请发送“绑定 楼号-单元-房号”，例如：绑定 16-2-501"

# -- 审核 (staff) -----------------------------------------------------------------------------

REVIEW_EMPTY = "目前没有待审核的住址绑定。"
REVIEW_HEADER = "待审核的住址绑定："
REVIEW_LINE = "【{id}】{place}  {phone}  {since} 申请"
REVIEW_NO_PHONE = "未留电话"
REVIEW_FOOTER = "回复“审核 通过 编号”或“审核 拒绝 编号”，例如：审核 通过 {id}"
REVIEW_USAGE = "请回复“审核 通过 编号”或“审核 拒绝 编号”，编号见“审核”列出的【】内数字。"
REVIEW_NOT_FOUND = "没有找到编号为 {id} 的待审核绑定，它可能已被处理。回复“审核”查看最新列表。"
REVIEW_APPROVED = "已通过：{place} 的住址绑定，居民会收到通知。"
REVIEW_REJECTED = "已拒绝：{place} 的住址绑定。"

# -- 员工 -------------------------------------------------------------------------------------

STAFF_USAGE = "请发送“员工 登记码”，例如：员工 ABCD2345。登记码由社区管理员发放。"
STAFF_WELCOME = "{name}，您好！您已登记为社区工作人员。\n回复“帮助”查看工作人员可以使用的指令。"
STAFF_CODE_UNKNOWN = "抱歉，这个登记码无效，请核对后重新发送；如有疑问，请联系社区管理员。"
STAFF_CODE_USED = "抱歉，这个登记码已经使用过了。每个登记码只能使用一次，请联系社区管理员重新发放。"
STAFF_CODE_EXPIRED = "抱歉，这个登记码已过期，请联系社区管理员重新发放。"
STAFF_CODE_STALE = "抱歉，这个登记码对应的类别或网格已有变动，请联系社区管理员重新发放。"
REVIEW_MORE = "另有 {count} 条，处理完以上各条后回复“审核”继续查看。"

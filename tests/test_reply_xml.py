"""The passive reply is written without wechatpy's reply classes (they cost ~10 µs a message
on the report path), byte for byte as wechatpy's TextReply renders it."""

from __future__ import annotations

import time

import pytest
from wechatpy.replies import TextReply

from bot.wechat.protocol import cdata_safe, clean_reply_text, text_reply_xml


@pytest.mark.parametrize(
    "text",
    [
        "您的诉求已登记，编号 #12，分类：路灯照明。",
        "a ]]> b <xml> & </xml>",  # a CDATA break-out attempt
        "控制\x00字符\x1f与\ufffe",
        "长" * 1000,  # cut to what WeChat shows whole
        "表情 😀 和换行\n第二行",
    ],
)
def test_the_reply_is_what_wechatpy_would_render(text: str) -> None:
    sender, account = "o_resident]]>x", "gh_account"
    ours = text_reply_xml(text, to_user=sender, from_account=account)
    now = int(time.time())
    theirs = TextReply(
        content=clean_reply_text(text),
        target=cdata_safe(sender),
        source=cdata_safe(account),
        time=now,
    ).render()
    # The same XML but for the second the two were stamped in.
    stamp = ours.split("<CreateTime>", 1)[1].split("</CreateTime>", 1)[0]
    assert abs(int(stamp) - now) <= 1
    assert ours.replace(f"<CreateTime>{stamp}<", f"<CreateTime>{now}<") == theirs

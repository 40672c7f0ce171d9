"""The foundation's conversations, as a resident sees them in WeChat."""

from __future__ import annotations

from conftest import Chat, WeChat

from handlers import texts


def test_new_follower_is_welcomed_and_told_how_to_get_help(chat: Chat) -> None:
    welcome = chat.follow()
    assert welcome is not None
    assert "欢迎关注议事厅" in welcome
    assert "帮助" in welcome


def test_help_lists_what_a_resident_can_do(chat: Chat) -> None:
    reply = chat.say("帮助")
    assert reply is not None
    assert reply.startswith("议事厅可以为您办理")
    assert "· 帮助：查看可以办理的事项" in reply


def test_help_is_understood_in_full_width_and_english(chat: Chat) -> None:
    expected = chat.say("帮助")
    assert chat.say("ｈｅｌｐ") == expected
    assert chat.say("  HELP  ") == expected
    assert chat.say("帮助\u3000") == expected  # an ideographic space, as Chinese IMEs type


def test_free_text_becomes_a_numbered_request(chat: Chat) -> None:
    reply = chat.say("3号楼楼道的灯坏了好几天了")
    assert reply is not None and reply.startswith("已登记您反映的问题，编号 #1")


def test_empty_text_still_gets_an_answer(chat: Chat) -> None:
    assert chat.say("") == texts.TOO_SHORT


def test_voice_with_recognition_is_read_as_the_words_spoken(chat: Chat) -> None:
    assert chat.send("voice", MediaId="m1", Format="amr", Recognition="帮助") == chat.say("帮助")


def test_voice_without_recognition_asks_for_text(chat: Chat) -> None:
    assert chat.send("voice", MediaId="m1", Format="amr") == texts.VOICE_UNRECOGNISED


def test_every_other_message_kind_gets_a_polite_answer(chat: Chat) -> None:
    assert chat.send("image", PicUrl="http://x/p.jpg", MediaId="m2") == texts.IMAGE
    assert chat.send("video", MediaId="m3", ThumbMediaId="t3") == texts.VIDEO
    assert chat.send("shortvideo", MediaId="m4", ThumbMediaId="t4") == texts.VIDEO
    assert chat.send("link", Title="通知", Description="d", Url="http://x") == texts.LINK
    assert chat.send("hologram", Data="?") == texts.UNKNOWN


def test_a_shared_location_is_confirmed_with_its_place_name(chat: Chat) -> None:
    reply = chat.send(
        "location", Location_X="31.2", Location_Y="121.5", Scale="15", Label="幸福小区16号楼"
    )
    assert reply == "已收到您的位置：幸福小区16号楼。如需反映这里的问题，请再发一段文字说明情况。"


def test_a_menu_tap_never_meets_silence(chat: Chat) -> None:
    assert chat.do("CLICK", key="SOMETHING_NEW") == texts.MENU_UNKNOWN


def test_events_nobody_expects_an_answer_to_get_success(chat: Chat) -> None:
    assert chat.do("VIEW", key="https://example.org") is None
    assert chat.do("LOCATION") is None
    assert chat.do("unsubscribe") is None
    assert chat.do("some_future_event") is None


def test_a_scan_by_a_follower_is_greeted(chat: Chat) -> None:
    assert chat.do("SCAN", key="123") == texts.SCAN


def test_scanning_a_qr_code_to_follow_is_welcomed(chat: Chat) -> None:
    assert chat.do("subscribe", key="qrscene_16") == texts.WELCOME


def test_two_residents_are_answered_independently(wechat: WeChat) -> None:
    assert Chat(wechat, "o_li").say("帮助") == Chat(wechat, "o_zhao").say("帮助")

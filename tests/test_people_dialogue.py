"""People and places, as residents and staff see them in the chat: 绑定, 解绑, 审核, 员工."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Chat, Clock, WeChat, count_rows
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from handlers import people_texts as texts
from handlers import texts as common_texts
from handlers.people import Address, parse_address
from models import Binding, OutboxMessage

PLACES = """\
[[grid]]
name = "第一网格"
worker = "o_worker_li"
buildings = ["16", "17"]

[[grid]]
name = "第二网格"
worker = "o_worker_zhou"
buildings = ["18"]
"""


def cli(config_path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def places(config_path: Path, tmp_path: Path) -> None:
    file = tmp_path / "places.toml"
    file.write_text(PLACES, encoding="utf-8")
    cli(config_path, "places", "import", str(file))


@pytest.fixture
def worker(wechat: WeChat, places: None) -> Chat:
    """李网格员, the worker of 第一网格 (16, 17号楼)."""
    return Chat(wechat, "o_worker_li")


def pushes(settings: Settings) -> list[tuple[str, dict[str, object]]]:
    db = Database(settings)
    with db.session(read_only=True) as s:
        rows = [(m.kind, m.payload) for m in s.scalars(select(OutboxMessage).order_by("id"))]
    db.dispose()
    return rows


def review_id(reply: str | None) -> str:
    found = re.search(r"【(\d+)】", reply or "")
    assert found, reply
    return found.group(1)


def test_a_resident_binds_and_the_grid_worker_approves(
    chat: Chat, worker: Chat, settings: Settings
) -> None:
    assert chat.say("绑定 16-2-501 13812345678") == (
        "已收到您的住址绑定申请：16-2-501（联系电话 138****5678）。\n"
        "社区工作人员审核通过后会通知您，请耐心等候。"
    )
    listed = worker.say("审核")
    assert listed is not None
    header, line, footer = listed.splitlines()
    assert header == "待审核的住址绑定："
    number = review_id(line)
    assert re.fullmatch(rf"【{number}】16-2-501  138\*\*\*\*5678  \d\d-\d\d \d\d:\d\d 申请", line)
    assert "13812345678" not in listed  # staff see the phone masked
    assert footer == f"回复“审核 通过 编号”或“审核 拒绝 编号”，例如：审核 通过 {number}"

    assert worker.say(f"审核 通过 {number}") == "已通过：16-2-501 的住址绑定，居民会收到通知。"
    assert worker.say("审核") == "目前没有待审核的住址绑定。"
    assert chat.say("绑定 16-2-501") == "您已绑定住址 16-2-501，无需重复申请。"
    assert [kind for kind, _ in pushes(settings)] == ["binding.requested", "binding.approved"]
    assert pushes(settings)[1][1] == {"place": "16-2-501"}


def test_a_binding_approved_from_the_command_line(
    chat: Chat, places: None, config_path: Path, settings: Settings
) -> None:
    chat.say("绑定 17栋3单元302室")
    assert "o_re…wang  17-3-302  phone -  since " in cli(config_path, "residents", "pending")
    assert cli(config_path, "residents", "approve", "o_resident_wang") == (
        "approved: o_re…wang lives at 17-3-302\n"
    )
    assert chat.say("绑定 17-3-302") == "您已绑定住址 17-3-302，无需重复申请。"


def test_a_worker_sees_only_their_grids_and_a_supervisor_sees_all(
    chat: Chat, wechat: WeChat, worker: Chat, config_path: Path
) -> None:
    chat.say("绑定 18-1-101")
    assert worker.say("审核") == "目前没有待审核的住址绑定。"
    assert Chat(wechat, "o_worker_zhou").say("审核") is not None
    assert "18-1-101" in (Chat(wechat, "o_worker_zhou").say("审核") or "")
    number = review_id(Chat(wechat, "o_worker_zhou").say("审核"))
    assert worker.say(f"审核 通过 {number}") == texts.REVIEW_NOT_FOUND.format(id=number)

    cli(config_path, "staff", "add", "--openid", "o_boss", "--name", "陈主任", "--supervisor")
    boss = Chat(wechat, "o_boss")
    assert "18-1-101" in (boss.say("审核") or "")
    assert boss.say(f"审核 拒绝 {number}") == "已拒绝：18-1-101 的住址绑定。"
    assert chat.say("解绑") == texts.UNBIND_NONE  # a rejected request is gone


def test_a_resident_is_not_allowed_to_review(chat: Chat, places: None) -> None:
    assert chat.say("审核") == common_texts.NOT_ALLOWED
    assert chat.say("审核 通过 1") == common_texts.NOT_ALLOWED


def test_staff_added_by_the_command_line_may_review(
    chat: Chat, wechat: WeChat, places: None, config_path: Path
) -> None:
    zhang = Chat(wechat, "o_staff_zhang")
    assert zhang.say("审核") == common_texts.NOT_ALLOWED
    cli(config_path, "staff", "add", "--openid", "o_staff_zhang", "--name", "张敏", "--street")
    assert zhang.say("审核") == "目前没有待审核的住址绑定。"
    assert any("审核" in line for line in (zhang.say("帮助") or "").splitlines())
    assert not any("审核" in line for line in (chat.say("帮助") or "").splitlines())


@pytest.mark.parametrize(
    "written",
    [
        "绑定 16-2-501",
        "绑定 １６－２－５０１",
        "绑定 16号楼2单元501",
        "绑定 16栋2单元501室",
        "绑定 16 2 501",
        "绑定 16—2—501",
    ],
)
def test_an_address_is_read_as_people_write_it(chat: Chat, places: None, written: str) -> None:
    assert chat.say(written) == texts.BIND_PENDING.format(place="16-2-501")


def test_an_unknown_building_a_bad_address_and_a_bad_phone_are_explained(
    chat: Chat, places: None, settings: Settings
) -> None:
    assert chat.say("绑定 99-1-101") == (
        "抱歉，没有找到 99 号楼。请核对楼号后重新发送，格式为“楼号-单元-房号”，"
        "例如：绑定 16-2-501。\n如果楼号无误，请联系社区工作人员。"
    )
    assert chat.say("绑定") == texts.BIND_USAGE
    assert chat.say("绑定 我家") == texts.BIND_USAGE
    assert chat.say("绑定 16-2-501 1381234") == texts.BIND_BAD_PHONE
    assert chat.say("绑定 16-2-501 23812345678") == texts.BIND_BAD_PHONE
    assert count_rows(settings, Binding) == 0


def test_unbinding_removes_the_binding(chat: Chat, places: None, settings: Settings) -> None:
    assert chat.say("解绑") == texts.UNBIND_NONE
    chat.say("绑定 16-2-501")
    assert chat.say("解绑") == (
        "已取消您与 16-2-501 的住址绑定。如需重新绑定，请发送“绑定 楼号-单元-房号”。"
    )
    assert count_rows(settings, Binding) == 0


def test_a_new_request_replaces_the_old_one(chat: Chat, worker: Chat, settings: Settings) -> None:
    chat.say("绑定 16-2-501")
    assert chat.say("绑定 17-1-101") == texts.BIND_PENDING.format(place="17-1-101")
    listed = worker.say("审核") or ""
    assert "17-1-101" in listed and "16-2-501" not in listed
    assert count_rows(settings, Binding) == 1


def staff_code(config_path: Path, *options: str) -> str:
    return cli(config_path, "staff", "code", "--name", "李华", *options).splitlines()[0]


def test_a_staff_code_makes_the_sender_staff_once(
    chat: Chat, wechat: WeChat, places: None, config_path: Path
) -> None:
    code = staff_code(config_path, "--topic", "环境卫生", "--grid", "第一网格")
    assert chat.say(f"员工 {code}") == (
        "李华，您好！您已登记为社区工作人员。\n回复“帮助”查看工作人员可以使用的指令。"
    )
    assert chat.say("审核") == "目前没有待审核的住址绑定。"  # staff now
    assert Chat(wechat, "o_other").say(f"员工 {code}") == texts.STAFF_CODE_USED
    assert Chat(wechat, "o_other").say("员工 ABCD2345") == texts.STAFF_CODE_UNKNOWN
    assert Chat(wechat, "o_other").say("员工") == texts.STAFF_USAGE
    listed = cli(config_path, "staff", "list")
    assert (
        "李华  o_resident_wang  staff  level 1 (staff)  topics: 环境卫生  grids: 第一网格" in listed
    )


def test_an_expired_staff_code_is_refused(chat: Chat, config_path: Path, clock: Clock) -> None:
    code = staff_code(config_path, "--days", "2")
    clock.advance(days=2, minutes=1)
    assert chat.say(f"员工 {code.lower()}") == texts.STAFF_CODE_EXPIRED
    assert chat.say("审核") == common_texts.NOT_ALLOWED


def test_parse_address_keeps_the_phone_apart() -> None:
    assert parse_address("16-2-501 13812345678") == Address("16", "2", "501", "13812345678")
    assert parse_address("a座-1-101") == Address("a", "1", "101")


def test_asking_twice_for_the_same_place_tells_the_worker_once(
    chat: Chat, worker: Chat, settings: Settings
) -> None:
    chat.say("绑定 16-2-501")
    assert chat.say("绑定 16-2-501 13812345678") == texts.BIND_PENDING_PHONE.format(
        place="16-2-501", phone="138****5678"
    )
    assert [kind for kind, _ in pushes(settings)] == ["binding.requested"]
    assert "138****5678" in (worker.say("审核") or "")


def test_a_staff_code_typed_in_full_width_lower_case_still_works(
    chat: Chat, places: None, config_path: Path
) -> None:
    code = staff_code(config_path, "--topic", "环境卫生")
    typed = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())  # ａｂｃ… as a phone IME gives
    reply = chat.say(f"员工 {typed}")
    assert reply is not None and reply.startswith("李华，您好！您已登记为社区工作人员。")

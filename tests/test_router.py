"""The Router contract: order, roles declared with commands, help for every command."""

from __future__ import annotations

from conftest import Chat, WeChat, make_app
from flask.testing import FlaskClient

from bot.config import Settings
from handlers import Context, Router, build_router, texts
from models import Person, Role


def test_every_command_has_a_help_line() -> None:
    commands = build_router().commands
    assert commands, "the bot should have at least the help command"
    for command in commands:
        assert command.help.strip(), command.name
        assert command.help.startswith(command.name), command.help


def test_a_command_without_help_cannot_be_registered() -> None:
    router = Router("t")
    try:
        router.command("无帮助", help="")
    except ValueError:
        return
    raise AssertionError("a command without help was accepted")


def _staff_router() -> Router:
    staff = Router("staff")

    @staff.command("巡查", help="巡查 <地点>：记录一次巡查", role=Role.STAFF)
    def take(ctx: Context, args: str) -> str:
        return f"已记录巡查 {args}"

    root = build_router()
    root.include(staff)
    return root


def _with_role(settings: Settings, openid: str, role: Role) -> None:
    from datetime import UTC, datetime

    from bot.db import Database

    db = Database(settings)
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(Person(openid=openid, role=role, first_seen_at=now, last_seen_at=now))
    db.dispose()


def test_staff_commands_are_refused_to_residents_and_hidden_from_their_help(
    settings: Settings,
) -> None:
    app = make_app(settings, router=_staff_router())
    wechat = WeChat(app.test_client(), settings)
    resident = Chat(wechat, "o_resident")
    assert resident.say("巡查 12") == texts.NOT_ALLOWED
    assert "巡查" not in (resident.say("帮助") or "")


def test_staff_commands_work_for_staff_and_appear_in_their_help(settings: Settings) -> None:
    app = make_app(settings, router=_staff_router())
    _with_role(settings, "o_grid_worker", Role.STAFF)
    staff = Chat(WeChat(app.test_client(), settings), "o_grid_worker")
    assert staff.say("巡查 12") == "已记录巡查 12"
    assert "巡查 <地点>：记录一次巡查" in (staff.say("帮助") or "")


def test_first_registered_handler_wins(settings: Settings) -> None:
    first, second = Router("first"), Router("second")

    @first.message("image")
    def a(ctx: Context) -> str:
        return "first"

    @second.message("image")
    def b(ctx: Context) -> str:
        return "second"

    root = Router("root")
    root.include(first, second)
    app = make_app(settings, router=root)
    chat = Chat(WeChat(app.test_client(), settings), "o_x")
    assert chat.send("image", PicUrl="p", MediaId="m") == "first"


def test_a_command_word_inside_a_sentence_is_not_a_command(client: FlaskClient, chat: Chat) -> None:
    reply = chat.say("请问帮助在哪里可以找到")
    assert reply is not None and reply.startswith("已登记您反映的问题")

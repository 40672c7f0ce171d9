"""The chat side of the 落实 tests: a conversation on a fixed clock, what was pushed to whom
as they read it, and the steps the tests take between messages (assign, sweep)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from carrying_world import World, publicised_item
from conftest import Clock
from desk import Desk
from sqlalchemy import select

from bot.config import Settings
from bot.delivery import render
from bot.schedule.carrying import overdue, reviews
from models import OutboxMessage, Person
from models.agenda import AgendaItem
from models.carrying import assign, parse_due

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


class FixedClock(Clock):
    """The app's clock, from a fixed moment: moved only by the test."""

    def __call__(self) -> datetime:
        return NOW + self.offset


def told(desk: Desk, openid: str, prefix: str = "agenda.") -> list[str]:
    """What was pushed to `openid`, as they read it, oldest first."""
    with desk.db.session(read_only=True) as s:
        rows = s.execute(
            select(OutboxMessage.kind, OutboxMessage.payload)
            .join(Person, Person.id == OutboxMessage.person_id)
            .where(Person.openid == openid, OutboxMessage.kind.startswith(prefix))
            .order_by(OutboxMessage.id)
        ).all()
    return [render(kind, payload).text for kind, payload in rows]


def said(desk: Desk, openid: str, text: str) -> str:
    """What the bot answers `openid` saying `text` (it always answers these)."""
    reply = desk.chat(openid).say(text)
    assert reply is not None
    return reply


def world_of(desk: Desk, **kw: object) -> World:
    with desk.db.session() as s:
        return publicised_item(s, NOW, **kw)  # type: ignore[arg-type]


def assigned(
    desk: Desk, world: World, owner: str = "王芳", days: int = 14, answerable: str | None = None
) -> None:
    with desk.db.session() as s:
        item = s.get(AgendaItem, world.item_id)
        assert item is not None
        due_at = parse_due(f"{(NOW + timedelta(days=days)):%Y-%m-%d}", SHANGHAI)
        assert due_at is not None
        moment = desk.clock()
        assign(s, item, moment, owner=owner, due_at=due_at, answerable=answerable, tz=SHANGHAI)


def sweep(desk: Desk, settings: Settings) -> list[str | None]:
    """The scheduler's two 落实 sweeps at the clock's time; what each says it did."""
    with desk.db.session() as s:
        return [overdue(s, desk.clock(), settings), reviews(s, desk.clock(), settings)]

"""What the 议事会 tests share: a street with places, bound residents, accepted 议题, and the
CLI run against the test's database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner, Result
from conftest import Chat, WeChat, db_of
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from models import Person
from models.agenda import ACCEPTED, AgendaBacking, AgendaItem, next_number
from models.places import Building, Grid, approve_binding

SHANGHAI = ZoneInfo("Asia/Shanghai")


def places(app: Flask) -> None:
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add_all([Building(name="16", grid_id=grid.id), Building(name="18", grid_id=None)])


def bound(app: Flask, wechat: WeChat, openid: str, address: str, now: datetime) -> Chat:
    chat = Chat(wechat, openid)
    chat.say(f"绑定 {address}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == openid)).one()
        approve_binding(session, person.id, "test", now)
    return chat


def person_id(app: Flask, openid: str) -> int:
    with db_of(app).session(read_only=True) as session:
        return session.scalars(select(Person.id).where(Person.openid == openid)).one()


def accepted_item(
    app: Flask, title: str, now: datetime, backers: tuple[str, ...] = (), stage: str = ACCEPTED
) -> int:
    """An accepted 议题 (as 立项 leaves it) backed by these openids; its number."""
    with db_of(app).session() as session:
        item = AgendaItem(
            number=next_number(session),
            title=title,
            body=title,
            stage=stage,
            stage_at=now,
            created_at=now,
            accepted_at=now,
        )
        session.add(item)
        session.flush()
        for openid in backers:
            who = session.scalars(select(Person).where(Person.openid == openid)).one()
            key = f"p{who.id}"
            session.add(
                AgendaBacking(agenda_id=item.id, unit_key=key, person_id=who.id, created_at=now)
            )
        return item.number


def local(moment: datetime) -> str:
    """A time as an admin types it: naive, in the configured zone (Asia/Shanghai)."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def cli(config: Path, *args: str) -> Result:
    group = args[0] if args[0] != "people" else "people reps"
    rest = args[1:] if args[0] != "people" else args[2:]
    return CliRunner().invoke(main, [*group.split(), rest[0], "--config", str(config), *rest[1:]])


def in_days(now: datetime, days: float) -> datetime:
    return now + timedelta(days=days)

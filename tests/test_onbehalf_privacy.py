"""Privacy of tickets staff filed for a resident: the phone the resident gave is theirs, so
`residents export` shows the tickets it is on and `residents erase` leaves no trace of it;
a staff member's export lists the tickets they filed for others."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, Clock, WeChat, db_of, make_app
from flask import Flask
from sqlalchemy import select, text

from bot.cli import main
from bot.config import Settings
from models import Base, Person, Ticket
from models.places import Building, Grid, approve_binding
from models.staff import add_staff

PHONE = "13812345678"
CALLED = "16号楼2单元楼道的灯坏了好几天了，晚上很黑"
LATER = "16号楼电梯又停了，困了一位老人"


def cli(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--config", str(config_path)])


@pytest.fixture
def app(settings: Settings, clock: Clock, config_path: Path) -> Flask:
    """王 phones in before following the account (#1, kept with the phone only), then binds
    with that phone; 李师傅 takes the next call, now filed for 王 (#2)."""
    app = make_app(settings, clock=clock)
    with db_of(app).session() as session:
        grid = Grid(name="第一网格")
        session.add(grid)
        session.flush()
        session.add(Building(name="16", grid_id=grid.id))
        add_staff(session, "o_li", "李师傅", (), (), None, 1, datetime.now(UTC))
    first = cli(config_path, "tickets", "file", "--channel", "phone", "--phone", PHONE, CALLED)
    assert first.stdout == "#1\n"
    wang = Chat(WeChat(app.test_client(), settings), "o_wang")
    wang.say(f"绑定 16-2-501 {PHONE}")
    with db_of(app).session() as session:
        person = session.scalars(select(Person).where(Person.openid == "o_wang")).one()
        approve_binding(session, person.id, "test", datetime.now(UTC))
    later = ["tickets", "file", "--channel", "phone", "--phone", PHONE, "--by", "o_li", LATER]
    assert cli(config_path, *later).stdout == "#2\n"
    return app


def stored(app: Flask) -> str:
    with db_of(app).engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in conn.execute(text(f"SELECT * FROM {table.name}"))
        )


def test_the_export_shows_the_tickets_with_their_phone(app: Flask, config_path: Path) -> None:
    data = json.loads(cli(config_path, "residents", "export", "o_wang").stdout)
    assert [t["text"] for t in data["tickets"]] == [LATER]
    assert [t["text"] for t in data["tickets_with_their_phone"]] == [CALLED]
    staff = json.loads(cli(config_path, "residents", "export", "o_li").stdout)
    assert staff["staff"]["tickets_filed_for_residents"] == [{"number": 2, "channel": "phone"}]


def test_erase_leaves_no_trace_of_the_phone(app: Flask, config_path: Path) -> None:
    assert PHONE in stored(app)
    result = cli(config_path, "residents", "erase", "o_wang", "--yes")
    assert result.exit_code == 0, result.output
    assert PHONE not in stored(app)
    with db_of(app).session(read_only=True) as session:
        kept = {t.number: t.text for t in session.scalars(select(Ticket))}
    # Their own ticket's text goes; the first call stays (a shared phone may be a neighbour's
    # or a family member's request), only without the number.
    assert kept[1] == CALLED and kept[2] != LATER

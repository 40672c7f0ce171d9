"""`yishiting agenda list|show|create|accept|decline` as an admin uses them (立项)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import OutboxMessage, Person, touch_person
from models.agenda import agenda_by_number
from models.places import Building, approve_binding, request_binding
from models.proposals import back, propose

PROPOSAL = "建议在小区北门空地增加一组健身器材"


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["agenda", args[0], "--config", str(config), *args[1:]])


def residents(settings: Settings, *addresses: str) -> list[int]:
    """A bound resident per address ("16-1-101"): their person ids."""
    db = Database(settings)
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            if not session.scalars(select(Building).where(Building.name == "16")).first():
                session.add(Building(name="16"))
                session.flush()
        ids = []
        for address in addresses:
            with db.transaction() as conn:
                person = touch_person(conn, f"o_{address}", now, wrote=True).id
            with db.session() as session:
                building, unit, room = address.split("-")
                request_binding(session, person, building, unit, room, now)
                approve_binding(session, person, "test", now)
            ids.append(person)
    finally:
        db.dispose()
    return ids


def proposed(settings: Settings, proposer: int, *backers: int, threshold: float = 3) -> int:
    db = Database(settings)
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            item = propose(session, proposer, PROPOSAL, now, unit="household", threshold=threshold)
            for backer in backers:
                back(session, item, backer, now)
            return item.number
    finally:
        db.dispose()


def pushes(settings: Settings, kind: str) -> list[tuple[str, dict[str, Any]]]:
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            rows = session.execute(
                select(Person.openid, OutboxMessage.payload)
                .join(Person, Person.id == OutboxMessage.person_id)
                .where(OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            ).all()
    finally:
        db.dispose()
    return [(openid, payload) for openid, payload in rows]


def test_show_json_is_the_contract(config_path: Path, settings: Settings) -> None:
    proposer, neighbour = residents(settings, "16-1-101", "16-1-102")
    number = proposed(settings, proposer, neighbour)
    result = run(config_path, "show", str(number), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for field in (
        "number",
        "title",
        "stage",
        "backing",
        "backing_threshold",
        "meetings",
        "polls",
        "decision",
        "public_url",
        "objections",
        "owner",
        "due_at",
        "progress",
        "ratings",
    ):
        assert field in data, field
    assert data["number"] == number and data["stage"] == "proposed"
    assert data["backing"] == 2 and data["backing_threshold"] == 3
    assert data["text"] == PROPOSAL and data["ratings"] == {"1": 0, "2": 0, "3": 0}
    plain = run(config_path, "show", str(number))
    assert plain.exit_code == 0 and f"#{number}  {PROPOSAL}  [proposed]" in plain.stdout
    assert "backing 2/3" in plain.stdout and "提议" in plain.stdout
    listed = run(config_path, "list", "--json", "--stage", "proposed")
    assert [json.loads(line)["number"] for line in listed.stdout.splitlines()] == [number]
    assert run(config_path, "list", "--stage", "accepted").stdout == ""
    missing = run(config_path, "show", "99")
    assert missing.exit_code == 1 and "no 议题 #99" in missing.output


def test_accept_tells_the_proposer_and_the_backers(config_path: Path, settings: Settings) -> None:
    proposer, neighbour = residents(settings, "16-1-101", "16-1-102")
    number = proposed(settings, proposer, neighbour)
    result = run(config_path, "accept", str(number), "--by", "王主任")
    assert result.exit_code == 0 and result.stdout.startswith(f"#{number} accepted")
    told = pushes(settings, "agenda.accepted")
    assert [openid for openid, _ in told] == ["o_16-1-101", "o_16-1-102"]
    again = run(config_path, "accept", str(number))
    assert again.exit_code == 0 and "already accepted" in again.stdout
    refused = run(config_path, "decline", str(number), "太贵了")
    assert refused.exit_code == 1 and "is accepted: it cannot be declined now" in refused.output
    data = json.loads(run(config_path, "show", str(number), "--json").stdout)
    assert data["stage"] == "accepted"
    assert "(王主任)" in run(config_path, "show", str(number)).stdout


def test_accept_may_name_the_item_for_the_minutes_polls_and_public_page(
    config_path: Path, settings: Settings
) -> None:
    proposer, neighbour = residents(settings, "16-1-101", "16-1-102")
    number = proposed(settings, proposer, neighbour)
    signed = run(config_path, "accept", str(number), "--by", "名" * 65)
    assert signed.exit_code == 2 and "at most 64 characters" in signed.output  # the column's
    long = run(config_path, "accept", str(number), "--title", "长" * 101)
    assert long.exit_code == 1 and "at most 100" in long.output
    named = run(config_path, "accept", str(number), "--title", "北门空地增设健身器材")
    assert named.exit_code == 0, named.output
    data = json.loads(run(config_path, "show", str(number), "--json").stdout)
    assert data["title"] == "北门空地增设健身器材" and data["text"] == PROPOSAL


def test_decline_needs_a_reason_and_tells_it_as_written(
    config_path: Path, settings: Settings
) -> None:
    proposer, neighbour = residents(settings, "16-1-101", "16-1-102")
    number = proposed(settings, proposer, neighbour)
    assert run(config_path, "decline", str(number)).exit_code == 2  # REASON is missing
    blank = run(config_path, "decline", str(number), "  ")
    assert blank.exit_code == 1 and "a reason is needed" in blank.output
    reason = "该空地是消防通道，不能占用"
    assert run(config_path, "decline", str(number), reason).exit_code == 0
    told = pushes(settings, "agenda.declined")
    assert [(o, p["reason"]) for o, p in told] == [("o_16-1-101", reason), ("o_16-1-102", reason)]
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            item = agenda_by_number(session, number)
            assert item is not None and item.decline_reason == reason
    finally:
        db.dispose()


def test_create_opens_an_accepted_item(config_path: Path, settings: Settings) -> None:
    result = run(config_path, "create", "--title", "小区停车位规划", "--text", "讨论新增停车位")
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first == "#1 小区停车位规划"
    data = json.loads(run(config_path, "show", "1", "--json").stdout)
    assert data["stage"] == "accepted" and data["text"] == "讨论新增停车位"
    assert data["community"] is None
    empty = run(config_path, "create", "--title", " ")
    assert empty.exit_code == 1 and "a title is needed" in empty.output
    unknown = run(config_path, "create", "--title", "x", "--community", "没有这个社区")
    assert unknown.exit_code == 1 and "no community named" in unknown.output

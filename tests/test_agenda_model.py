"""The 议题's stages move one way, every move is on its timeline, and its JSON is the
contract `agenda show --json` prints — on SQLite and on PostgreSQL (which holds the columns'
lengths)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings
from bot.db import Database
from models.agenda import (
    ACCEPTED,
    DECLINED,
    PROPOSED,
    PUBLICISED,
    VOTING,
    AgendaError,
    AgendaItem,
    move,
    needed_backing,
    next_number,
    timeline,
    title_of,
)
from models.agenda_json import agenda_json

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROPOSAL = "我提议在小区北门空地增加一组健身器材，方便老人锻炼。\n具体位置可以再商量。"


def _item(db: Database) -> int:
    with db.session() as s:
        item = AgendaItem(
            number=next_number(s),
            title=title_of(PROPOSAL),
            body=PROPOSAL,
            stage=PROPOSED,
            stage_at=NOW,
            created_at=NOW,
            backing_needed=needed_backing(10, 200),
        )
        s.add(item)
        s.flush()
        return item.id


def test_a_proposal_moves_through_its_stages_and_each_move_is_on_its_timeline(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    item_id = _item(db)
    with db.session() as s:
        item = s.get(AgendaItem, item_id)
        assert item is not None
        with pytest.raises(AgendaError) as refused:
            move(s, item, PUBLICISED, NOW)  # not before it is on the agenda
        assert refused.value.reason == "stage"
        assert move(s, item, ACCEPTED, NOW + timedelta(hours=1), actor="王主任")
        assert not move(s, item, ACCEPTED, NOW + timedelta(hours=2))  # already there
        assert move(s, item, VOTING, NOW + timedelta(days=1))
        with pytest.raises(AgendaError):
            move(s, item, DECLINED, NOW + timedelta(days=2))  # too late to decline
        kinds = [(e.kind, e.actor) for e in timeline(s, item.id)]
        assert kinds == [(ACCEPTED, "王主任"), (VOTING, "")]
        data = agenda_json(s, item, SHANGHAI, "https://ysk.example.org/")
    db.dispose()
    assert data["number"] == 1
    assert data["title"] == "我提议在小区北门空地增加一组健身器材，方便老人锻炼。"  # its first line
    assert data["text"] == PROPOSAL  # kept exactly as written
    assert data["stage"] == "voting"
    assert (data["backing"], data["backing_threshold"]) == (0, 10)
    assert data["meetings"] == data["polls"] == data["progress"] == []
    assert data["decision"] is None and data["public_url"] is None
    assert data["ratings"] == {"1": 0, "2": 0, "3": 0}


def test_the_backing_threshold_is_a_count_or_a_share_of_the_households() -> None:
    assert needed_backing(10, 500) == 10
    assert needed_backing(0.05, 500) == 25
    assert needed_backing(0.05, 3) == 1  # a share never asks for none
    assert needed_backing(0, 500) == 0  # no threshold

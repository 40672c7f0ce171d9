"""`residents export|erase` cover a resident's part in the 议 cycle: the items they proposed,
their backing, RSVPs, objections, ratings and 回头看 answers. Erasure keeps the committee's
record and the figures residents were told (backing counts, attendance, 满意率)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from agenda_figures import NOW, T0, seed
from click.testing import CliRunner, Result
from conftest import Clock, db_of, make_app
from flask import Flask
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from models.agenda import (
    PROPOSED,
    AgendaBacking,
    AgendaEvent,
    AgendaItem,
    AgendaObjection,
    AgendaRating,
    agenda_by_number,
    backing_count,
    record,
)
from models.kpi_agenda import pipelines
from models.meetings import Meeting, MeetingInvite, Representative, meeting_json
from models.outbox import OutboxMessage
from models.privacy import ERASED_TEXT

OPENID = "o_resident_0"
OBJECTION = "器材离我家窗户太近，晚上会吵"
NOTE = "器材已经坏了两件，住在3号楼的张阿姨常去"
PROPOSAL = "希望在3号楼下装一个快递柜，我家老人取件不便"


@pytest.fixture
def cycle_app(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The fixed items, and resident 0 everywhere: proposer of #1 (taken onto the agenda)
    and of #8 (still waiting), backer of #2 (per person) and #3 (per household), invited to
    meeting #1 (参加), objector and rater (with a 回头看 note) on #1, a representative; an
    admin's push quotes the objection."""
    app = make_app(backend_settings, clock=clock)
    with db_of(app).session() as s:
        f = seed(s)
        me = f.people[0]
        first = agenda_by_number(s, 1)
        assert first is not None
        first.proposer_id = me
        record(s, first, PROPOSED, T0, text=first.body, person_id=me)
        eighth = AgendaItem(number=8, title="希望在3号楼下装一个快递柜", body=PROPOSAL,
                            community_id=f.east, proposer_id=me, stage=PROPOSED,
                            stage_at=T0, created_at=T0)  # fmt: skip
        s.add(eighth)
        s.flush()
        second = agenda_by_number(s, 2)
        assert second is not None
        s.add(AgendaBacking(agenda_id=second.id, unit_key=f"p{me}", person_id=me, created_at=T0))
        s.add(AgendaObjection(agenda_id=first.id, person_id=me, text=OBJECTION, created_at=T0))
        rating = s.scalars(select(AgendaRating).where(AgendaRating.person_id == me)).one()
        rating.review_note = NOTE
        s.add(Representative(person_id=me, community_id=f.east, added_by="李主任", added_at=T0))
        s.add(OutboxMessage(kind="agenda.objection", person_id=f.people[4],
                            payload={"agenda": 1, "text": OBJECTION}, dedupe_key="obj:1",
                            status="pending", attempts=0, next_attempt_at=NOW,
                            created_at=NOW))  # fmt: skip
    yield app
    db_of(app).dispose()


def residents(config_path: Path, settings: Settings, *args: str) -> Result:
    env = {"YISHITING_APP_DATABASE_URL": settings.app.database_url}
    argv = ["residents", args[0], "--config", str(config_path), *args[1:]]
    return CliRunner().invoke(main, argv, env=env)


def test_export_shows_every_part_they_took_in_the_cycle(
    cycle_app: Flask, backend_settings: Settings, config_path: Path
) -> None:
    result = residents(config_path, backend_settings, "export", OPENID, "--actor", "张主任")
    assert result.exit_code == 0, result.output
    agenda = json.loads(result.stdout)["agenda"]
    assert [p["number"] for p in agenda["proposals"]] == [1, 8]
    assert agenda["proposals"][1]["body"] == PROPOSAL
    assert sorted((b["agenda_number"], b["unit_key"][0]) for b in agenda["backing"]) == [
        (2, "p"), (3, "h")]  # fmt: skip
    assert [(o["agenda_number"], o["text"]) for o in agenda["objections"]] == [(1, OBJECTION)]
    [rating] = agenda["ratings"]
    assert (rating["agenda_number"], rating["rating"], rating["review_note"]) == (1, 1, NOTE)
    [invite] = agenda["meeting_invites"]
    assert (invite["meeting_number"], invite["answer"]) == (1, "attend")
    assert agenda["representative"]["added_by"] == "李主任"
    assert [e["agenda_number"] for e in agenda["timeline"]] == [1]
    assert "o_resident_1" not in result.stdout  # nobody else's
    other = json.loads(result.stdout)["other"]  # every table of the cycle has its section
    assert not any(name.startswith(("agenda", "meeting", "representative")) for name in other)


def test_erase_keeps_the_record_and_the_figures_but_not_them(
    cycle_app: Flask, backend_settings: Settings, config_path: Path
) -> None:
    def figures() -> tuple[object, ...]:
        with db_of(cycle_app).session(read_only=True) as s:
            found = pipelines(s, NOW)
            meeting = s.scalars(select(Meeting)).one()
            return (
                [backing_count(s, n) for n in range(1, 9)],
                {k: (v.items, v.stages, v.rated, v.satisfaction_rate) for k, v in found.items()},
                {k: v for k, v in meeting_json(s, meeting, T0.tzinfo).items() if k != "at"},  # type: ignore[arg-type]
                len(list(s.scalars(select(AgendaObjection)))),
            )

    before = figures()
    result = residents(config_path, backend_settings, "erase", OPENID, "--yes")
    assert result.exit_code == 0, result.output
    assert "agenda_proposals 2" in result.stdout and "agenda_pushes_redacted 1" in result.stdout
    assert figures() == before  # nothing residents were told changes
    with db_of(cycle_app).session(read_only=True) as s:
        first, eighth = agenda_by_number(s, 1), agenda_by_number(s, 8)
        assert first is not None and eighth is not None
        # The committee's item stays, under its agenda name; who asked and their words go.
        assert (first.proposer_id, first.body, first.decision) == (None, ERASED_TEXT, "=1+1 通过")
        assert first.title.startswith("在北门空地增加一组健身器材")
        assert (eighth.proposer_id, eighth.title, eighth.body) == (None, ERASED_TEXT, ERASED_TEXT)
        texts = [o.text for o in s.scalars(select(AgendaObjection))]
        assert OBJECTION not in texts and ERASED_TEXT in texts
        notes = [r.review_note for r in s.scalars(select(AgendaRating))]
        assert NOTE not in notes
        keys = sorted(b.unit_key for b in s.scalars(select(AgendaBacking)))
        assert not any(k.startswith("p") for k in keys) and any(k.startswith("x") for k in keys)
        assert s.scalars(select(Representative)).all() == []
        assert all(e.person_id is None for e in s.scalars(select(AgendaEvent)))
        assert len(list(s.scalars(select(MeetingInvite)))) == 3  # the RSVP counts stay
        push = s.scalars(select(OutboxMessage)).one()
        assert push.payload == {"agenda": 1, "text": ERASED_TEXT}
        stored = repr([(i.title, i.body) for i in s.scalars(select(AgendaItem))])
    for trace in (PROPOSAL, OBJECTION, NOTE, "具体位置可以再商量"):
        assert trace not in stored

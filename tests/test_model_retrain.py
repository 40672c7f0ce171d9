"""The nightly retrain: a new model when enough tickets were confirmed since the one in use,
and every running process filing with it within [classifier] reload_seconds."""

from __future__ import annotations

import json
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Clock
from desk import Desk
from sqlalchemy import select
from test_model_cli import (
    LABELED,
    PROBE,
    REPORTS,
    confirm,
    file_reports,
    leave_out_the_starter_set,
    stored,
)

from bot.classify import training
from bot.classify.evaluate import Labeled
from bot.classify.model import Model
from bot.classify.training import train_items
from bot.cli import main
from bot.config import Settings
from bot.db import Database
from bot.schedule import Timekeeper, jobs
from models import JobRun, Ticket
from models.learned import ClassifierModel


def runs(settings: Settings, job: str) -> list[JobRun]:
    db = Database(settings)
    with db.session(read_only=True) as session:
        found = list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.id)))
    db.dispose()
    return found


def filed(settings: Settings, number: int) -> tuple[str, str | None, str | None]:
    """Ticket #number's text, who set its topic, and the topic."""
    db = Database(settings)
    with db.session(read_only=True) as session:
        found = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        shown = (found.text, found.topic_by, found.topic.name if found.topic else None)
    db.dispose()
    return shown


def model_id(settings: Settings) -> int | None:
    row, _ = stored(settings)
    return row.id if row is not None else None


def nightly(settings: Settings, monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """The scheduler's retrain job, run at `at`."""
    db = Database(settings)
    monkeypatch.setattr(jobs, "RUNTIME", jobs.Runtime(settings, db, lambda: at))
    try:
        jobs.retrain()
    finally:
        db.dispose()


@pytest.fixture
def nights(settings: Settings) -> Settings:
    return settings.replace(
        classifier={"retrain_min_new": 3}, scheduler={"housekeeping_at": "03:30"}
    )


def test_the_nightly_retrain_waits_for_enough_newly_confirmed_tickets(
    nights: Settings,
    config_path: Path,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leave_out_the_starter_set(monkeypatch)
    desk = Desk(nights, clock)
    file_reports(desk, REPORTS)
    desk.close()
    confirm(config_path, 1, "电梯设施")
    confirm(config_path, 2, "噪音扰民")
    before, _ = stored(nights)
    first_night = datetime(2026, 12, 7, 3, 30, 5, tzinfo=nights.tz)
    nightly(nights, monkeypatch, first_night)
    [run] = runs(nights, "retrain")
    assert run.summary == (
        f"2 ticket(s) confirmed since {f'model #{before.id}' if before else 'no model'}; "
        "retrains from 3"
    )
    assert model_id(nights) == (before.id if before else None)  # not retrained

    confirm(config_path, 3, "绿化园林")
    nightly(nights, monkeypatch, first_night + timedelta(minutes=5))  # the same night
    assert len(runs(nights, "retrain")) == 1  # that night's run is done

    second_night = first_night + timedelta(days=1)
    nightly(nights, monkeypatch, second_night)
    row, model = stored(nights)
    assert row is not None and model is not None
    assert (row.created_by, row.confirmed, row.last_ticket_id) == ("scheduler", 3, 3)
    assert row.created_at == second_night.astimezone(UTC)
    last = runs(nights, "retrain")[-1]
    assert last.summary is not None and last.summary.startswith("3 ticket(s) confirmed since")
    assert (
        f"trained model #{row.id} on " in last.summary and "(3 confirmed tickets)" in last.summary
    )

    nightly(nights, monkeypatch, second_night + timedelta(days=1))  # nothing new since
    assert (
        runs(nights, "retrain")[-1].summary
        == f"0 ticket(s) confirmed since model #{row.id}; retrains from 3"
    )
    assert model_id(nights) == row.id


def test_no_nightly_retrain_when_it_is_switched_off(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = settings.replace(classifier={"retrain_min_new": 0})
    nightly(off, monkeypatch, datetime(2026, 12, 7, 3, 30, tzinfo=UTC))
    assert runs(off, "retrain") == []


def test_a_model_the_scheduler_trains_reaches_a_running_process(
    settings: Settings, config_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live conversation service is unsure of a text; the scheduler, in its own thread with
    its own database handle, retrains on the tickets staff confirmed; within reload_seconds
    the same text from another resident is filed by the model."""
    leave_out_the_starter_set(monkeypatch)
    live = settings.replace(classifier={"reload_seconds": 1, "retrain_min_new": 3})
    desk = Desk(live, clock)
    try:
        file_reports(desk, REPORTS[:3])
        for number, topic in ((1, "电梯设施"), (2, "噪音扰民"), (3, "绿化园林")):
            confirm(config_path, number, topic)
        before, _ = stored(live)
        asked = desk.chat("o_first").say(PROBE)
        assert filed(live, 4)[1] is None  # unsure: the resident is asked
        assert asked is not None and "1" in asked

        due = (datetime.now(live.tz) + timedelta(seconds=5)).replace(microsecond=0)
        tonight = live.replace(
            scheduler={"housekeeping_at": due.strftime("%H:%M:%S"), "sweep_seconds": 3600}
        )
        keeper = Timekeeper(tonight, Database(tonight))
        keeper.start()
        try:
            deadline = time.monotonic() + 60
            while not runs(live, "retrain") or runs(live, "retrain")[-1].finished_at is None:
                assert time.monotonic() < deadline, "the retrain did not run"
                time.sleep(0.2)
        finally:
            keeper.stop()
            keeper.db.dispose()
        row, _ = stored(live)
        assert row is not None and row.created_by == "scheduler"
        assert before is None or row.id != before.id

        time.sleep(1.1)  # reload_seconds
        reply = desk.chat("o_second").say(PROBE)
        assert reply is not None and "类别：绿化园林" in reply
        assert filed(live, 5) == (PROBE, "model", "绿化园林")
    finally:
        desk.close()


STARTER = [
    ("孔雀在花坛里吃花", "绿化园林"),
    ("孔雀把草坪踩坏了", "绿化园林"),
    ("电梯坏了卡在三楼", "电梯设施"),
    ("电梯门夹人", "电梯设施"),
]


def write_starter(path: Path, items: list[tuple[str, str]] = STARTER) -> Path:
    path.write_text(
        "".join(
            json.dumps({"text": t, "label": label}, ensure_ascii=False) + "\n" for t, label in items
        ),
        encoding="utf-8",
    )
    return path


def test_the_starter_model_is_trained_once_per_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.classify.model.STARTER", write_starter(tmp_path / "starter.jsonl"))
    monkeypatch.setattr(training, "_memo", {})
    cache = tmp_path / "cache"
    cache.mkdir()
    first = training.starter_model_bytes(cache)
    assert first is not None
    [kept] = cache.glob("yishiting-starter-*.model")
    assert kept.read_bytes() == first and kept.stat().st_mode & 0o077 == 0
    assert Model.from_bytes(first).labels == ("电梯设施", "绿化园林")

    # Another process on this machine reads the file instead of training: a model put there
    # (with other labels) is what it gets.
    other = train_items([Labeled(t, label) for t, label in LABELED], []).model.to_bytes()
    kept.write_bytes(other)
    monkeypatch.setattr(training, "_memo", {})
    assert training.starter_model_bytes(cache) == other
    assert training.starter_model_bytes(cache) == other  # and keeps it for the process

    # A damaged file is trained afresh and replaced.
    kept.write_bytes(b"not a model")
    monkeypatch.setattr(training, "_memo", {})
    again = training.starter_model_bytes(cache)
    assert again is not None and Model.from_bytes(again).labels == ("电梯设施", "绿化园林")
    assert kept.read_bytes() == again

    # A changed starter set is another model, in another file.
    write_starter(tmp_path / "starter.jsonl", [*STARTER, ("楼上装修电钻太吵", "噪音扰民")])
    changed = training.starter_model_bytes(cache)
    assert changed is not None and len(Model.from_bytes(changed).labels) == 3
    assert len(list(cache.glob("yishiting-starter-*.model"))) == 2


def test_init_saves_the_starter_model_once(
    empty_config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.classify.model.STARTER", write_starter(tmp_path / "starter.jsonl"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setattr(training, "_memo", {})  # as in a new process
    result = CliRunner().invoke(main, ["init", "--config", str(empty_config_path)])
    assert result.exit_code == 0, result.output
    assert (
        "learned classifier: the starter model (4 labeled examples) is in use when the rules are "
        "unsure; `yishiting model train` adds confirmed tickets"
    ) in result.stdout.splitlines()
    cached = list(tmp_path.glob("yishiting-starter-*.model"))
    assert len(cached) == 1
    again = CliRunner().invoke(main, ["init", "--config", str(empty_config_path)])
    assert again.exit_code == 0 and "learned classifier" not in again.stdout
    shown = CliRunner().invoke(main, ["model", "show", "--config", str(empty_config_path)])
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("model #1 (in use): trained 20") and lines[0].endswith(" by init")
    assert lines[1] == "learned from 4 labeled texts: 4 of the starter set, 0 confirmed ticket(s)"


def test_two_trainings_saved_at_the_same_moment_keep_the_last_five(
    backend_settings: Settings,
) -> None:
    """`model train` run twice at once (or while the nightly retrain saves): both saves
    succeed, the last one is in use, and nothing is warned about an old row the other save
    deleted first."""
    db = Database(backend_settings)
    now = datetime.now(UTC)
    model = train_items([Labeled(t, label) for t, label in LABELED], []).model.to_bytes()

    def save(by: str) -> None:
        with db.session() as session:
            training.save_model(
                session, model, now=now, by=by, examples=12, confirmed=0, last_ticket_id=None
            )

    for n in range(5):
        save(f"earlier {n}")
    problems: list[BaseException] = []

    def the_other_training() -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                save("second")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            problems.append(exc)

    with db.session() as session:
        training.save_model(
            session, model, now=now, by="first", examples=12, confirmed=0, last_ticket_id=None
        )
        session.flush()
        other = threading.Thread(target=the_other_training)
        other.start()
        time.sleep(1)  # the other save waits for this one on PostgreSQL
    other.join()
    with db.session(read_only=True) as session:
        kept = list(session.scalars(select(ClassifierModel).order_by(ClassifierModel.id)))
        shown = [(row.created_by) for row in kept]
    db.dispose()
    assert problems == []
    assert shown[-2:] == ["first", "second"]  # the last saved is in use
    assert len(shown) <= 6  # each trims what it saw; the next save trims to five

"""附议 on both databases: one backing per household however many members back at once, and
the admins told exactly once when the backing reaches the threshold."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from bot.config import Settings
from bot.db import Database
from models import OutboxMessage, Person, Role, touch_person
from models.agenda import THRESHOLD, AgendaBacking, AgendaEvent, AgendaItem
from models.places import Building, approve_binding, request_binding
from models.proposals import Backed, back, propose

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_concurrent_backing_counts_each_household_once_and_pushes_once(
    backend_settings: Settings,
) -> None:
    """81 people in 41 households (40 with two members) back at once from 4 threads, on a
    threshold of 30 households: 41 backings, one threshold push to the admin."""
    db = Database(backend_settings)
    with db.session() as session:
        session.add(Building(name="16"))
    with db.transaction() as conn:
        people = [touch_person(conn, f"o_{n}", NOW, wrote=True).id for n in range(81)]
        admin = touch_person(conn, "o_admin", NOW, wrote=True).id
    with db.session() as session:
        session.execute(update(Person).where(Person.id == admin).values(role=Role.ADMIN))
        for n, person_id in enumerate(people):
            request_binding(session, person_id, "16", "1", str(n % 41), NOW)
            approve_binding(session, person_id, "test", NOW)
    with db.session() as session:
        item_id = propose(
            session, people[0], "建议增加快递柜", NOW, unit="household", threshold=30
        ).id
    results: list[Backed] = []
    errors: list[BaseException] = []

    def backing(batch: list[int]) -> None:
        worker_db = Database(backend_settings)
        try:
            for person_id in batch:
                with worker_db.session() as session:
                    item = session.get(AgendaItem, item_id)
                    assert item is not None
                    results.append(back(session, item, person_id, NOW))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            worker_db.dispose()

    others = people[1:]
    threads = [threading.Thread(target=backing, args=(others[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session(read_only=True) as session:
        keys = list(session.scalars(select(AgendaBacking.unit_key)))
        pushed = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "agenda.threshold")
        )
        events = session.scalar(
            select(func.count(AgendaEvent.id)).where(AgendaEvent.kind == THRESHOLD)
        )
    assert len(keys) == len(set(keys)) == 41
    assert sum(r.added for r in results) == 40  # the proposer's household was the first
    assert sum(r.threshold_reached for r in results) == 1
    assert [r.count for r in results if r.threshold_reached] == [30]
    assert pushed == 1 and events == 1
    db.dispose()

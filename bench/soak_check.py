"""The soak's final consistency check (bench/soak.py), on the database and the fake WeChat.

Pushes, as models/lifecycle.py and models/tickets.py queue them:
- a ticket routed when filed (assigned_reason not "triage") has exactly one `ticket.assigned`
  row keyed `ticket.assigned:<id>:filed:<assignee>`, for that assignee;
- each `accept` on its timeline has one `ticket.accepted` row for the ticket's resident, and
  each `resolve` one `ticket.resolved` row (tell_resident: one row per move);
- every ticket number a resident was told exists.
Delivery: nothing left pending or sending once the lease has run out, nothing dead (the fake's
faults are transient: -1 and HTTP 500, retried), and what the fake received versus rows sent
(a worker killed mid-batch may send its batch twice: counted as duplicates, not failures).
Ballots: the tally counts each voting unit once (tally == rows == distinct units), every
household given a receipt has its ballot, and no ballot is for a household that never voted.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import requests
from sqlalchemy import func, select

from bot.db import Database
from models import Ballot, OutboxMessage, Ticket
from models.polls import poll_by_number, tally
from models.tickets import TicketEvent

TICKET_KINDS = ("ticket.assigned", "ticket.accepted", "ticket.resolved")


def drain(db: Database, seconds: float) -> float:
    """Wait until no push is pending or sending; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with db.session(read_only=True) as session:
            waiting = session.scalar(
                select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not waiting:
            break
        time.sleep(2)
    return time.monotonic() - started


def check_tickets(db: Database, filed: set[int], problems: list[str]) -> dict[str, Any]:
    with db.session(read_only=True) as session:
        tickets = session.execute(
            select(Ticket.id, Ticket.number, Ticket.person_id, Ticket.assigned_reason)
        ).all()
        moves = Counter(
            (ticket_id, action)
            for ticket_id, action in session.execute(
                select(TicketEvent.ticket_id, TicketEvent.action).where(
                    TicketEvent.action.in_(("accept", "resolve"))
                )
            )
        )
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.person_id, OutboxMessage.payload,
                   OutboxMessage.dedupe_key).where(OutboxMessage.kind.in_(TICKET_KINDS))
        ).all()  # fmt: skip
    pushes: dict[tuple[int, str], list[tuple[int | None, str]]] = {}
    for kind, person_id, payload, key in rows:
        pushes.setdefault((int(payload["ticket"]), kind), []).append((person_id, key))
    missing = Counter[str]()
    for ticket_id, _number, resident, reason in tickets:
        assigned = [
            (p, k) for p, k in pushes.get((ticket_id, "ticket.assigned"), []) if ":filed:" in k
        ]
        if reason != "triage" and (
            len(assigned) != 1 or assigned[0][1].rsplit(":", 1)[1] != str(assigned[0][0])
        ):
            missing["ticket.assigned"] += 1
        for action, kind in (("accept", "ticket.accepted"), ("resolve", "ticket.resolved")):
            told = pushes.get((ticket_id, kind), [])
            if len(told) != moves[(ticket_id, action)] or any(p != resident for p, _ in told):
                missing[kind] += 1
    for kind, count in missing.items():
        problems.append(f"{count} tickets without exactly their {kind} pushes")
    numbers = {number for _, number, _, _ in tickets}
    if filed - numbers:
        problems.append(f"{len(filed - numbers)} ticket numbers told to residents do not exist")
    return {
        "tickets": len(tickets),
        "unrouted": sum(1 for t in tickets if t[3] == "triage"),
        "accepts": sum(n for (_, a), n in moves.items() if a == "accept"),
        "resolves": sum(n for (_, a), n in moves.items() if a == "resolve"),
        "acknowledged": len(filed),
    }


def check_outbox(db: Database, fake_url: str, problems: list[str]) -> dict[str, Any]:
    with db.session(read_only=True) as session:
        statuses = Counter(
            dict(
                session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
        )
        sent = Counter(
            dict(
                session.execute(
                    select(OutboxMessage.channel, func.count())
                    .where(OutboxMessage.status == "sent")
                    .group_by(OutboxMessage.channel)
                ).all()
            )
        )
    for status in ("pending", "sending", "dead"):
        if statuses[status]:
            problems.append(f"{statuses[status]} outbox rows {status}")
    received = requests.get(f"{fake_url}_fake/received", timeout=60).json()
    faults = requests.get(f"{fake_url}_fake/faults", timeout=10).json()
    got = Counter(r["api"] for r in received)
    duplicates = got["custom"] - sent["cs"] + got["template"] - sent["template"]
    return {"statuses": dict(statuses), "sent by channel": dict(sent), "received": dict(got),
            "faults": faults,
            "duplicates": duplicates}  # fmt: skip


def check_ballots(db: Database, stats: Any, problems: list[str]) -> dict[str, Any]:
    with db.session(read_only=True) as session:
        poll = poll_by_number(session, 1)
        assert poll is not None
        counted = tally(session, poll)
        units = set(session.scalars(select(Ballot.unit_key).where(Ballot.poll_id == poll.id)))
        rows = session.scalar(select(func.count()).where(Ballot.poll_id == poll.id))
    if not counted.ballots == rows == len(units) == sum(counted.counts.values()):
        problems.append(f"tally {counted.ballots} vs {rows} ballot rows, {len(units)} units")
    if stats.receipted - units:
        problems.append(f"{len(stats.receipted - units)} receipted households have no ballot")
    if units - stats.voted:
        problems.append(f"{len(units - stats.voted)} ballots from households that never voted")
    return {"ballots": counted.ballots, "receipted": len(stats.receipted),
            "households voting": len(stats.voted)}  # fmt: skip


def check(db: Database, fake_url: str, stats: Any) -> tuple[dict[str, Any], list[str]]:
    """Figures and problems (empty: consistent), after waiting for delivery to finish."""
    figures: dict[str, Any] = {"drain seconds": round(drain(db, 180), 1)}
    problems: list[str] = []
    figures |= check_tickets(db, stats.filed, problems)
    figures |= check_outbox(db, fake_url, problems)
    figures |= check_ballots(db, stats, problems)
    return figures, problems

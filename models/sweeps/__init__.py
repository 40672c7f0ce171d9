"""督·评·议 in time: the domain acts the scheduler's sweep runs on whatever is due by `now`.

Each takes the session, the time and the policy numbers (the scheduler reads them from the
config), acts on a batch of what is due, and records on the row what it did (warned_at,
rating_reminded_at, a poll's announced_at …), so running it again does nothing twice; each
push it queues has a dedupe key per event besides (models/pushes.py).
"""

from .polls import PollPolicy, sweep_polls
from .tickets import (
    BATCH,
    TicketPolicy,
    ask_followups,
    remind_ratings,
    triage_unassigned,
    watch_deadlines,
)

__all__ = [
    "BATCH",
    "PollPolicy",
    "TicketPolicy",
    "ask_followups",
    "remind_ratings",
    "sweep_polls",
    "triage_unassigned",
    "watch_deadlines",
]

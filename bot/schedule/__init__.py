"""Time: the scheduler's few fixed jobs, the lock that keeps one scheduler active, the sweeps."""

from . import (  # noqa: F401 - registers their sweeps
    api_audit,
    carrying,
    meetings,
    polls,
    publicity,
    tickets,
)
from .jobs import SWEEPS, register_sweep
from .runner import SchedulerLock, Timekeeper

__all__ = ["SWEEPS", "SchedulerLock", "Timekeeper", "register_sweep"]

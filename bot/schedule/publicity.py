"""公示 in time: the publicity period ends; objections wait for an admin."""

from __future__ import annotations

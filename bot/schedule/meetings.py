"""议事会 in time: the day-before reminder to those who said 参加."""

from __future__ import annotations

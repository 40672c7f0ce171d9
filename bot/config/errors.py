"""The errors config raises: each message names the key (and, for a start refused, the fix)."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing or has a value we cannot use; the message names the key."""


class UnsafeStart(ConfigError):
    """Production mode with a setting that must not go live (the example secret, no token)."""


class ConfigProblems(ConfigError):
    """Several problems found together (the [[accounts]] entries): one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

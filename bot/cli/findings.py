"""One line of `check-config`'s report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A check that passed (`✓ what`) or a problem with its fix (`✗ what — fix`)."""

    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        return f"✓ {self.what}" if self.ok else f"✗ {self.what} — {self.fix}"

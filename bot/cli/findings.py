"""One line of `check-config`'s report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A check that passed (`✓ what`), a problem with its fix (`✗ what — fix`), or a warning
    that does not fail the check (`! what — fix`: ok, but meant to be temporary)."""

    ok: bool
    what: str
    fix: str = ""
    warn: bool = False

    def line(self) -> str:
        if self.ok and self.warn:
            return f"! {self.what} — {self.fix}"
        return f"✓ {self.what}" if self.ok else f"✗ {self.what} — {self.fix}"

"""`yishiting status`: /readyz's checks for a person at a terminal (exit status 0 or 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from ..db import Database
from ..health import readiness, summary
from .common import config_option, settings_from


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="The checks as one JSON object.")
def status(config_path: str | None, as_json: bool) -> None:
    """Is everything in order? Database, migrations, scheduler, outbox, the webhook's spool
    (exit 1 if not; a warning, such as messages waiting in the spool, does not fail)."""
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        checks = readiness(settings, db, datetime.now(UTC))
    finally:
        db.dispose()
    ready = all(check.ok for check in checks)
    if as_json:
        click.echo(json.dumps(summary(checks), ensure_ascii=False))
    else:
        for check in checks:
            mark = ("!" if check.warn else "✓") if check.ok else "✗"
            click.echo(f"{mark} {check.name}: {check.detail}")
        degraded = any(check.warn for check in checks)
        click.echo(("ready (with warnings)" if degraded else "ready") if ready else "NOT ready")
    raise SystemExit(0 if ready else 1)

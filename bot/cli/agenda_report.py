"""`yishiting agenda report --year Y --format csv|xlsx [-o FILE] [--community C]`: the annual
report of 议题 a committee files (models/agenda_report.py says which items and what columns).

Without -o (or with -o -) the file goes to stdout, so that it can be piped; nothing else is
written there."""

from __future__ import annotations

from pathlib import Path

import click

from models.agenda_report import annual_report

from ..agenda_files import FORMATS, report_file
from ..db import Database
from .common import community_option, config_option, scope_of, settings_from

FIRST_YEAR = 2000


@click.command("report")
@config_option
@community_option
@click.option("--year", type=int, required=True, help="The year (local time), e.g. 2026.")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(FORMATS)), default="csv", show_default=True
)
@click.option("-o", "--output", default="-", metavar="FILE", help="Where to write (- : stdout).")
def report(
    config_path: str | None, community: str | None, year: int, fmt: str, output: str
) -> None:
    """Every 议题 of YEAR with its meetings, votes, decision, outcome and ratings."""
    if not FIRST_YEAR <= year <= 9998:
        raise click.ClickException(f"--year {year}: give a year such as 2026")
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            rows = annual_report(session, year, settings.tz, scope.community_id)
    finally:
        db.dispose()
    body = report_file(rows, year, fmt)
    if output == "-":
        click.echo(body, nl=False)  # bytes: written as they are
        return
    try:
        Path(output).write_bytes(body)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"{len(rows)} 议题 → {output}")

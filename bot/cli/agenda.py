"""`yishiting agenda …`: 议题 from the command line (the commands are added per stage)."""

from __future__ import annotations

import click


@click.group()
def agenda() -> None:
    """议题: proposals, the agenda, 公示 and 落实."""

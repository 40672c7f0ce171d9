"""`model train|show`: the learned classifier — trained from the database (the starter set and
every confirmed ticket) or from a labeled file, and what the model in use learned from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import click

from models.learned import newest_model

from ..classify.evaluate import Labeled, read_labeled
from ..classify.training import (
    Trained,
    TrainingError,
    confirmed_since,
    row_summary,
    save_trained,
    train_from_database,
    train_items,
)
from ..db import Database
from ..nlp import load_segmenter
from .classify import load_model_file
from .common import config_option, settings_from


@click.group()
def model() -> None:
    """The learned classifier the rules fall back on when they are unsure: train it, show the
    one in use."""


@model.command("train")
@config_option
@click.argument("labeled", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(),  # a folder or a path that cannot be written: said when writing
    help="With LABELED: the model file to write (no database).",
)
@click.option(
    "--by", "by", default="cli", show_default=True, help="Recorded as who trained the model."
)
def train_model(config_path: str | None, labeled: str | None, output: str | None, by: str) -> None:
    """Train on the starter set and every confirmed ticket, and put the model in use (every
    process loads it within [classifier] reload_seconds).

    With LABELED.jsonl ({"text","label"} lines) and -o MODEL: train on that file alone and
    write the model to MODEL, without a database."""
    if labeled is not None:
        if output is None:
            raise click.UsageError("LABELED.jsonl needs -o MODEL: the file to write")
        _train_file(Path(labeled), Path(output), by)
        return
    if output is not None:
        raise click.UsageError(
            "-o writes a model trained from LABELED.jsonl; from the database (--config) the "
            "model is saved there"
        )
    settings = settings_from(config_path)
    load_segmenter()
    db = Database(settings)
    try:
        now = datetime.now(UTC)
        try:
            trained = train_from_database(db, by=by, now=now)
        except TrainingError as exc:
            raise click.ClickException(f"cannot train: {exc} (nothing saved)") from None
        with db.session() as session:
            row = save_trained(session, trained, now=now)
            row_id = row.id
    finally:
        db.dispose()
    for note in trained.notes:
        click.echo(f"note: {note}", err=True)
    _describe(trained)
    reload = settings.classifier.reload_seconds
    click.echo(f"saved as model #{row_id}: every process uses it within {reload:g} s")


def _train_file(labeled: Path, output: Path, by: str) -> None:
    try:
        items: list[Labeled] = read_labeled(labeled)
    except ValueError as exc:
        raise click.ClickException(f"{labeled}: {exc}") from None
    load_segmenter()
    try:
        trained = train_items(items, [], by=by, now=datetime.now(UTC), source=labeled.name)
    except TrainingError as exc:
        raise click.ClickException(f"{labeled}: cannot train: {exc}") from None
    try:
        trained.model.save(output)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    _describe(trained, str(labeled))
    click.echo(f"wrote {output}")


def _describe(trained: Trained, source: str | None = None) -> None:
    if source is None:
        source = f"{trained.starter} of the starter set, {trained.confirmed} confirmed ticket(s)"
    click.echo(f"learned from {trained.examples} labeled texts: {source}")
    for line in _labels_lines(trained.model.info.get("labels", {})):
        click.echo(line)
    click.echo(
        f"{trained.model.info.get('features', len(trained.model.terms))} features; "
        f"took {trained.seconds:.1f} s"
    )


def _labels_lines(labels: dict[str, int]) -> list[str]:
    if not labels:
        return []
    counted = "  ".join(f"{name} {count}" for name, count in labels.items())
    return [f"{len(labels)} topics: {counted}"]


@model.command("show")
@config_option
@click.argument("model_file", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_model(config_path: str | None, model_file: str | None, as_json: bool) -> None:
    """Which model is in use: when it was trained, by whom, on how many examples and
    confirmed tickets, and how many tickets were confirmed since. MODEL: a model file."""
    if model_file is not None:
        shown = _file_facts(Path(model_file))
    else:
        shown = _database_facts(config_path)
    tz = shown.pop("_tz", None)
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for line in _render(shown, tz):
        click.echo(line)


def _file_facts(path: Path) -> dict[str, Any]:
    found = load_model_file(path)
    info = found.info
    return {
        "path": str(path),
        "file": info.get("file"),
        "trained_at": info.get("trained_at") or None,
        "by": info.get("by"),
        "examples": info.get("examples"),
        "starter": info.get("starter"),
        "confirmed": info.get("confirmed"),
        "labels": info.get("labels", {label: None for label in found.labels}),
        "features": len(found.terms),
        "seconds": info.get("seconds"),
    }


def _database_facts(config_path: str | None) -> dict[str, Any]:
    settings = settings_from(config_path)
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            row = newest_model(session)
            since = confirmed_since(session, row)
            facts: dict[str, Any] = {"model": None, "confirmed_since": since}
            if row is not None:
                summary = row_summary(row)
                facts = {
                    "model": row.id,
                    "trained_at": row.created_at.isoformat(timespec="seconds"),
                    "by": row.created_by,
                    "examples": row.examples,
                    "starter": summary.get("starter"),
                    "confirmed": row.confirmed,
                    "last_ticket_id": row.last_ticket_id,
                    "confirmed_since": since,
                    "labels": summary.get("labels", {}),
                    "features": summary.get("features"),
                    "seconds": summary.get("seconds"),
                    "bytes": len(row.data),
                }
    finally:
        db.dispose()
    facts["retrain_min_new"] = settings.classifier.retrain_min_new
    facts["_tz"] = settings.tz
    return facts


def _render(facts: dict[str, Any], tz: tzinfo | None) -> list[str]:
    if "path" not in facts and facts.get("model") is None:
        return [
            "no model yet: the rules decide alone, and ask the resident when unsure",
            f"{facts['confirmed_since']} confirmed ticket(s) to learn from "
            "(`yishiting model train --config C`)",
        ]
    where = facts.get("path") or f"model #{facts['model']} (in use)"
    trained = _local(facts.get("trained_at"), tz)
    lines = [f"{where}: trained {trained} by {facts.get('by') or '?'}"]
    learned = f"learned from {facts.get('examples') or '?'} labeled texts"
    if facts.get("file"):
        learned += f": {facts['file']}"
    elif facts.get("starter") is not None:
        confirmed = facts.get("confirmed") or 0
        learned += f": {facts['starter']} of the starter set, {confirmed} confirmed ticket(s)"
    lines.append(learned)
    if "confirmed_since" in facts:
        minimum = facts.get("retrain_min_new", 0)
        retrain = f"the nightly retrain runs from {minimum}" if minimum else "no nightly retrain"
        lines.append(f"confirmed since: {facts['confirmed_since']} ({retrain})")
    labels = facts.get("labels") or {}
    if any(count is not None for count in labels.values()):
        lines += _labels_lines(labels)
    elif labels:
        lines.append(f"{len(labels)} topics: {'、'.join(labels)}")
    detail = f"{facts.get('features')} features"
    if facts.get("seconds") is not None:
        detail += f"; training took {facts['seconds']:.1f} s"
    lines.append(detail)
    return lines


def _local(iso: str | None, tz: tzinfo | None) -> str:
    if not iso:
        return "(time unknown)"
    moment = datetime.fromisoformat(iso)
    if tz is None:  # a model file, read without a config: as it was stored
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

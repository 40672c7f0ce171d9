"""`rules export|import|suggest|backtest`: the keyword rules as files an admin can edit."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from models import TopicSpec, load_specs, plan_sync, sync_topics

from ..classify import RulesFileError, dump_rules, load_rules_file
from ..classify.evaluate import (
    Labeled,
    backtest,
    effect,
    read_labeled,
    render_effect,
    render_report,
    suggest,
)
from ..config import ClassifierSettings
from ..db import Database
from ..nlp import load_segmenter
from .classify import build_classifier
from .common import community_option, config_option, settings_from
from .rules_own import COMMANDS


@click.group()
def rules() -> None:
    """Keyword rules: export, import, suggest from labeled texts, backtest; list, add, remove
    one rule, street-wide or a community's own (--community), and a community's settings."""


for _command in COMMANDS:
    rules.add_command(_command)


@rules.command("export")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_rules(config_path: str | None, file: str) -> None:
    """Write every topic and its rules to FILE (TOML; - for stdout)."""
    db = Database(settings_from(config_path))
    with db.session(read_only=True) as session:
        text = dump_rules(load_specs(session))
    db.dispose()
    _write(file, text)


@rules.command("import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--dry-run", is_flag=True, help="Print what would change; change nothing.")
@click.option("--actor", default="cli", show_default=True, help="Recorded in the audit log.")
def import_rules(config_path: str | None, file: str, dry_run: bool, actor: str) -> None:
    """Make the topics in FILE and their rules as written there (others are left alone)."""
    try:
        load_rules_file(file)  # a bad file is refused before the database is opened
    except RulesFileError as exc:
        raise click.ClickException(f"{file}: {exc} (nothing imported)") from None
    db = Database(settings_from(config_path))
    with db.session() as session:
        # What the file leaves out of a topic (its SLA, description …) stays as it is.
        specs = load_rules_file(file, {spec.name: spec for spec in load_specs(session)})
        if dry_run:
            changes = plan_sync(session, specs)
        else:
            changes = sync_topics(session, specs, actor=actor, now=datetime.now(UTC))
    db.dispose()
    for change in changes:
        click.echo(change.describe())
    verb = "would change" if dry_run else "changed"
    click.echo(f"{len(changes)} change(s) {verb}" if changes else "no changes", err=True)


@rules.command("suggest")
@click.argument("labeled", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--top",
    "top",
    default=30,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Keywords per label.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="The rules file to write (default: stdout; with --effect, only when given).",
)
@click.option(
    "--effect",
    "show_effect",
    is_flag=True,
    help="Print what each keyword would change on LABELED: the texts it matches, the share "
    "carrying its topic, and the texts it fixes and breaks added to the current rules.",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True),
    help="With --effect: the current rules are this file (else the database's with --config, "
    "else none).",
)
@config_option
@click.option("--json", "as_json", is_flag=True, help="With --effect: machine-readable output.")
def suggest_rules(
    labeled: str,
    top: int,
    output: str | None,
    show_effect: bool,
    rules_file: str | None,
    config_path: str | None,
    as_json: bool,
) -> None:
    """Mine the keywords that best separate the labels in LABELED.jsonl, as a rules file.

    Words that name no topic are never suggested: fillers, numbers, codes, placeholders, time
    words, and words spread evenly over the labels. With --effect, stdout carries a table (or
    --json) of what each keyword would change; a text counts as right when the rules are sure
    and their topic is its label."""
    if not show_effect and (rules_file or as_json):
        raise click.UsageError("--rules and --json go with --effect")
    if show_effect and output == "-":
        raise click.UsageError(
            "with --effect stdout carries the table: write the rules with -o FILE"
        )
    items = _read(labeled)
    # The rules to compare with are read first: a bad file or config stops before any output.
    current, tuning, against = _current_rules(config_path, rules_file) if show_effect else _NO_RULES
    load_segmenter()
    specs = suggest(items, top)
    if output is not None or not show_effect:
        _write(output or "-", dump_rules(specs))
    if not show_effect:
        return
    report = effect(items, specs, current, tuning.threshold, tuning.margin)
    if as_json:
        click.echo(
            json.dumps({"against": against, **report.as_dict()}, ensure_ascii=False, indent=2)
        )
    else:
        click.echo(render_effect(report, against or "no rules"))


_NO_RULES: tuple[list[TopicSpec], ClassifierSettings, str | None] = ([], ClassifierSettings(), None)


def _current_rules(
    config_path: str | None, rules_file: str | None
) -> tuple[list[TopicSpec], ClassifierSettings, str | None]:
    """The rules a suggestion is measured against, the classifier's tuning, and their name."""
    settings = settings_from(config_path) if config_path else None
    tuning = settings.classifier if settings else ClassifierSettings()
    if rules_file:
        try:
            return load_rules_file(rules_file), tuning, rules_file
        except RulesFileError as exc:
            raise click.ClickException(f"{rules_file}: {exc}") from None
    if settings is None:
        return [], tuning, None
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            specs = load_specs(session)
    finally:
        db.dispose()
    return specs, tuning, "the database's rules"


@rules.command("backtest")
@config_option
@click.argument("labeled", type=click.Path(dir_okay=False, exists=True))
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False), help="A rules file.")
@click.option(
    "--model",
    "model_file",
    type=click.Path(dir_okay=False, exists=True),
    help="A model file (`model train -o`); with the database's rules, its model by default.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@community_option
def backtest_rules(
    config_path: str | None,
    labeled: str,
    rules_file: str | None,
    model_file: str | None,
    as_json: bool,
    community: str | None,
) -> None:
    """Precision, recall, F1 per topic, accuracy, the share unsure, the confusions (with
    --community, of the rules that community runs on). With a learned model: rules only,
    model only and combined side by side, then the combined details."""
    items = _read(labeled)
    classifier = build_classifier(config_path, rules_file, community, model_file)
    show = len(items) >= 200 and sys.stderr.isatty()
    if classifier.model is None:
        with click.progressbar(items, label="classifying", file=sys.stderr, hidden=not show) as bar:
            report = backtest(classifier, bar)
        click.echo(
            json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
            if as_json
            else render_report(report)
        )
        return
    # With a model: rules only, model only and combined side by side, then the combined details.
    from ..classify.evaluate import COMBINED, MODEL, RULES, backtest_sides, render_sides

    with click.progressbar(items, label="classifying", file=sys.stderr, hidden=not show) as bar:
        reports = backtest_sides(classifier, bar)
    report = reports[COMBINED]
    if as_json:
        found = report.as_dict()
        found["rules_only"] = reports[RULES].as_dict()
        found["model_only"] = reports[MODEL].as_dict()
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo(render_sides(reports))
        click.echo("\ncombined (as the classifier runs: the rules, and the model):")
        click.echo(render_report(report))


def _read(path: str) -> list[Labeled]:
    try:
        return read_labeled(Path(path))
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from None


def _write(file: str, text: str) -> None:
    if file == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {file}: {exc.strerror or exc}") from None
        click.echo(f"wrote {file}", err=True)

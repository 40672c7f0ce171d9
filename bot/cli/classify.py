"""`classify`: JSONL texts in, JSONL verdicts out — against the database's rules or a file."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..classify import Classifier, Explanation, RulesFileError, load_rules_file
from ..config import ClassifierSettings, Settings
from ..db import Database
from ..nlp import load_segmenter
from .common import config_option, settings_from


def build_classifier(config_path: str | None, rules: str | None) -> Classifier:
    """From a rules file (no database, config optional) or from the database's rules."""
    settings = settings_from(config_path) if (config_path or not rules) else None
    tuning = settings.classifier if settings else ClassifierSettings()
    load_segmenter()
    if rules:
        try:
            specs = load_rules_file(rules)
        except RulesFileError as exc:
            raise click.ClickException(f"{rules}: {exc}") from None
    else:
        specs = _specs_from_database(settings)
    return Classifier(specs, tuning.threshold, tuning.margin)


def _specs_from_database(settings: Settings | None) -> list[Any]:
    from models import load_specs

    assert settings is not None
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            specs = load_specs(session)
    finally:
        db.dispose()
    if not specs:
        raise click.ClickException("no topics in the database: run `yishiting init` first")
    return specs


@click.command()
@config_option
@click.option("--rules", "rules", type=click.Path(dir_okay=False), help="Use this rules file.")
@click.option(
    "--explain", is_flag=True, help="Add tokens, matched rules, scores and vetoes to each line."
)
def classify(config_path: str | None, rules: str | None, explain: bool) -> None:
    """Read {"id","text"} JSON lines on stdin; write {"id","topic","score","unsure"} lines."""
    classifier = build_classifier(config_path, rules)
    out = sys.stdout
    bad = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('expected an object with a "text" string')
        except ValueError as exc:
            click.echo(f"stdin line {number}: {exc}", err=True)
            bad += 1
            continue
        if explain:
            record = _explained(item.get("id"), classifier.explain(item["text"]))
        else:
            verdict = classifier.classify(item["text"])
            record = {
                "id": item.get("id"),
                "topic": verdict.topic,
                "score": verdict.score,
                "unsure": verdict.unsure,
            }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    if bad:
        raise click.ClickException(f"{bad} line(s) could not be read (see above)")


def _explained(item_id: Any, exp: Explanation) -> dict[str, Any]:
    return {
        "id": item_id,
        "topic": exp.result.topic,
        "score": exp.result.score,
        "unsure": exp.result.unsure,
        "tokens": exp.tokens,
        "matches": [
            {
                "keyword": m.rule.keyword,
                "topic": m.rule.topic,
                "weight": m.rule.weight,
                "kind": m.rule.kind,
                "via": m.via,
            }
            for m in exp.matches
        ],
        "scores": exp.scores,
        "vetoed": exp.vetoed,
        "candidates": [list(c) for c in exp.result.candidates],
    }

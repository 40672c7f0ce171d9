"""`classify`: JSONL texts in, JSONL verdicts out — against the database's rules and model, or
a rules file and a model file."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click

from ..classify import Classifier, Explanation, RulesFileError, load_rules_file
from ..classify.model import Model
from ..config import ClassifierSettings, Settings
from ..db import Database
from ..nlp import load_segmenter
from .common import community_option, config_option, scope_of, settings_from


def build_classifier(
    config_path: str | None,
    rules: str | None,
    community: str | None = None,
    model_file: str | None = None,
) -> Classifier:
    """From a rules file (no database, config optional) or from the database's rules: the
    street-wide ones, or those `community` (a name) runs on. The model the rules fall back on:
    `model_file`, else with the database's rules the database's model in use (none with a
    rules file)."""
    if rules and community is not None:
        raise click.UsageError("--community classifies with the database's rules, not --rules")
    settings = settings_from(config_path) if (config_path or not rules) else None
    tuning = settings.classifier if settings else ClassifierSettings()
    load_segmenter()
    model = load_model_file(Path(model_file)) if model_file else None
    if rules:
        try:
            specs = load_rules_file(rules)
        except RulesFileError as exc:
            raise click.ClickException(f"{rules}: {exc}") from None
    else:
        specs, stored = _from_database(settings, community)
        model = model or stored
    enabled = {spec.name for spec in specs if spec.enabled}
    if model is not None and model_file and not enabled & set(model.labels):
        click.echo(
            f"warning: {model_file} learned none of these rules' topics "
            f"({'、'.join(model.labels)}): it will never decide",
            err=True,
        )
    return Classifier(
        specs,
        tuning.threshold,
        tuning.margin,
        model,
        tuning.model_threshold,
        tuning.model_margin,
        tuning.model_override,
    )


def load_model_file(path: Path) -> Model:
    """A model file `yishiting model train -o` wrote, or exit with the reason."""
    try:
        return Model.load(path)
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        reason = str(exc) if "format" in str(exc) else "not a classifier model"
        raise click.ClickException(
            f"{path}: {reason} (`yishiting model train LABELED.jsonl -o MODEL` writes one)"
        ) from None


def _from_database(
    settings: Settings | None, community: str | None
) -> tuple[list[Any], Model | None]:
    """The rules `community` runs on (the street's without one), and the model in use."""
    from models import load_specs
    from models.community_topics import community_specs
    from models.learned import newest_model

    assert settings is not None
    db = Database(settings)
    try:
        with db.session(read_only=True) as session:
            scope = scope_of(session, community)
            if scope.community_id is None:
                specs = load_specs(session)
            else:
                specs = community_specs(session, scope.community_id)
            row = newest_model(session)
            data = row.data if row is not None else None
    finally:
        db.dispose()
    if not specs:
        raise click.ClickException("no topics in the database: run `yishiting init` first")
    try:
        model = Model.from_bytes(data) if data is not None else None
    except ValueError as exc:
        click.echo(f"warning: the model in use cannot be read ({exc}): rules only", err=True)
        model = None
    return specs, model


@click.command()
@config_option
@click.option("--rules", "rules", type=click.Path(dir_okay=False), help="Use this rules file.")
@click.option(
    "--model",
    "model_file",
    type=click.Path(dir_okay=False, exists=True),
    help="The learned model to fall back on when the rules are unsure (a file `model train "
    "-o` wrote; default: with the database's rules, the database's model).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add tokens, matched rules, scores, vetoes and the model's ranking and terms.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="CPUs",
    help="Processes classifying in parallel on long inputs (1: none).",
)
@community_option
def classify(
    config_path: str | None,
    rules: str | None,
    model_file: str | None,
    explain: bool,
    jobs: int,
    community: str | None,
) -> None:
    """Read {"id","text"} JSON lines on stdin; write {"id","topic","score","unsure","by"}
    lines ("by": "rules", "model" when the rules were unsure and the model decided, null when
    unsure).

    With --community NAME, with the rules that community runs on (the street's, with its own
    keywords and without the topics it switched off)."""
    global _classifier, _explain
    _classifier = build_classifier(config_path, rules, community, model_file)
    _explain = explain
    chunks = _chunks(sys.stdin, CHUNK_LINES)
    first = next(chunks, None)
    second = next(chunks, None)
    pending = itertools.chain([c for c in (first, second) if c is not None], chunks)
    if jobs > 1 and second is not None:
        # Forked after the classifier (and jieba's dictionary) is loaded: the workers share
        # it, and imap keeps the output in the input's order.
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            bad = _write(pool.imap(_classify_chunk, pending))
    else:
        bad = _write(map(_classify_chunk, pending))
    if bad:
        raise click.ClickException(f"{bad} line(s) could not be read (see above)")


CHUNK_LINES = 1000
_classifier: Classifier | None = None
_explain = False
Chunk = tuple[int, list[str]]  # the number of the chunk's first line, and its lines


def _chunks(lines: Iterable[str], size: int) -> Iterator[Chunk]:
    chunk: list[str] = []
    start = 1
    for number, line in enumerate(lines, start=1):
        if not chunk:
            start = number
        chunk.append(line)
        if len(chunk) == size:
            yield start, chunk
            chunk = []
    if chunk:
        yield start, chunk


def _classify_chunk(chunk: Chunk) -> tuple[str, list[str]]:
    """The chunk's output lines, and its problems (with their line numbers)."""
    assert _classifier is not None
    start, lines = chunk
    out: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=start):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('expected an object with a "text" string')
        except ValueError as exc:
            problems.append(f"stdin line {number}: {exc}")
            continue
        if _explain:
            record = _explained(item.get("id"), _classifier.explain(item["text"]))
        else:
            verdict = _classifier.classify(item["text"])
            record = {
                "id": item.get("id"),
                "topic": verdict.topic,
                "score": verdict.score,
                "unsure": verdict.unsure,
                "by": verdict.by,
            }
        out.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(out), problems


def _write(results: Iterable[tuple[str, list[str]]]) -> int:
    bad = 0
    for text, problems in results:
        sys.stdout.write(text)
        for problem in problems:
            click.echo(problem, err=True)
        bad += len(problems)
    sys.stdout.flush()
    return bad


def _explained(item_id: Any, exp: Explanation) -> dict[str, Any]:
    return {
        "id": item_id,
        "topic": exp.result.topic,
        "score": exp.result.score,
        "unsure": exp.result.unsure,
        "by": exp.by,
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
        # The model's ranking and the terms that weighed most for its likeliest topic, when
        # the rules were unsure and it was asked (else empty).
        "model": [[topic, round(p, 4)] for topic, p in exp.model_ranked],
        "model_terms": [[term, weight] for term, weight in exp.model_terms],
    }

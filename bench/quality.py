"""Classification quality: the rules alone, the learned model alone, and the two combined.

    .venv/bin/python bench/quality.py [--train bot/classify/starter.jsonl]
        [--rules bot/classify/default_rules.toml] [--json] [HELDOUT.jsonl ...]

Trains the model on `--train` (the shipped starter set), then classifies each held-out set
(default: tests/data/classify_heldout.jsonl and tests/data/labeled_test.jsonl, written apart
from the rules and never trained or tuned on) three ways, with the default [classifier]
numbers:
- rules: the keyword rules only (as before issue #19);
- model: the model only (its likeliest topic, unsure below model_threshold / model_margin);
- combined: what the bot runs (bot/classify/engine.py: the rules when sure, the model when
  they are unsure or it is strongly against them, else the resident is asked).
For each: accuracy counting unsure as wrong (the share filed right without asking), the
share unsure (the resident is asked), the share filed wrong without asking, macro-F1 of the
classifier's best topic. Issue #19's targets for combined: ≥ 90 % accuracy, ≤ 8 % unsure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.classify import DEFAULT_RULES, Classifier, load_rules_file  # noqa: E402
from bot.classify.evaluate import backtest_sides, read_labeled  # noqa: E402
from bot.classify.model import STARTER, Model, train  # noqa: E402
from bot.classify.training import teach_keywords  # noqa: E402
from bot.config import ClassifierSettings  # noqa: E402

HELDOUT = (ROOT / "tests/data/classify_heldout.jsonl", ROOT / "tests/data/labeled_test.jsonl")


def classifier(rules_file: Path, model: Model) -> Classifier:
    """The rules and the model, tuned as the bot's defaults."""
    tuning = ClassifierSettings()
    return Classifier(
        load_rules_file(rules_file),
        tuning.threshold,
        tuning.margin,
        model,
        tuning.model_threshold,
        tuning.model_margin,
        tuning.model_override,
    )


def measure(classifier: Classifier, path: Path) -> dict[str, dict[str, Any]]:
    """Each way (rules, model, combined) on the labeled texts at `path`, as `rules backtest
    --model` reports them side by side."""
    return {
        way: {
            "accuracy": round(r.filed_right, 4),
            "unsure": round(r.unsure_share, 4),
            "wrong": round(1 - r.filed_right - r.unsure_share, 4),
            "macro_f1": round(r.macro_f1, 4),
            "texts": r.total,
        }
        for way, r in backtest_sides(classifier, read_labeled(path)).items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("heldout", nargs="*", type=Path, default=list(HELDOUT))
    parser.add_argument("--train", type=Path, default=STARTER)
    parser.add_argument("--rules", type=Path, default=Path(DEFAULT_RULES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    # As a deployment trains (bot/classify/training.py): jieba taught the rules' keywords.
    teach_keywords([rule.keyword for spec in load_rules_file(args.rules) for rule in spec.rules])
    model = train(read_labeled(args.train))
    seconds = time.perf_counter() - started
    both = classifier(args.rules, model)
    results = {str(path.name): measure(both, path) for path in args.heldout}
    if args.json:
        print(json.dumps({"train_seconds": round(seconds, 1), "sets": results}, indent=2))
        return
    print(f"trained on {model.info['examples']} texts in {seconds:.1f} s\n")
    print(f"{'set':<26}{'way':<10}{'accuracy':>9}{'unsure':>8}{'wrong':>7}{'macro-F1':>10}")
    for name, ways_of in results.items():
        for way, r in ways_of.items():
            print(
                f"{name:<26}{way:<10}{r['accuracy']:>9.1%}{r['unsure']:>8.1%}"
                f"{r['wrong']:>7.1%}{r['macro_f1']:>10.3f}"
            )


if __name__ == "__main__":
    main()

"""Classifier throughput: 100 and 10,000 rules against jieba's own lcut, in one run.

    .venv/bin/python bench/classify.py [--rounds 5]

1. In process: texts/s of `Classifier.classify` over ~3,000 resident messages with 100 rules
   and with 10,000 rules, next to jieba's own `lcut(text)` over the same texts (the floor the
   issue names), and `lcut(text, HMM=False)` — the cheaper segmentation the classifier runs
   itself (every keyword is in jieba's dictionary, so HMM's new-word guessing is not needed).
   Both classifiers are built first (one jieba dictionary for all), then the four are timed
   in turn; the best of `--rounds` rounds counts. Targets (issue #3): classify ≥ 80% of
   jieba's lcut; the two rule counts within 20% of each other.
2. Whole process: `yishiting classify --rules bot/classify/default_rules.toml` over 25,000
   messages, start-up included. Target: ≥ 3,000 texts/s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from bot.classify import DEFAULT_RULES, Classifier, load_rules_file  # noqa: E402
from bot.nlp import load_segmenter  # noqa: E402
from models import RuleSpec, TopicSpec  # noqa: E402


def messages() -> list[str]:
    texts = []
    for name in ("labeled_dev.jsonl", "labeled_test.jsonl"):
        with (ROOT / "tests" / "data" / name).open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def rule_sets() -> tuple[list[TopicSpec], list[TopicSpec]]:
    """100 of the starter rules; and all of them padded to 10,000 with made-up words."""
    starter = load_rules_file(DEFAULT_RULES)
    hundred = [TopicSpec(t.name, sort_order=t.sort_order, rules=t.rules[:9]) for t in starter]
    assert 95 <= sum(len(t.rules) for t in hundred) <= 110
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    have = {r.keyword for t in starter for r in t.rules}
    padded = []
    need = 10_000 - len(have)
    per_topic = need // len(starter) + 1
    for topic in starter:
        extra: list[RuleSpec] = []
        while len(extra) < per_topic:
            word = "".join(rng.choice(alphabet) for _ in range(rng.choice((2, 3, 4))))
            if word not in have:
                have.add(word)
                extra.append(RuleSpec(word, 1.0))
        padded.append(
            TopicSpec(topic.name, sort_order=topic.sort_order, rules=topic.rules + tuple(extra))
        )
    return hundred, padded


def rate(func: Callable[[str], object], texts: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            func(text)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def whole_process(texts: list[str]) -> tuple[int, float]:
    lines = [
        json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False)
        for i in range(25_000)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    yishiting = Path(sys.executable).parent / "yishiting"
    started = time.perf_counter()
    with open(f.name, "rb") as stdin:
        out = subprocess.run(
            [str(yishiting), "classify", "--rules", str(DEFAULT_RULES)],
            stdin=stdin,
            capture_output=True,
            check=True,
        )
    elapsed = time.perf_counter() - started
    Path(f.name).unlink()
    return len(out.stdout.splitlines()), elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_segmenter()
    base = messages()
    texts = (base * (3000 // len(base) + 1))[:3000]
    hundred, padded = rule_sets()

    def lcut_no_hmm(text: str) -> object:
        return jieba.lcut(text, HMM=False)

    # Both classifiers first: their keywords join jieba's one dictionary, so every
    # measurement below segments with the same dictionary. Then the four are timed in turn,
    # round after round, and the best round of each counts (noise only ever slows a round).
    small = Classifier(hundred, 2.0, 1.0)
    big = Classifier(padded, 2.0, 1.0)
    runs: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, func in (
            ("lcut", jieba.lcut),
            ("plain", lcut_no_hmm),
            ("small", small.classify),
            ("big", big.classify),
        ):
            runs[name] = max(runs.get(name, 0.0), rate(func, texts, 1))
    floor, plain = runs["lcut"], runs["plain"]
    small_rate, big_rate = runs["small"], runs["big"]

    rules_small = sum(len(t.rules) for t in hundred)
    rules_big = sum(len(t.rules) for t in padded)
    print(f"{len(texts)} messages, best of {args.rounds} rounds")
    print(f"{'':<34}{'texts/s':>10}{'vs lcut':>9}{'vs HMM off':>12}")
    print(f"{'jieba.lcut(text)':<34}{floor:>10.0f}")
    print(f"{'jieba.lcut(text, HMM=False)':<34}{plain:>10.0f}")
    print(
        f"{f'classify, {rules_small} rules':<34}{small_rate:>10.0f}"
        f"{small_rate / floor:>9.2f}{small_rate / plain:>12.2f}"
    )
    print(
        f"{f'classify, {rules_big} rules':<34}{big_rate:>10.0f}"
        f"{big_rate / floor:>9.2f}{big_rate / plain:>12.2f}"
    )
    spread = abs(small_rate - big_rate) / max(small_rate, big_rate)
    ok_ratio = min(small_rate / floor, big_rate / floor) >= 0.8
    ok_spread = spread <= 0.2
    print(
        f"rule counts differ by {spread:.0%} (target <= 20%); "
        f"classify/lcut >= 0.80: {'met' if ok_ratio else 'MISSED'}"
    )
    count, elapsed = whole_process(base)
    whole_rate = count / elapsed
    print(
        f"yishiting classify, whole process: {count} texts in {elapsed:.2f} s = "
        f"{whole_rate:.0f} texts/s (target >= 3000)"
    )
    return 0 if ok_ratio and ok_spread and whole_rate >= 3000 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Place extraction on labeled residents' messages (bench/places.py): precision ≥ 0.95 — a
wrong place routes a ticket to the wrong person.

`places_dev` is the places engineer's own development set (tuned on), `places_dev2` a second
one written by another engineer before changing the extractor (then tuned on); `places_heldout` was
written by another engineer and is never tuned on: the honest measure, guarded once it is in
the repository.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def bench_places() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_places", ROOT / "bench" / "places.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "name, min_precision, min_recall",
    [
        ("places_dev", 0.95, 0.90),  # recorded 1.000 / 0.988 (bench/README.md)
        ("places_dev2", 0.95, 0.90),  # recorded 1.000 / 1.000; main gave 0.855 / 0.986
        ("places_heldout", 0.95, 0.0),  # recall recorded, not guarded: written apart
    ],
)
def test_places_are_found_with_high_precision(
    name: str, min_precision: float, min_recall: float
) -> None:
    places, labeled = DATA / f"{name}.toml", DATA / f"{name}.jsonl"
    if not (places.exists() and labeled.exists()):
        pytest.skip(f"{places.name} / {labeled.name} are not in the repository yet")
    scores = bench_places().measure(places, labeled)
    assert scores.items >= 30
    assert scores.precision >= min_precision, scores
    assert scores.recall >= min_recall, scores

"""Place extraction quality: precision and recall of the place intake finds in residents' texts.

Imports a places file (grids, buildings, `[[building]]` coordinates, `[[place]]` landmarks)
into a throwaway SQLite database, runs the extraction intake runs (models/spots.py: building
numbers the community has, then names and aliases of its places) on each labeled text, and
compares with its label:

    {"text": "...", "expect": null}                                    no place (or none the
                                                                       committee's places hold)
    {"text": "...", "expect": {"building": "3", "unit": "2", "room": "501"}}  (unit/room: null)
    {"text": "...", "expect": {"place": "东门"}}

A found place is right when it is exactly the expected one (building, unit and room alike, or
the place's name); a wrong place, or a place where none is expected, is wrong. Precision =
right / found; recall = right / expected. "building level" counts a right building with a
wrong unit or room as right (routing and 附议 use the building only).

    .venv/bin/python bench/places.py --places tests/data/places_dev.toml \\
        --labeled tests/data/places_dev.jsonl [--community NAME] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.db import Database  # noqa: E402
from models.communities import HOME_ID, add_community, community_by_name  # noqa: E402
from models.placesfile import import_places, parse_places  # noqa: E402
from models.spots import Spot, building_key, places_in, spot_from_text  # noqa: E402

QUERIES = 2000


@dataclass(frozen=True)
class Scores:
    items: int
    expected: int  # items with a place
    found: int  # items the extraction gave a place
    right: int  # found and exactly the expected one
    right_building: int  # found and the expected building (or place)
    seconds: float
    query_seconds: float = 0.0  # one look-up of the community's places (the prepared query)

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.expected if self.expected else 1.0

    @property
    def building_precision(self) -> float:
        return self.right_building / self.found if self.found else 1.0


def read_labeled(path: Path) -> list[dict[str, Any]]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        if not isinstance(item.get("text"), str) or "expect" not in item:
            raise SystemExit(f"{path}:{number}: needs text and expect")
        items.append(item)
    return items


def same(spot: Spot | None, expect: dict[str, Any] | None, *, exact: bool) -> bool:
    """Whether `spot` is the place `expect` names (both None: right)."""
    if spot is None or expect is None:
        return spot is None and expect is None
    if "place" in expect:
        return spot.landmark and spot.name == expect["place"]
    if spot.landmark or spot.building is None:
        return False
    if building_key(spot.building) != building_key(str(expect.get("building"))):
        return False
    if not exact:
        return True
    return (spot.unit, spot.room) == (expect.get("unit"), expect.get("room"))


def load(session: Session, places_text: str, community: str | None) -> int:
    """Import the places file (making the communities it names); the community to look in."""
    spec = parse_places(places_text)
    now = datetime.now(UTC)
    named = {
        row.community
        for row in (*spec.grids, *spec.households, *spec.buildings, *spec.places)
        if row.community is not None
    }
    for name in sorted(named):
        add_community(session, name, now)
    session.flush()
    import_places(session, spec, now)
    if community is None and len(named) == 1:
        community = next(iter(named))
    if community is None:
        return HOME_ID
    found = community_by_name(session, community)
    if found is None:
        raise SystemExit(f"no community named {community!r} in the places file")
    return found.id


def measure(
    places_file: Path, labeled_file: Path, community: str | None = None, show: bool = False
) -> Scores:
    items = read_labeled(labeled_file)
    with tempfile.TemporaryDirectory() as work:
        config = Path(work) / "config.toml"
        config.write_text(
            f'[app]\ndatabase_url = "sqlite:///{work}/places.db"\nsecret_key = "bench"\n'
            'mode = "development"\n',
            encoding="utf-8",
        )
        db = Database(load_settings(config, environ={}))
        db.migrate()
        try:
            with db.session() as session:
                community_id = load(session, places_file.read_text(encoding="utf-8"), community)
            with db.session(read_only=True) as session:
                places = places_in(session, community_id)
                spot_from_text(places, "3号楼东门")  # load the folding table, compile the pattern
                started = time.perf_counter()
                spots = [spot_from_text(places, item["text"]) for item in items]
                seconds = time.perf_counter() - started
                started = time.perf_counter()
                for _ in range(QUERIES):
                    places_in(session, community_id)
                query_seconds = (time.perf_counter() - started) / QUERIES
        finally:
            db.dispose()
    expected = sum(1 for item in items if item["expect"] is not None)
    found = sum(1 for spot in spots if spot is not None)
    right = right_building = 0
    for item, spot in zip(items, spots, strict=True):
        exact = same(spot, item["expect"], exact=True)
        right += exact and spot is not None
        right_building += same(spot, item["expect"], exact=False) and spot is not None
        if show and not exact:
            got = None if spot is None else spot.name
            print(
                f"  {'WRONG' if spot else 'MISSED'}: {item['text']}  got {got}, "
                f"expected {json.dumps(item['expect'], ensure_ascii=False)}"
            )
    return Scores(len(items), expected, found, right, right_building, seconds, query_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=Path, required=True, help="a places file (TOML)")
    parser.add_argument("--labeled", type=Path, required=True, help="labeled texts (JSONL)")
    parser.add_argument("--community", help="the community to look in (default: the file's)")
    parser.add_argument("--show", action="store_true", help="print each miss and wrong place")
    args = parser.parse_args()
    s = measure(args.places, args.labeled, args.community, args.show)
    print(f"{s.items} texts, {s.expected} naming a place; found {s.found}, right {s.right}")
    print(
        f"precision {s.precision:.3f}  recall {s.recall:.3f}  "
        f"(building level: precision {s.building_precision:.3f})"
    )
    print(
        f"{s.seconds / max(s.items, 1) * 1e6:.1f} µs a text (extraction and lookup); "
        f"{s.query_seconds * 1e6:.1f} µs to read the community's places (once a report)"
    )


if __name__ == "__main__":
    main()

"""Where a report says the problem is: a building of the community, or one of its named places.

From the text: a building number (words/addresses.py: 3号楼, 三栋, 3-2-501, 3栋2单元501)
that the community has, else the name or an alias of a place the committee imported
(models/landmarks.py: 东门, 地库), matched folded, longest first. From a WeChat location
message: the nearest building or place with coordinates within `NEAR_METRES`. A place in
another community of the street does not count: "3号楼" means the writer's own 小区's
building 3, and "小事不出社区" — a ticket stays in the community it is reported to.

It runs inside the write transaction for every report (models/intake.py): the text part is
one regular expression; the community's places come in one prepared statement, and what is
built from them (the numbers, the name pattern) is kept per process for as long as the rows
are the same (`_places`, keyed by the rows themselves: a changed places file is a new key).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Float,
    String,
    Table,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from words import fold
from words.addresses import Mention, address_mentions, building_label, stands_alone

from .landmarks import Landmark
from .places import Building
from .prepared import Prepared, connection_of

TEXT = "text"
LOCATION = "location"
# How far a location message may be from a building or place to be about it. WeChat's
# location is the phone's (GPS, 10–50 m off among tall buildings) or a point picked on the
# map; buildings of a 小区 stand 30–80 m apart. 150 m keeps a message sent from the
# building's door, or across its courtyard, and drops one sent from the next 小区 or from
# home about somewhere else.
NEAR_METRES = 150.0


@dataclass(frozen=True)
class Spot:
    """Where the problem is, as the committee names it."""

    name: str  # "3号楼", "3号楼2单元501", "东门"
    building_id: int | None  # the building (a place's: the one it stands by)
    grid_id: int | None  # its grid (a place's own, else its building's)
    source: str  # TEXT or LOCATION
    landmark: bool = False  # a named place, not a building
    metres: float | None = None  # LOCATION: how far the location was from it
    # A building's parts: its name as stored ("3"), the unit and room the text gave.
    building: str | None = None
    unit: str | None = None
    room: str | None = None


_B = cast(Table, Building.__table__)
_L = cast(Table, Landmark.__table__)
_BY = _B.alias("by")


def _raw(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A float column read as the driver gives it (both drivers return floats): Prepared has
    no result processor for PostgreSQL's Float without the column's type code."""
    return type_coerce(column, NullType())


_ROWS = Prepared(
    union_all(  # type: ignore[arg-type]  # a compound SELECT compiles and runs the same
        select(
            literal_column("0").label("is_place"),
            _B.c.id,
            _B.c.name,
            literal_column("''", String).label("aliases"),
            _B.c.grid_id,
            _B.c.id.label("building_id"),
            _raw(_B.c.lat),
            _raw(_B.c.lon),
        ).where(_B.c.community_id == bindparam("community_id")),
        select(
            literal_column("1"),
            _L.c.id,
            _L.c.name,
            _L.c.aliases,
            func.coalesce(_L.c.grid_id, _BY.c.grid_id),
            _L.c.building_id,
            _raw(func.coalesce(_L.c.lat, _BY.c.lat, type_=Float)),
            _raw(func.coalesce(_L.c.lon, _BY.c.lon, type_=Float)),
        )
        .select_from(_L.outerjoin(_BY, _BY.c.id == _L.c.building_id))
        .where(_L.c.community_id == bindparam("community_id")),
    )
)

_NUMBERED = re.compile(r"^第?0*(\d{1,4})[ ]?(?:号楼|号|栋|幢|#楼?|座)?$")


def building_key(name: str) -> str:
    """How a building's name is matched: its number ("3号楼", "03", "3" → "3"), else the name
    folded."""
    folded = fold(name).strip()
    number = _NUMBERED.match(folded)
    return str(int(number.group(1))) if number else folded


@dataclass(frozen=True)
class _Place:
    name: str  # as stored
    building_id: int | None
    grid_id: int | None
    landmark: bool
    lat: float | None
    lon: float | None


class _Places:
    """One community's buildings and places, ready to match."""

    def __init__(self, rows: tuple[tuple[object, ...], ...]) -> None:
        self.by_number: dict[str, _Place] = {}
        self.by_name: dict[str, _Place] = {}
        self.located: list[_Place] = []
        for is_place, _id, name, aliases, grid_id, building_id, lat, lon in rows:
            place = _Place(
                str(name),
                cast(int | None, building_id),
                cast(int | None, grid_id),
                bool(is_place),
                cast(float | None, lat),
                cast(float | None, lon),
            )
            if place.lat is not None and place.lon is not None:
                self.located.append(place)
            folded = fold(place.name).strip()
            if not is_place:
                number = _NUMBERED.match(folded)
                if number:
                    self.by_number.setdefault(building_key(folded), place)
                    continue
                if len(folded) < 2:
                    continue  # a one-letter building ("A") would match inside any word
            for word in [folded, *(fold(a).strip() for a in str(aliases or "").split(","))]:
                if word:
                    self.by_name.setdefault(word, place)
        names = sorted(self.by_name, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, names))) if names else None


@lru_cache(maxsize=64)
def _places(rows: tuple[tuple[object, ...], ...]) -> _Places:
    return _Places(rows)


def places_in(db: Session, community_id: int) -> _Places:
    rows = _ROWS.run(connection_of(db), {"community_id": community_id})
    return _places(tuple(sorted(rows, key=lambda row: (row[0], row[1]))))


def spot_in(
    db: Session,
    text: str,
    location: tuple[float, float] | None,
    community_id: int,
    home_building_id: int | None = None,
) -> Spot | None:
    """Where `text` (else `location`) says the problem is, among `community_id`'s places;
    None when it names none. A building the text names as the writer's home (我住1号楼) counts
    only when it names no other."""
    places = places_in(db, community_id)
    return spot_from_text(places, text, home_building_id) or (
        spot_near(places, location) if location is not None else None
    )


def spot_from_text(places: _Places, text: str, home_building_id: int | None = None) -> Spot | None:
    mentions = [
        (m, places.by_number[m.building])
        for m in address_mentions(text)
        if m.building in places.by_number
    ]
    # A building named as the writer's home (我住1号楼) is the last choice, after a place.
    if mentions and not all(m.home for m, _ in mentions):
        return _building_spot(*min(mentions, key=lambda pair: pair[0].home))
    landmark = _landmark_in(places, text)
    if landmark is not None:
        return landmark
    return _building_spot(*mentions[0]) if mentions else None


def _building_spot(mention: Mention, place: _Place) -> Spot:
    return Spot(
        _spot_name(place.name, mention),
        place.building_id,
        place.grid_id,
        TEXT,
        building=place.name,
        unit=mention.unit,
        room=mention.room,
    )


def _landmark_in(places: _Places, text: str) -> Spot | None:
    """The first of the community's named places the text names (as a word of its own)."""
    if places.pattern is None:
        return None
    folded = fold(text)
    for found in places.pattern.finditer(folded):
        if not stands_alone(folded, found.start(), found.end()):
            continue
        place = places.by_name[found.group()]
        building = None if place.landmark else place.name
        return Spot(
            place.name, place.building_id, place.grid_id, TEXT, place.landmark, building=building
        )
    return None


def _spot_name(building: str, mention: Mention) -> str:
    name = building_label(building)
    if mention.unit:
        name += f"{mention.unit}单元"
    if mention.room:
        name += mention.room
    return name


def spot_near(places: _Places, location: tuple[float, float]) -> Spot | None:
    """The building or place nearest to `location` (lat, lon) within NEAR_METRES."""
    best: tuple[float, _Place] | None = None
    for place in places.located:
        assert place.lat is not None and place.lon is not None
        metres = distance(location, (place.lat, place.lon))
        if metres <= NEAR_METRES and (best is None or metres < best[0]):
            best = (metres, place)
    if best is None:
        return None
    metres, place = best
    name = place.name if place.landmark else building_label(place.name)
    building = None if place.landmark else place.name
    return Spot(
        name,
        place.building_id,
        place.grid_id,
        LOCATION,
        place.landmark,
        round(metres),
        building=building,
    )


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lat, lon) points (haversine on a 6,371 km sphere)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def location_of(details: dict[str, str]) -> tuple[float, float] | None:
    """The (lat, lon) of a WeChat location message's details (Location_X is the latitude,
    Location_Y the longitude); None when they are missing or not numbers in range."""
    try:
        lat, lon = float(details["location_x"]), float(details["location_y"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        return None
    return lat, lon

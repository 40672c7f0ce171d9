"""models/spots.py on its own: a place is looked for in the report's community only; a
location is the nearest building or place within 150 m; nothing without coordinates."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import Settings
from bot.db import Database
from models.communities import HOME_ID, add_community
from models.places import Building
from models.placesfile import import_places, parse_places
from models.spots import NEAR_METRES, distance, location_of, spot_in

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
PLACES = """\
[[grid]]
name = "第一网格"
buildings = ["1", "2"]

[[building]]
name = "1"
lat = 31.2300
lon = 121.4700

[[place]]
name = "东门"
building = "2"
lat = 31.2300
lon = 121.4720
"""


def test_only_the_reports_community_counts_and_a_location_finds_the_nearest(
    settings: Settings,
) -> None:
    db = Database(settings)
    try:
        with db.session() as session:
            import_places(session, parse_places(PLACES), NOW)
            other, _ = add_community(session, "阳光社区", NOW)
            session.flush()
            session.add(Building(name="3", community_id=other.id))  # no coordinates
        with db.session(read_only=True) as session:
            # Building 3 is the other community's: no place here.
            assert spot_in(session, "3号楼电梯坏了", None, HOME_ID) is None
            assert spot_in(session, "3号楼电梯坏了", None, other.id).name == "3号楼"  # type: ignore[union-attr]
            near_one = spot_in(session, "路灯坏了", (31.2301, 121.4701), HOME_ID)
            assert near_one is not None
            assert (near_one.name, near_one.source, near_one.metres) == ("1号楼", "location", 15)
            gate = spot_in(session, "路灯坏了", (31.2300, 121.4716), HOME_ID)
            assert gate is not None and (gate.name, gate.landmark) == ("东门", True)
            # The words win over the location.
            worded = spot_in(session, "东门的灯坏了", (31.2301, 121.4701), HOME_ID)
            assert worded is not None and (worded.name, worded.source) == ("东门", "text")
            assert spot_in(session, "路灯坏了", (31.2400, 121.4700), HOME_ID) is None  # 1.1 km
            # A place wins over a building named only as the writer's home.
            gate_home = spot_in(session, "我住1号楼，东门口的地面塌了", None, HOME_ID)
            assert gate_home is not None and gate_home.name == "东门"
            assert spot_in(session, "我住1号楼，楼道灯坏了", None, HOME_ID).name == "1号楼"  # type: ignore[union-attr]
            # A community whose places file has no coordinates: a location finds nothing.
            assert spot_in(session, "路灯坏了", (31.2300, 121.4710), other.id) is None
    finally:
        db.dispose()


def test_distances_and_what_a_location_message_carries() -> None:
    assert 140 < distance((31.2300, 121.4700), (31.2300, 121.47148)) < NEAR_METRES
    assert location_of({"location_x": "31.23", "location_y": "121.47"}) == (31.23, 121.47)
    assert location_of({"location_x": "31.23"}) is None
    assert location_of({"location_x": "abc", "location_y": "121.47"}) is None
    assert location_of({"location_x": "91", "location_y": "121.47"}) is None
    assert location_of({"location_x": "nan", "location_y": "121.47"}) is None

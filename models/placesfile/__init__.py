"""Places files (`yishiting places import`): read a TOML list of grids, buildings and
households (read.py), make them in their community (write.py), and show what is known
(`places list`, overview.py)."""

from .overview import GridSummary, LandmarkSummary, landmarks_overview, places_overview
from .read import (
    BuildingSpec,
    GridSpec,
    HouseholdSpec,
    LandmarkSpec,
    PlacesFileError,
    PlacesSpec,
    parse_places,
)
from .write import import_places

__all__ = [
    "BuildingSpec",
    "LandmarkSpec",
    "LandmarkSummary",
    "landmarks_overview",
    "GridSpec",
    "GridSummary",
    "HouseholdSpec",
    "PlacesFileError",
    "PlacesSpec",
    "import_places",
    "parse_places",
    "places_overview",
]

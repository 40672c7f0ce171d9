"""Places files (`yishiting places import`): read a TOML list of grids, buildings and
households (read.py), make them in their community (write.py), and show what is known
(`places list`, overview.py)."""

from .overview import GridSummary, places_overview
from .read import GridSpec, HouseholdSpec, PlacesFileError, PlacesSpec, parse_places
from .write import import_places

__all__ = [
    "GridSpec",
    "GridSummary",
    "HouseholdSpec",
    "PlacesFileError",
    "PlacesSpec",
    "import_places",
    "parse_places",
    "places_overview",
]

"""The places file's `[[building]]` (coordinates) and `[[place]]` (named places: gates, squares,
the car park) rows: `places import` makes them as written, again without changes, refuses a bad
row naming its line, and `places list` shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Building
from models.landmarks import Landmark
from models.placesfile import PlacesFileError, import_places, parse_places

PLACES = """\
[[grid]]
name = "第一网格"
buildings = ["1", "2"]

[[grid]]
name = "第二网格"
buildings = ["3"]

[[building]]
name = "3"
lat = 31.2301
lon = 121.4733

[[place]]
name = "东门"
aliases = ["东大门", "东边大门"]
building = "1"
lat = 31.2299
lon = 121.4741

[[place]]
name = "地下车库"
aliases = ["地库"]
grid = "第二网格"
"""
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])


def places_file(tmp_path: Path, text: str = PLACES) -> str:
    path = tmp_path / "places.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_buildings_coordinates_and_named_places_are_imported_and_listed(
    config_path: Path, tmp_path: Path
) -> None:
    dry = run(config_path, "places", "import", places_file(tmp_path), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "+ place 东门 (aliases 东大门、东边大门; building 1; at 31.229900,121.474100)" in (
        dry.stdout
    )
    assert dry.stdout.endswith("would change\n")

    result = run(config_path, "places", "import", places_file(tmp_path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "~ building 3: at (none) → 31.230100,121.473300" in lines
    assert "+ place 地下车库 (aliases 地库; grid 第二网格)" in lines

    again = run(config_path, "places", "import", places_file(tmp_path))
    assert again.stdout == "no changes: up to date\n"

    moved = PLACES.replace("lat = 31.2301", "lat = 31.2302").replace('"东边大门"', '"东侧门"')
    changed = run(config_path, "places", "import", places_file(tmp_path, moved))
    assert changed.stdout.splitlines() == [
        "~ building 3: at 31.230100,121.473300 → 31.230200,121.473300",
        "~ place 东门: aliases (aliases 东大门、东侧门; building 1; at 31.229900,121.474100)",
        "2 change(s) changed",
    ]

    listed = run(config_path, "places", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "第一网格  worker: -  households: 0",
        "  1: 0 household(s)",
        "  2: 0 household(s)",
        "第二网格  worker: -  households: 0",
        "  3: 0 household(s)  at 31.230200,121.473300",
        "places",
        "  东门  aliases: 东大门、东侧门  building 1  at 31.229900,121.474100",
        "  地下车库  aliases: 地库  grid 第二网格",
    ]


def test_a_building_row_makes_a_building_that_is_not_there_yet(
    config_path: Path, tmp_path: Path
) -> None:
    text = '[[building]]\nname = "7"\nlat = 31.23\nlon = 121.47\n'
    result = run(config_path, "places", "import", places_file(tmp_path, text))
    assert result.stdout.splitlines() == [
        "+ building 7 (no grid) at 31.230000,121.470000",
        "1 change(s) changed",
    ]


LONG_ALIASES = ", ".join(f'"地库{n:03}号"' for n in range(30))  # 30 × 6 + 29 commas = 209


@pytest.mark.parametrize(
    "change, line, reason",
    [
        (('name = "东门"', f'name = "{"东" * 33}"'), 15, "name must be text of 1 to 32"),
        (('aliases = ["地库"]', f"aliases = [{LONG_ALIASES}]"), 23, "too long together (209"),
        (('aliases = ["地库"]', 'aliases = ["地库,车库"]'), 23, "without a comma"),
        (('aliases = ["地库"]', 'aliases = "地库"'), 23, "aliases must be a list"),
        (("lat = 31.2299\n", ""), 14, "lat and lon go together (lat is missing)"),
        (("lon = 121.4733", "lon = 221.4733"), 12, "lon must be a number of degrees"),
        (('grid = "第二网格"', 'grid = "第九网格"'), 22, "no grid '第九网格'"),
        (('building = "1"', 'building = "25"'), 15, "no building '25'"),
        (('name = "地下车库"', 'name = "东门"'), 22, "[[place]] '东门' is listed twice"),
        (('name = "地下车库"', 'name = "地下车库"\nfloor = -1'), 23, "unknown key 'floor'"),
        # A word that names two places: a report naming it would go to either.
        (
            ('aliases = ["地库"]', 'aliases = ["东门"]'),
            22,
            "alias '东门' already names place '东门'",
        ),
        (('name = "地下车库"', 'name = "東門"'), 22, "its name already names place '东门'"),
        (('aliases = ["地库"]', 'aliases = ["3号楼"]'), 22, "'3号楼' reads as building 3"),
    ],
)
def test_a_bad_place_row_is_refused_with_its_line_and_reason(
    config_path: Path,
    settings: Settings,
    tmp_path: Path,
    change: tuple[str, str],
    line: int,
    reason: str,
) -> None:
    text = PLACES.replace(*change)
    assert text != PLACES
    file = places_file(tmp_path, text)
    result = run(config_path, "places", "import", file)
    assert result.exit_code == 1, result.stdout
    assert f"{file}:{line}: " in result.stderr, result.stderr
    assert reason in result.stderr
    assert "nothing imported" in result.stderr


def test_the_longest_names_fit_both_databases(backend_settings: Settings) -> None:
    """name String(32) and aliases String(200): what the file may hold, the column holds."""
    name = "东" * 32
    aliases = [f"别名{n:02}号门口小路" for n in range(20)]  # 9 characters each: 199 with commas
    assert len(",".join(aliases)) == 199
    text = PLACES + f'\n[[place]]\nname = "{name}"\naliases = {aliases!r}\nbuilding = "3"\n'
    spec = parse_places(text.replace("'", '"'))
    db = Database(backend_settings)
    try:
        with db.session() as session:
            import_places(session, spec, NOW)
        with db.session() as session:
            assert import_places(session, spec, NOW) == []  # again: nothing changes
        with db.session(read_only=True) as session:
            found = session.scalars(select(Landmark).where(Landmark.name == name)).one()
            assert found.aliases.split(",") == aliases
            three = session.scalars(select(Building).where(Building.name == "3")).one()
            assert (three.lat, three.lon) == (31.2301, 121.4733)
    finally:
        db.dispose()
    with pytest.raises(PlacesFileError, match="too long together"):
        parse_places(text.replace("'", '"').replace("别名00号门口小路", "别名00号门口小路啊啊"))


def test_a_place_may_not_take_a_word_an_imported_place_or_building_has(
    config_path: Path, tmp_path: Path
) -> None:
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    later = tmp_path / "later.toml"
    later.write_text('[[place]]\nname = "南门"\naliases = ["东大门"]\n', encoding="utf-8")
    result = run(config_path, "places", "import", str(later))
    assert result.exit_code == 1
    assert "'南门': its alias '东大门' already names place '东门'" in result.stderr
    # The place itself, described again with other aliases, is no clash.
    again = PLACES.replace('aliases = ["东大门", "东边大门"]', 'aliases = ["东大门", "正门"]')
    result = run(config_path, "places", "import", places_file(tmp_path, again))
    assert result.exit_code == 0, result.stderr
    assert "~ place 东门: aliases" in result.stdout


@pytest.mark.parametrize("written", ["3号楼", "03", "第3栋"])
def test_a_building_row_for_a_building_written_another_way_is_refused(
    config_path: Path, tmp_path: Path, written: str
) -> None:
    """Coordinates for 3号楼 when the community lists building 3 made a second building, in
    no grid, that reports and location messages never reached."""
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    later = tmp_path / "later.toml"
    later.write_text(f'[[building]]\nname = "{written}"\nlat = 31.2\nlon = 121.4\n', "utf-8")
    result = run(config_path, "places", "import", str(later))
    assert result.exit_code == 1
    assert f"[[building]] '{written}' is building '3' written another way" in result.stderr

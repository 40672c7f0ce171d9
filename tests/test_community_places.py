"""`places import|list` and `residents` with communities: a file per community, or a
community column; names unique within a community; another community's rows not found."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Person
from models.places import request_binding

EAST, WEST = "东湖社区", "西湖社区"

PLACES = """\
[[grid]]
name = "第一网格"
worker = "{worker}"
buildings = ["1号楼"]

[[household]]
building = "1号楼"
unit = "1"
room = "101"
"""

COLUMNS = f"""\
[[grid]]
name = "第一网格"
community = "{EAST}"
buildings = ["1号楼"]

[[grid]]
name = "第一网格"
"社区" = "{WEST}"
buildings = ["1号楼", "2号楼"]

[[household]]
community = "{WEST}"
building = "2号楼"
unit = "3"
room = "302"
"""


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])


def write(tmp_path: Path, text: str, name: str = "places.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def counts(config_path: Path) -> dict[str, tuple[int, int, int]]:
    listed = run(config_path, "community", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    return {r["name"]: (r["grids"], r["buildings"], r["households"]) for r in rows}


@pytest.fixture
def street(config_path: Path) -> Path:
    for name in (EAST, WEST):
        assert run(config_path, "community", "add", name).exit_code == 0
    return config_path


def test_the_same_file_imports_into_each_community(street: Path, tmp_path: Path) -> None:
    east = run(
        street,
        "places",
        "import",
        "--community",
        EAST,
        write(tmp_path, PLACES.format(worker="o_e")),
    )
    assert east.exit_code == 0, east.stderr
    assert east.stdout.splitlines() == [
        f"{EAST}: + grid 第一网格",
        f"{EAST}: + staff o_e (not seen yet)",
        f"{EAST}: ~ grid 第一网格: worker (none) → o_e",
        f"{EAST}: + building 1号楼 (grid 第一网格)",
        f"{EAST}: + household 1号楼-1-101",
        "5 change(s) changed",
    ]
    west = run(
        street,
        "places",
        "import",
        "--community",
        WEST,
        write(tmp_path, PLACES.format(worker="o_w")),
    )
    assert west.exit_code == 0, west.stderr
    assert counts(street) == {"本社区": (0, 0, 0), EAST: (1, 1, 1), WEST: (1, 1, 1)}
    again = run(
        street,
        "places",
        "import",
        "--community",
        WEST,
        write(tmp_path, PLACES.format(worker="o_w")),
    )
    assert again.stdout == "no changes: up to date\n"

    listed = run(street, "places", "list")
    assert listed.stdout.splitlines() == [
        f"[{EAST}]",
        "第一网格  worker: o_e  households: 1",
        "  1号楼: 1 household(s)",
        f"[{WEST}]",
        "第一网格  worker: o_w  households: 1",
        "  1号楼: 1 household(s)",
    ]
    only = run(street, "places", "list", "--community", WEST)
    assert only.stdout.splitlines() == [
        f"[{WEST}]",
        "第一网格  worker: o_w  households: 1",
        "  1号楼: 1 household(s)",
    ]


def test_an_unknown_community_is_refused_naming_community_add(street: Path, tmp_path: Path) -> None:
    result = run(
        street,
        "places",
        "import",
        "--community",
        "南湖社区",
        write(tmp_path, PLACES.format(worker="o_e")),
    )
    assert result.exit_code == 1
    assert "no community named '南湖社区'" in result.stderr
    assert "yishiting community add" in result.stderr
    assert counts(street)[EAST] == (0, 0, 0)


def test_a_community_column_puts_each_row_in_its_community(street: Path, tmp_path: Path) -> None:
    result = run(street, "places", "import", write(tmp_path, COLUMNS))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{EAST}: + grid 第一网格",
        f"{EAST}: + building 1号楼 (grid 第一网格)",
        f"{WEST}: + grid 第一网格",
        f"{WEST}: + building 1号楼 (grid 第一网格)",
        f"{WEST}: + building 2号楼 (grid 第一网格)",
        f"{WEST}: + household 2号楼-3-302",
        "6 change(s) changed",
    ]
    assert counts(street) == {"本社区": (0, 0, 0), EAST: (1, 1, 0), WEST: (1, 2, 1)}


def test_a_row_of_a_community_that_does_not_exist_imports_nothing(
    street: Path, tmp_path: Path
) -> None:
    text = COLUMNS.replace(f'"社区" = "{WEST}"', '"社区" = "南湖社区"')
    result = run(street, "places", "import", write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "places.toml:7: no community named '南湖社区' "
        "(add it first: yishiting community add) (nothing imported)"
    )
    assert counts(street)[EAST] == (0, 0, 0)  # not half-imported

    other = run(street, "places", "import", "--community", EAST, write(tmp_path, COLUMNS))
    assert other.exit_code == 1
    assert f"places.toml:7: community '{WEST}' is not '{EAST}' (--community)" in other.stderr


def test_a_household_must_be_in_a_building_of_its_own_community(
    street: Path, tmp_path: Path
) -> None:
    text = COLUMNS.replace(
        f'community = "{WEST}"\nbuilding = "2号楼"', f'community = "{EAST}"\nbuilding = "2号楼"'
    )
    result = run(street, "places", "import", write(tmp_path, text))
    assert result.exit_code == 1
    assert "household 2号楼-3-302: building '2号楼' is in no grid" in result.stderr


def test_residents_commands_keep_to_their_community(
    street: Path, tmp_path: Path, settings: Settings
) -> None:
    assert run(street, "places", "import", write(tmp_path, COLUMNS)).exit_code == 0
    db = Database(settings)
    now = datetime.now(UTC)
    with db.session() as s:
        s.add(Person(openid="o_res", first_seen_at=now, last_seen_at=now))
        s.flush()
        request_binding(s, s.query(Person).filter_by(openid="o_res").one().id, "2", "3", "302", now)
    db.dispose()
    assert (
        run(street, "residents", "pending", "--community", EAST).stdout == "no pending bindings\n"
    )
    assert "2号楼-3-302" in run(street, "residents", "pending", "--community", WEST).stdout
    refused = run(street, "residents", "approve", "--community", EAST, "o_res")
    assert refused.exit_code == 1
    assert "o_res has asked for no binding" in refused.stderr
    approved = run(street, "residents", "approve", "--community", WEST, "o_res")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout == "approved: o_res lives at 2号楼-3-302\n"

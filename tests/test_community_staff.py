"""`staff add|code|list --community`: staff belong to a community, or to the street (街道)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import Chat, WeChat

from bot.cli import main

EAST, WEST = "东湖社区", "西湖社区"

PLACES = """\
[[grid]]
name = "第一网格"
buildings = ["1号楼"]
"""


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])


@pytest.fixture
def street(config_path: Path, tmp_path: Path) -> Path:
    """Two communities, each with a 第一网格."""
    file = tmp_path / "places.toml"
    file.write_text(PLACES, encoding="utf-8")
    for name in (EAST, WEST):
        assert run(config_path, "community", "add", name).exit_code == 0
        assert run(config_path, "places", "import", "--community", name, str(file)).exit_code == 0
    return config_path


def test_staff_belong_to_a_community_or_to_the_street(street: Path) -> None:
    added = run(
        street, "staff", "add", "--openid", "o_east", "--name", "东网格员",
        "--grid", "第一网格", "--topic", "环境卫生", "--community", EAST,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.stdout == (
        "staff 东网格员 (o_east): staff, level 1 (staff), topics: 环境卫生, grids: 第一网格, "
        f"community {EAST}\n"
    )
    run(street, "staff", "add", "--openid", "o_west", "--name", "西主任", "--supervisor",
        "--grid", "第一网格", "--community", WEST)  # fmt: skip
    run(street, "staff", "add", "--openid", "o_zhou", "--name", "周科长", "--street")

    listed = run(street, "staff", "list")
    assert listed.stdout.splitlines() == [
        "东网格员  o_east  staff  level 1 (staff)  topics: 环境卫生  grids: 第一网格  "
        f"community: {EAST}",
        "西主任  o_west  staff  level 2 (supervisor)  topics: -  grids: 第一网格  "
        f"community: {WEST}",
        "周科长  o_zhou  staff  level 3 (street)  topics: -  grids: -  community: 街道",
    ]
    only = run(street, "staff", "list", "--community", WEST)
    assert only.stdout.splitlines() == [
        "西主任  o_west  staff  level 2 (supervisor)  topics: -  grids: 第一网格  "
        f"community: {WEST}"
    ]


def test_a_grid_name_in_several_communities_needs_the_community(street: Path) -> None:
    result = run(street, "staff", "add", "--openid", "o_x", "--name", "王", "--grid", "第一网格")
    assert result.exit_code == 1
    assert "grid '第一网格' is in several communities: name the community" in result.stderr


def test_street_level_staff_belong_to_no_community(street: Path) -> None:
    result = run(
        street, "staff", "add", "--openid", "o_x", "--name", "王", "--street", "--community", EAST
    )
    assert result.exit_code == 1
    assert "level 3 (street) staff belong to the street, not to a community" in result.stderr


def test_an_unknown_community_is_refused(street: Path) -> None:
    result = run(street, "staff", "add", "--openid", "o_x", "--name", "王", "--community", "南湖")
    assert result.exit_code == 1
    assert "no community named '南湖'" in result.stderr


def test_a_staff_code_carries_its_community(street: Path, wechat: WeChat) -> None:
    issued = run(
        street, "staff", "code", "--name", "李华", "--grid", "第一网格", "--community", WEST
    )
    assert issued.exit_code == 0, issued.stderr
    code = issued.stdout.splitlines()[0]
    assert f"community {WEST}" in issued.stdout
    assert "李华，您好！" in (Chat(wechat, "o_li").say(f"员工 {code}") or "")
    listed = run(street, "staff", "list", "--community", WEST)
    assert listed.stdout.splitlines() == [
        f"李华  o_li  staff  level 1 (staff)  topics: -  grids: 第一网格  community: {WEST}"
    ]


def test_a_leavers_work_goes_to_a_colleague_of_their_community_or_the_street(
    street: Path,
) -> None:
    for openid, community in (("o_east", EAST), ("o_east2", EAST), ("o_west", WEST)):
        run(street, "staff", "add", "--openid", openid, "--name", openid, "--community", community)
    run(street, "staff", "add", "--openid", "o_zhou", "--name", "周科长", "--street")
    refused = run(street, "staff", "remove", "o_east", "--to", "o_west")
    assert refused.exit_code == 1
    assert "o_west works in another community than o_east" in refused.stderr
    assert run(street, "staff", "remove", "o_east", "--to", "o_east2").exit_code == 0
    assert run(street, "staff", "remove", "o_east2", "--to", "o_zhou").exit_code == 0

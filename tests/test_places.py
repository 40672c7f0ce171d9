"""Places, bindings and staff from the command line and in the domain: `places import`,
`residents approve`, `staff add|code|list`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import count_rows
from sqlalchemy import select

from bot.cli import main
from bot.config import Settings
from bot.db import Database
from models import Binding, Building, Grid, Household, OutboxMessage, Person, Role, StaffCode
from models.places import (
    UnknownBuilding,
    approve_binding,
    find_building,
    mask_openid,
    request_binding,
)
from models.placesfile import PlacesFileError, parse_places
from models.staff import (
    CodeExpired,
    CodeUnknown,
    CodeUsed,
    UnknownTopic,
    add_staff,
    issue_code,
    redeem_code,
)

PLACES = """\
# 阳光社区
[[grid]]
name = "第一网格"
worker = "o_worker_li"
buildings = ["16", "17"]

[[grid]]
name = "第二网格"
buildings = ["18"]

[[household]]
building = "16"
unit = "1"
room = "101"

[[household]]
building = "18"
unit = "2"
room = "502"
"""

NOW = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], args[1], "--config", str(config_path), *args[2:]])


def places_file(tmp_path: Path, text: str = PLACES) -> str:
    path = tmp_path / "places.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def person(settings: Settings, openid: str) -> tuple[Role, int, str | None]:
    db = Database(settings)
    with db.session(read_only=True) as s:
        p = s.scalars(select(Person).where(Person.openid == openid)).one()
        found = (p.role, p.staff_level, p.name)
    db.dispose()
    return found


def test_places_import_creates_grids_buildings_households_and_the_worker(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    result = run(config_path, "places", "import", places_file(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "+ grid 第一网格",
        "+ staff o_worker_li (not seen yet)",
        "~ grid 第一网格: worker (none) → o_worker_li",
        "+ building 16 (grid 第一网格)",
        "+ building 17 (grid 第一网格)",
        "+ grid 第二网格",
        "+ building 18 (grid 第二网格)",
        "+ household 16-1-101",
        "+ household 18-2-502",
        "9 change(s) changed",
    ]
    assert person(settings, "o_worker_li") == (Role.STAFF, 1, None)
    assert (count_rows(settings, Grid), count_rows(settings, Building)) == (2, 3)
    assert count_rows(settings, Household) == 2

    listed = run(config_path, "places", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "第一网格  worker: o_worker_li  households: 1",
        "  16: 1 household(s)",
        "  17: 0 household(s)",
        "第二网格  worker: -  households: 1",
        "  18: 1 household(s)",
    ]


def test_places_import_twice_changes_nothing_the_second_time(
    config_path: Path, tmp_path: Path
) -> None:
    file = places_file(tmp_path)
    assert run(config_path, "places", "import", file).exit_code == 0
    again = run(config_path, "places", "import", file)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "no changes: up to date\n"


def test_places_import_moves_a_building_to_the_grid_that_lists_it(
    config_path: Path, tmp_path: Path
) -> None:
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    moved = PLACES.replace('["16", "17"]', '["16"]').replace('["18"]', '["18", "17"]')
    result = run(config_path, "places", "import", places_file(tmp_path, moved))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "~ building 17: grid 第一网格 → 第二网格",
        "1 change(s) changed",
    ]


def test_places_import_dry_run_changes_nothing(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    result = run(config_path, "places", "import", places_file(tmp_path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "+ grid 第一网格" in result.stdout
    assert result.stdout.endswith("9 change(s) would change\n")
    assert count_rows(settings, Grid) == 0
    assert count_rows(settings, Person) == 0


@pytest.mark.parametrize(
    "change, line, reason",
    [
        (("[[grid]]\nname", "[[grid]]\nnmae"), 3, "[[grid]]: unknown key 'nmae'"),
        (('name = "第二网格"', 'name = ""'), 8, "a [[grid]] without a name"),
        (('["18"]', '["18", "16"]'), 9, "building '16' is listed also in grid '第一网格'"),
        (('name = "第二网格"', 'name = "第一网格"'), 8, "grid '第一网格' is listed twice"),
        (('building = "18"', 'building = "19"'), 17, "building '19' is in no grid"),
        (('room = "502"', "room = 502\nfloor = 5"), 20, "[[household]]: unknown key 'floor'"),
        (('unit = "2"', 'unit = "2'), 18, "not valid TOML"),
        (("# 阳光社区", "community = 1"), 1, "unknown key 'community'"),
    ],
)
def test_a_bad_places_file_is_refused_whole_with_its_line(
    config_path: Path,
    settings: Settings,
    tmp_path: Path,
    change: tuple[str, str],
    line: int,
    reason: str,
) -> None:
    file = places_file(tmp_path, PLACES.replace(*change))
    result = run(config_path, "places", "import", file)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{file}:{line}: " in result.stderr
    assert reason in result.stderr
    assert "nothing imported" in result.stderr
    assert count_rows(settings, Grid) == 0


def test_parse_places_reads_whole_numbers_as_names() -> None:
    spec = parse_places('[[grid]]\nname = "一"\nbuildings = [16, 17]\n')
    assert spec.grids[0].buildings == ("16", "17")
    with pytest.raises(PlacesFileError, match="no \\[\\[grid\\]\\]"):
        parse_places("")


def test_a_binding_is_approved_from_the_command_line_and_the_resident_told(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    db = Database(settings)
    with db.session() as s:
        resident = Person(openid="o_resident_zhao", first_seen_at=NOW, last_seen_at=NOW)
        s.add(resident)
        s.flush()
        binding = request_binding(s, resident.id, "16", "2", "501", NOW, phone="13812345678")
        assert (binding.status, binding.household.listed) == ("pending", False)
    db.dispose()

    pending = run(config_path, "residents", "pending")
    assert pending.exit_code == 0, pending.stderr
    [line] = pending.stdout.splitlines()
    assert line.startswith("o_re…zhao  16-2-501  phone 138****5678  since 2025-03-05 10:00")

    approved = run(config_path, "residents", "approve", "o_resident_zhao")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout == "approved: o_re…zhao lives at 16-2-501\n"
    again = run(config_path, "residents", "approve", "o_resident_zhao")
    assert again.exit_code == 1
    assert "approved already" in again.stderr
    assert run(config_path, "residents", "pending").stdout == "no pending bindings\n"

    with db.session(read_only=True) as s:
        pushes = [(m.kind, m.payload) for m in s.scalars(select(OutboxMessage).order_by("id"))]
    db.dispose()
    assert pushes == [
        (
            "binding.requested",
            {"person": None, "place": "16-2-501", "phone": "138****5678", "binding": 1},
        ),
        ("binding.approved", {"place": "16-2-501"}),
    ]


def test_a_binding_to_an_unknown_building_is_refused(settings: Settings) -> None:
    db = Database(settings)
    with pytest.raises(UnknownBuilding), db.session() as s:
        request_binding(s, 1, "99", "1", "101", NOW)
    db.dispose()


def test_a_new_request_replaces_the_old_binding_and_is_pending_again(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    db = Database(settings)
    with db.session() as s:
        resident = Person(openid="o_zhao", first_seen_at=NOW, last_seen_at=NOW)
        s.add(resident)
        s.flush()
        request_binding(s, resident.id, "16号楼", "1", "101", NOW)
        approve_binding(s, resident.id, "test", NOW)
        same = request_binding(s, resident.id, "16", "1", "101", NOW)
        assert same.status == "approved"  # the same place again changes nothing
        moved = request_binding(s, resident.id, "18", "2", "502", NOW + timedelta(hours=1))
        assert (moved.status, moved.household.label, moved.household.listed) == (
            "pending",
            "18-2-502",
            True,
        )
    db.dispose()
    assert count_rows(settings, Binding) == 1


def test_staff_add_makes_a_person_staff_with_topics_and_grids(
    config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    assert run(config_path, "places", "import", places_file(tmp_path)).exit_code == 0
    result = run(
        config_path,
        "staff",
        "add",
        "--openid",
        "o_staff_zhang",
        "--name",
        "张敏",
        "--topic",
        "电梯设施",
        "--topic",
        "物业服务",
        "--grid",
        "第一网格",
        "--supervisor",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "staff 张敏 (o_staff_zhang): staff, level 2 (supervisor), "
        "topics: 电梯设施, 物业服务, grids: 第一网格\n"
    )
    assert person(settings, "o_staff_zhang") == (Role.STAFF, 2, "张敏")

    listed = run(config_path, "staff", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "-  o_worker_li  staff  level 1 (staff)  topics: -  grids: 第一网格",
        "张敏  o_staff_zhang  staff  level 2 (supervisor)  topics: 物业服务, 电梯设施  "
        "grids: 第一网格",
    ]

    unknown = run(config_path, "staff", "add", "--openid", "o_x", "--name", "王", "--topic", "天气")
    assert unknown.exit_code == 1
    assert "no topic named '天气'" in unknown.stderr


def test_staff_add_keeps_an_admin_an_admin(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as s:
        s.add(Person(openid="o_admin", role=Role.ADMIN, first_seen_at=NOW, last_seen_at=NOW))
        s.flush()
        admin = add_staff(s, "o_admin", "管理员", [], [], "wecom-admin", 3, NOW)
        assert (admin.role, admin.staff_level, admin.wecom_user_id) == (
            Role.ADMIN,
            3,
            "wecom-admin",
        )
        with pytest.raises(UnknownTopic):
            add_staff(s, "o_admin", "管理员", ["天气"], [], None, 1, NOW)
    db.dispose()


def test_staff_code_prints_a_code_and_how_to_use_it(config_path: Path, settings: Settings) -> None:
    result = run(
        config_path, "staff", "code", "--name", "李华", "--topic", "环境卫生", "--days", "3"
    )
    assert result.exit_code == 0, result.stderr
    code, what, how = result.stdout.splitlines()
    assert len(code) == 8 and not set(code) & set("01OIL")
    assert what == "for 李华: level 1 (staff), valid for 3 day(s)"
    assert how == f"they send to the account, once: 员工 {code}"
    db = Database(settings)
    with db.session(read_only=True) as s:
        row = s.scalars(select(StaffCode)).one()
        assert row.code_hash != code and len(row.code_hash) == 64  # kept hashed only
    db.dispose()


def test_a_code_is_redeemed_once_and_not_after_it_expires(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as s:
        people = [Person(openid=f"o_{n}", first_seen_at=NOW, last_seen_at=NOW) for n in "abc"]
        s.add_all(people)
        s.flush()
        code = issue_code(s, "李华", ["环境卫生"], [], 1, None, NOW, timedelta(days=7))
        staff = redeem_code(s, people[0].id, code.lower(), NOW + timedelta(days=1))
        assert (staff.role, staff.name, staff.staff_level) == (Role.STAFF, "李华", 1)
        with pytest.raises(CodeUsed):
            redeem_code(s, people[1].id, code, NOW + timedelta(days=1))
        late = issue_code(s, "赵强", [], [], 1, None, NOW, timedelta(days=7))
        with pytest.raises(CodeExpired):
            redeem_code(s, people[1].id, late, NOW + timedelta(days=7))
        with pytest.raises(CodeUnknown):
            redeem_code(s, people[2].id, "ABCDEFGH", NOW)
    db.dispose()


def test_an_openid_is_masked_for_staff() -> None:
    assert mask_openid("o_resident_wang") == "o_re…wang"


def test_a_building_is_found_as_people_write_its_name(settings: Settings) -> None:
    db = Database(settings)
    with db.session() as s:
        s.add_all([Building(name="16号楼"), Building(name="A")])
        s.flush()
        found = {
            n: b.name if (b := find_building(s, n)) else None for n in ("16", "16栋", "a座", "17")
        }
        assert found == {"16": "16号楼", "16栋": "16号楼", "a座": "A", "17": None}
    db.dispose()

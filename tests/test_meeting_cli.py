"""`yishiting meeting create|show|list|minutes` and `people reps add|remove|list` as an admin
uses them: the output, the JSON contract, and every refusal with its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Clock, WeChat, db_of, make_app, pushes_to
from flask import Flask
from meeting_fixtures import accepted_item, bound, cli, places
from sqlalchemy import select, update

from bot.config import Settings
from bot.db import Database
from models.agenda import AgendaItem
from models.communities import Community, add_community
from models.meeting_ops import MeetingError, MeetingSpec, call_meeting
from models.meetings import Representative, meeting_by_number
from models.people import Person
from models.places import Binding

LATER = "2099-06-01 19:00"  # naive: Asia/Shanghai
CONTRACT = {"number", "title", "at", "agenda", "invited", "attending", "excused", "minutes"}


@pytest.fixture
def street(settings: Settings, clock: Clock) -> Flask:
    app = make_app(settings, clock=clock)
    wechat = WeChat(app.test_client(), settings)
    places(app)
    now = datetime.now(UTC)
    for openid, address in (("o_zhang", "16-1-101"), ("o_li", "16-1-102"), ("o_wu", "18-1-101")):
        bound(app, wechat, openid, address, now)
    bound(app, wechat, "o_wu_son", "18-1-101", now)
    return app


def create(config: Path, *extra: str, at: str = LATER, invite: str = "building:16") -> Result:
    return cli(
        config, "meeting", "create", "--title", "北门空地议事会", "--at", at,
        "--place", "社区活动室", "--invite", invite, *extra,
    )  # fmt: skip


def test_create_prints_the_number_first_and_show_json_is_the_contract(
    street: Flask, config_path: Path
) -> None:
    item = accepted_item(street, "北门增加健身器材", datetime.now(UTC))
    made = create(config_path, "--agenda", str(item))
    assert made.exit_code == 0, made.output
    assert made.stdout.splitlines()[0] == "#1 北门空地议事会"
    assert "2 invited" in made.stderr
    shown = cli(config_path, "meeting", "show", "1", "--json")
    data = json.loads(shown.stdout)
    assert CONTRACT <= set(data)
    assert data["at"] == "2099-06-01T19:00:00+08:00" and data["agenda"] == [item]
    assert (data["invited"], data["attending"], data["excused"], data["minutes"]) == (2, 0, 0, None)
    listed = cli(config_path, "meeting", "list", "--json")
    assert json.loads(listed.stdout.splitlines()[0])["number"] == 1
    assert "#1" in cli(config_path, "meeting", "list").stdout
    assert "北门增加健身器材" in pushes_to(street, "o_zhang", "meeting.invited")[0]
    assert pushes_to(street, "o_wu", "meeting.") == []


def test_refusals_name_the_reason(street: Flask, config_path: Path) -> None:
    now = datetime.now(UTC)
    item = accepted_item(street, "北门增加健身器材", now)
    proposed = accepted_item(street, "南门修路", now, stage="proposed")
    cases = [
        (("--agenda", str(item)), "2020-01-01 19:00", "building:16", "not in the future"),
        (("--agenda", "99"), LATER, "building:16", "no 议题 #99"),
        (("--agenda", str(proposed)), LATER, "building:16", f"议题 #{proposed} is proposed"),
        ((), LATER, "building:16", "at least one --agenda"),
        (("--agenda", str(item)), LATER, "everyone", "cannot read 'everyone'"),
        (("--agenda", str(item)), LATER, "building:99", "unknown building(s): 99"),
    ]
    for extra, at, invite, reason in cases:
        refused = create(config_path, *extra, at=at, invite=invite)
        assert refused.exit_code == 1 and reason in refused.output, (reason, refused.output)
    assert cli(config_path, "meeting", "show", "1").exit_code == 1  # nothing was called


def test_another_communitys_item_is_not_found(street: Flask, config_path: Path) -> None:
    now = datetime.now(UTC)
    item = accepted_item(street, "乙社区的议题", now)
    with db_of(street).session() as session:
        add_community(session, "甲社区", now)
        other = add_community(session, "乙社区", now)[0]
        found = session.scalars(select(AgendaItem).where(AgendaItem.number == item)).one()
        found.community_id = other.id
    refused = create(config_path, "--agenda", str(item), "--community", "甲社区", invite="all")
    assert refused.exit_code == 1 and f"no 议题 #{item}" in refused.output
    ours = accepted_item(street, "甲社区的议题", now)
    with db_of(street).session() as session:
        found = session.scalars(select(AgendaItem).where(AgendaItem.number == ours)).one()
        found.community_id = session.scalars(
            select(Community.id).where(Community.name == "甲社区")
        ).one()
    mixed = create(config_path, "--agenda", str(item), "--agenda", str(ours), invite="all")
    assert mixed.exit_code == 1 and "of different communities" in mixed.output
    theirs = create(config_path, "--agenda", str(item), invite="all")  # the street calls it
    assert theirs.exit_code == 0, theirs.output
    data = json.loads(cli(config_path, "meeting", "show", "1", "--json").stdout)
    assert data["community"] == "乙社区"
    hidden = cli(config_path, "meeting", "show", "1", "--community", "甲社区")
    assert hidden.exit_code == 1 and "no meeting #1" in hidden.output


def backdated_meeting(app: Flask, item: int, settings: Settings) -> None:
    """A meeting called two days ago for yesterday: held, its minutes due."""
    then = datetime.now(UTC) - timedelta(days=2)
    with db_of(app).session() as session:
        spec = MeetingSpec(
            "北门空地议事会", then + timedelta(days=1), "活动室", [item], "building:16"
        )
        call_meeting(session, spec, None, then, settings.tz)


MINUTES = "参会人员：张三、李四\n纪要：\n到会 2 人。\n议题 #{n}\n摘要：同意\n结论：达成共识：安装\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("随便写的\n参会人员：张三\n", ":1: text outside any heading"),
        ("参会人员：张三\n", ":1: 纪要： is missing"),
        ("参会人员：张三\n纪要：好\n议题 #{n}\n摘要：同意\n", ":3: 议题 #{n} has no 结论"),
        (
            "参会人员：张三\n纪要：好\n议题 #{n}\n结论：好\n议题 #{n}\n结论：好\n",
            ":5: 议题 #{n} again",
        ),
        ("参会人员：张三\n纪要：好\n议题 #77\n结论：好\n", ":3: 议题 #77 is not on this meeting"),
        ("参会人员：张三\n纪要：好\n结论：好\n", ":3: 结论： belongs under an item"),
    ],
)
def test_a_minutes_file_mistake_names_its_line(
    street: Flask, config_path: Path, settings: Settings, tmp_path: Path, text: str, reason: str
) -> None:
    item = accepted_item(street, "北门增加健身器材", datetime.now(UTC))
    backdated_meeting(street, item, settings)
    file = tmp_path / "minutes.txt"
    file.write_text(text.format(n=item), encoding="utf-8")
    refused = cli(config_path, "meeting", "minutes", "1", str(file))
    assert refused.exit_code == 1
    assert f"{file}{reason.format(n=item)}" in refused.output, refused.output
    assert pushes_to(street, "o_zhang", "meeting.minutes") == []


def test_minutes_are_pushed_once_and_a_correction_says_so(
    street: Flask, config_path: Path, settings: Settings, tmp_path: Path
) -> None:
    item = accepted_item(street, "北门增加健身器材", datetime.now(UTC))
    backdated_meeting(street, item, settings)
    file = tmp_path / "minutes.txt"
    file.write_text(MINUTES.format(n=item), encoding="utf-8")
    first = cli(config_path, "meeting", "minutes", "1", str(file))
    assert first.exit_code == 0 and "pushed to the invitees" in first.output, first.output
    file.write_text(MINUTES.format(n=item).replace("到会 2 人", "到会 3 人"), encoding="utf-8")
    again = cli(config_path, "meeting", "minutes", "1", str(file))
    assert again.exit_code == 0 and "corrected (not pushed again)" in again.output
    assert len(pushes_to(street, "o_li", "meeting.minutes")) == 1
    data = json.loads(cli(config_path, "meeting", "show", "1", "--json").stdout)
    assert data["minutes"] == "到会 3 人。" and data["attendees"] == "张三、李四"
    shown = cli(config_path, "meeting", "show", "1").output
    assert f"议题 #{item} 北门增加健身器材  → 达成共识：安装" in shown


def test_minutes_wait_for_the_meeting(street: Flask, config_path: Path, tmp_path: Path) -> None:
    item = accepted_item(street, "北门增加健身器材", datetime.now(UTC))
    assert create(config_path, "--agenda", str(item)).exit_code == 0
    file = tmp_path / "minutes.txt"
    file.write_text(MINUTES.format(n=item), encoding="utf-8")
    early = cli(config_path, "meeting", "minutes", "1", str(file))
    assert early.exit_code == 1 and "has not started yet" in early.output


def reps(app: Flask) -> list[str]:
    with db_of(app).session(read_only=True) as session:
        query = select(Person.openid).join(Representative, Representative.person_id == Person.id)
        return sorted(session.scalars(query))


def test_representatives_are_named_by_openid_phone_or_a_one_person_address(
    street: Flask, config_path: Path
) -> None:
    assert cli(config_path, "people", "reps", "add", "o_zhang").output == "added: o_zhang\n"
    assert cli(config_path, "people", "reps", "add", "16-1-102").exit_code == 0  # only 李四
    two = cli(config_path, "people", "reps", "add", "18-1-101")
    assert two.exit_code == 1 and "fits 2 people" in two.output
    nobody = cli(config_path, "people", "reps", "add", "16-9-999")
    assert nobody.exit_code == 1 and "no resident found as '16-9-999'" in nobody.output
    assert "already" in cli(config_path, "people", "reps", "add", "o_zhang").output
    assert reps(street) == ["o_li", "o_zhang"]
    listed = cli(config_path, "people", "reps", "list").output
    assert "16-1-101" in listed and "16-1-102" in listed
    assert cli(config_path, "people", "reps", "remove", "o_li").exit_code == 0
    gone = cli(config_path, "people", "reps", "remove", "o_li")
    assert gone.exit_code == 1 and "is not a representative" in gone.output
    assert reps(street) == ["o_zhang"]
    made = create(
        config_path,
        "--agenda",
        str(accepted_item(street, "议题", datetime.now(UTC))),
        invite="reps",
    )
    assert "1 invited" in made.stderr


def test_a_phone_given_when_binding_names_the_resident(street: Flask, config_path: Path) -> None:
    with db_of(street).session() as session:
        zhang = session.scalars(select(Person.id).where(Person.openid == "o_zhang")).one()
        binding = session.scalars(select(Binding).where(Binding.person_id == zhang)).one()
        binding.phone = "13912345678"
    assert cli(config_path, "people", "reps", "add", "13912345678").exit_code == 0
    assert reps(street) == ["o_zhang"]


def test_a_title_or_place_of_100_characters_fits_and_101_is_refused(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    now = datetime.now(UTC)
    try:
        with db.session() as session:
            item = AgendaItem(
                number=1, title="议题", body="议题", stage="accepted", stage_at=now, created_at=now
            )
            session.add(item)
            session.flush()
            tz = backend_settings.tz
            at = now + timedelta(days=2)
            long_spec = MeetingSpec(
                "议" * 100, at, "室" * 100, [1], "all," + "building:" + "楼" * 190
            )
            with pytest.raises(MeetingError) as refused:
                call_meeting(session, long_spec, None, now, tz)
            assert refused.value.reason == "invite_long"
            for title, place, reason in (("议" * 101, "室", "title"), ("议", "室" * 101, "place")):
                with pytest.raises(MeetingError) as refused:
                    call_meeting(session, MeetingSpec(title, at, place, [1], "all"), None, now, tz)
                assert refused.value.reason == reason
            made = call_meeting(
                session, MeetingSpec("议" * 100, at, "室" * 100, [1], "all"), None, now, tz
            )
            number = made.number
        with db.session(read_only=True) as session:
            found = meeting_by_number(session, number)
            assert found is not None and len(found.title) == 100 and len(found.place) == 100
    finally:
        db.dispose()


def test_in_a_one_community_street_every_representative_is_the_communitys(
    street: Flask, config_path: Path
) -> None:
    """Upgraded deployments may have residents with no community recorded: while the street
    has one community, a representative listed without one is still invited."""
    assert cli(config_path, "people", "reps", "add", "o_zhang").exit_code == 0
    item = accepted_item(street, "北门增加健身器材", datetime.now(UTC))
    with db_of(street).session() as session:
        session.execute(update(Representative).values(community_id=None))
        found = session.scalars(select(AgendaItem).where(AgendaItem.number == item)).one()
        found.community_id = 1
    made = create(config_path, "--agenda", str(item), invite="reps")
    assert made.exit_code == 0 and "1 invited" in made.stderr, made.output

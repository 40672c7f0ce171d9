"""Topics and keyword rules per community: the street's set, which a community extends with
its own keywords, another deadline, or a topic switched off — in the chat, intake, the
console and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result
from conftest import console_login, csrf_token_of, db_of, make_account
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.test import TestResponse

from bot.classify import RuleBook
from bot.cli import main
from bot.config import Settings
from bot.db import Database, alembic_config
from models import (
    ConsoleAccount,
    KeywordRule,
    Person,
    Role,
    RuleSpec,
    Ticket,
    topic_by_name,
)
from models.communities import HOME_ID, add_community
from models.community_topics import put_rule, set_override
from models.staff import add_staff
from tests.desk import Desk

CANTEEN = "社区食堂的饭菜太贵"  # no street rule matches it
LIFT_AND_RUBBISH = "电梯坏了，楼道里还堆着垃圾"  # 电梯设施 3, 垃圾分类 2
LIFT_ONLY = "16号楼的电梯又坏了，困在里面了"  # 电梯设施 only
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def add_b(db: Database) -> int:
    with db.session() as session:
        community, _ = add_community(session, "幸福社区", NOW)
        return community.id


def own_rule(db: Database, community_id: int, topic: str, keyword: str, weight: float) -> None:
    with db.session() as session:
        found = topic_by_name(session, topic)
        assert found is not None
        spec = RuleSpec(keyword, weight)
        put_rule(session, community_id, found, spec, actor="test", now=NOW)


def override(
    db: Database, community_id: int, topic: str, *, enabled: bool | None, sla: int | None
) -> None:
    with db.session() as session:
        found = topic_by_name(session, topic)
        assert found is not None
        set_override(
            session, community_id, found, enabled=enabled, sla_hours=sla, actor="t", now=NOW
        )


def resident_of(desk: Desk, openid: str, community_id: int) -> None:
    """A resident the bot knows as one of `community_id`'s (their account or their choice)."""
    desk.chat(openid).follow()
    with desk.db.session() as session:
        session.execute(
            update(Person).where(Person.openid == openid).values(community_id=community_id)
        )


def ticket_of(desk: Desk, number: int) -> Ticket:
    with desk.db.session(read_only=True) as session:
        found = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        session.expunge(found)
        return found


@pytest.fixture
def street(desk: Desk) -> Iterator[tuple[Desk, int]]:
    """The desk with a second community, 幸福社区, and a resident in each."""
    b = add_b(desk.db)
    resident_of(desk, "o_a", HOME_ID)
    resident_of(desk, "o_b", b)
    yield desk, b


def test_a_community_keyword_classifies_a_report_only_in_that_community(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    own_rule(desk.db, HOME_ID, "养老助老", "食堂", 3)
    own_rule(desk.db, b, "物业服务", "食堂", 3)

    in_a = desk.chat("o_a").say(CANTEEN)
    in_b = desk.chat("o_b").say(CANTEEN)

    assert in_a is not None and "类别：养老助老" in in_a
    assert in_b is not None and "类别：物业服务" in in_b
    assert ticket_of(desk, 2).community_id == b


def test_a_community_rule_on_a_street_keyword_replaces_it_there(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    with desk.db.session() as session:
        lift = topic_by_name(session, "电梯设施")
        assert lift is not None
        put_rule(session, b, lift, RuleSpec("电梯", 3, "exclude"), actor="t", now=NOW)

    assert "类别：电梯设施" in (desk.chat("o_a").say(LIFT_AND_RUBBISH) or "")
    assert "类别：垃圾分类" in (desk.chat("o_b").say(LIFT_AND_RUBBISH) or "")


def test_a_topic_switched_off_in_b_is_never_filed_in_b_but_still_in_a(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    override(desk.db, b, "电梯设施", enabled=False, sla=None)

    assert "类别：电梯设施" in (desk.chat("o_a").say(LIFT_AND_RUBBISH) or "")
    # In B the next candidate takes it...
    assert "类别：垃圾分类" in (desk.chat("o_b").say(LIFT_AND_RUBBISH) or "")
    # ...and with none, triage: the topic is not among the ones B's resident may choose.
    asked = desk.chat("o_b").say(LIFT_ONLY) or ""
    assert "请问属于哪一类" in asked and "电梯设施" not in asked and "物业服务" in asked
    assert ticket_of(desk, 3).topic_id is None


def test_a_resident_cannot_choose_a_topic_switched_off_after_the_question(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    resident = desk.chat("o_b")
    asked = resident.say(CANTEEN) or ""
    assert "1 物业服务" in asked
    override(desk.db, b, "物业服务", enabled=False, sla=None)

    answer = resident.say("1")

    assert answer == "好的，#1 已转交工作人员分类处理。回复【我的】查看进度。"
    assert ticket_of(desk, 1).topic_id is None


def test_b_s_deadline_for_a_topic_sets_its_tickets_deadlines(street: tuple[Desk, int]) -> None:
    desk, b = street
    override(desk.db, b, "电梯设施", enabled=None, sla=5)

    desk.chat("o_a").say(LIFT_ONLY)
    desk.chat("o_b").say(LIFT_ONLY)

    with desk.db.session(read_only=True) as session:
        lift = topic_by_name(session, "电梯设施")
        assert lift is not None
        street_hours = lift.sla_hours
    a, in_b = ticket_of(desk, 1), ticket_of(desk, 2)
    assert street_hours != 5
    assert a.due_at - a.created_at == timedelta(hours=street_hours)
    assert in_b.due_at - in_b.created_at == timedelta(hours=5)


def test_hand_over_to_a_topic_switched_off_in_the_ticket_s_community_is_refused(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    with desk.db.session() as session:
        add_staff(session, "o_grid", "周网格", [], [], None, 1, NOW)
    override(desk.db, b, "电梯设施", enabled=False, sla=None)
    desk.chat("o_b").say(CANTEEN)  # #1, in B
    desk.chat("o_a").say(CANTEEN)  # #2, in A

    refused = desk.chat("o_grid").say("转派 1 电梯设施") or ""
    done = desk.chat("o_grid").say("转派 2 电梯设施") or ""

    assert refused.startswith("“电梯设施”在#1所属社区已停用，不能转派到这个类别。")
    assert "电梯设施" not in refused.split("可转派的类别：")[1]
    assert done.startswith("#2 已转派至【电梯设施】")
    assert ticket_of(desk, 1).topic_id is None


def test_an_admin_of_b_asking_the_classifier_by_chat_gets_b_s_rules(
    street: tuple[Desk, int],
) -> None:
    desk, b = street
    own_rule(desk.db, b, "物业服务", "食堂", 3)
    with desk.db.session() as session:
        admins = Person.openid.in_(["o_a", "o_b"])
        session.execute(update(Person).where(admins).values(role=Role.ADMIN))

    in_b = desk.chat("o_b").say(f"分类 {CANTEEN}") or ""
    in_a = desk.chat("o_a").say(f"分类 {CANTEEN}") or ""

    assert "食堂→物业服务(+3)" in in_b and "结果：物业服务（规则确定）" in in_b
    assert "命中：（无）" in in_a and "结果：无匹配，进入待分类" in in_a


def test_thirty_communities_share_the_street_s_classifier_until_one_has_rules_of_its_own(
    desk: Desk,
) -> None:
    with desk.db.session() as session:
        ids = [add_community(session, f"社区{n}", NOW)[0].id for n in range(30)]
    book = RuleBook(desk.db, threshold=2.0, margin=1.0, reload_seconds=0)
    street = book.current()

    assert all(book.for_community(c) is street for c in ids)
    own_rule(desk.db, ids[5], "物业服务", "食堂", 3)

    changed = book.for_community(ids[5])
    assert changed is not book.current() and changed is book.for_community(ids[5])
    assert changed.classify(CANTEEN).topic == "物业服务"
    assert book.current().classify(CANTEEN).topic is None
    assert all(book.for_community(c) is book.current() for c in ids if c != ids[5])


def test_a_keyword_is_unique_per_topic_street_wide_and_within_each_community(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    b = add_b(db)
    with db.session() as session:
        topic = topic_by_name(session, "物业服务")
        assert topic is not None
        topic_id = topic.id

    def add(community_id: int | None) -> None:
        with db.session() as session:
            rule = KeywordRule(topic_id=topic_id, keyword="门禁卡", community_id=community_id)
            rule.updated_at = NOW
            session.add(rule)

    add(None)
    add(HOME_ID)
    add(b)
    for again in (None, HOME_ID, b):
        with pytest.raises(IntegrityError):
            add(again)
    db.dispose()


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def test_a_community_s_own_rules_round_trip_through_the_cli(config_path: Path) -> None:
    config = ["--config", str(config_path)]
    assert cli("community", "add", *config, "幸福社区").exit_code == 0
    in_b = ["--community", "幸福社区"]
    text = json.dumps({"id": 1, "text": CANTEEN}, ensure_ascii=False) + "\n"

    added = cli("rules", "add", *config, *in_b, "物业服务", "食堂", "--weight", "3")
    switched = cli("rules", "set", *config, *in_b, "电梯设施", "--off", "--sla", "6")
    listed = cli("rules", "list", *config, *in_b, "--json")
    in_b_verdict = cli("classify", *config, *in_b, input=text)
    street_verdict = cli("classify", *config, input=text)
    lines = cli("rules", "list", *config, *in_b)

    assert added.exit_code == 0 and added.stdout == "+ 物业服务 / 食堂\n"
    assert switched.exit_code == 0, switched.output
    rows = {row["topic"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows["电梯设施"]["enabled"] is False and rows["电梯设施"]["sla_hours"] == 6
    assert {
        "keyword": "食堂",
        "weight": 3.0,
        "kind": "include",
        "enabled": True,
        "source": "community",
    } in rows["物业服务"]["rules"]
    assert json.loads(in_b_verdict.stdout)["topic"] == "物业服务"
    assert json.loads(street_verdict.stdout)["topic"] is None
    assert "  食堂 +3 (本社区)" in lines.stdout and "  物业 +" in lines.stdout
    assert "(继承)" in lines.stdout and "电梯设施  sla 6h (本社区) off (本社区)" in lines.stdout

    removed = cli("rules", "remove", *config, *in_b, "物业服务", "食堂")
    back_on = cli("rules", "set", *config, *in_b, "电梯设施", "--on", "--sla", "inherit")
    assert removed.stdout == "- 物业服务 / 食堂\n" and back_on.exit_code == 0
    assert json.loads(cli("classify", *config, *in_b, input=text).stdout)["topic"] is None
    unknown = cli("rules", "list", *config, "--community", "无此社区")
    assert unknown.exit_code == 1 and "no community named '无此社区'" in unknown.output


# --- the console -------------------------------------------------------------------------


def signed_in(app: Flask, username: str, community_id: int | None) -> FlaskClient:
    """A console admin of `community_id` (None: of the street), signed in."""
    make_account(app, username, "admin")
    with db_of(app).session() as session:
        session.execute(
            update(ConsoleAccount)
            .where(ConsoleAccount.username == username)
            .values(community_id=community_id)
        )
    client = app.test_client()
    assert console_login(client, username).status_code == 303
    return client


def post(client: FlaskClient, url: str, **data: str) -> TestResponse:
    token = csrf_token_of(client.get("/admin/rules"))
    return client.post(url, data={"csrf_token": token, **data})


def topic_id(app: Flask, name: str) -> int:
    with db_of(app).session(read_only=True) as session:
        found = topic_by_name(session, name)
        assert found is not None
        return found.id


def test_a_community_admin_sees_inherited_rules_and_edits_only_its_own(app: Flask) -> None:
    b = add_b(db_of(app))
    admin_b = signed_in(app, "xingfu", b)
    lift, service = topic_id(app, "电梯设施"), topic_id(app, "物业服务")
    page = f"/admin/rules/community/{b}"

    added = post(admin_b, f"{page}/rules", topic_id=str(service), keyword="食堂", weight="3")
    switched = post(admin_b, f"{page}/topic/{lift}", sla_hours="5", switched_off="1")
    shown = admin_b.get(page).get_data(as_text=True)
    tried = admin_b.get(f"{page}/try", query_string={"text": CANTEEN}).get_json()

    assert added.status_code == 303 and switched.status_code == 303
    assert "<td>电梯</td><td>3</td><td>计分</td>" in shown  # the street's, read-only here
    street_row = shown.split("<td>电梯</td>")[1].split("</tr>")[0]
    assert "继承" in street_row and "删除" not in street_row
    own_row = shown.split("<td>食堂</td>")[1].split("</tr>")[0]
    assert "本社区" in own_row and "删除" in own_row
    assert "本社区停用" in shown and "处理时限：5 小时" in shown
    assert tried["topic"] == "物业服务"
    audit = admin_b.get("/admin/rules/audit").get_data(as_text=True)
    assert "<td>幸福社区</td>" in audit and "食堂" in audit


def test_a_community_admin_cannot_edit_street_rules_nor_another_community_s(
    app: Flask,
) -> None:
    b = add_b(db_of(app))
    admin_b = signed_in(app, "xingfu", b)
    lift = topic_id(app, "电梯设施")

    street_edit = post(admin_b, f"/admin/rules/topic/{lift}/rules", keyword="无此词甲", weight="2")
    street_settings = post(admin_b, f"/admin/rules/topic/{lift}/settings", sla_hours="1")
    street_import = admin_b.get("/admin/rules/import")
    other_page = admin_b.get(f"/admin/rules/community/{HOME_ID}")
    other_edit = post(
        admin_b, f"/admin/rules/community/{HOME_ID}/rules", topic_id=str(lift), keyword="无此词甲"
    )
    street_page = admin_b.get(f"/admin/rules/topic/{lift}").get_data(as_text=True)

    assert [street_edit.status_code, street_settings.status_code] == [403, 403]
    assert street_import.status_code == 403
    assert [other_page.status_code, other_edit.status_code] == [404, 404]
    assert "添加关键词" not in street_page and "保存设置" not in street_page
    with db_of(app).session(read_only=True) as session:
        assert (
            session.scalars(select(KeywordRule).where(KeywordRule.keyword == "无此词甲")).all()
            == []
        )


def test_a_street_admin_picks_a_community_and_edits_its_rules(app: Flask) -> None:
    b = add_b(db_of(app))
    street = signed_in(app, "jiedao", None)
    service = topic_id(app, "物业服务")

    index = street.get("/admin/rules").get_data(as_text=True)
    added = post(street, f"/admin/rules/community/{b}/rules", topic_id=str(service), keyword="食堂")

    assert f'href="/admin/rules/community/{b}">幸福社区</a>' in index
    assert f'href="/admin/rules/community/{HOME_ID}">' in index
    assert added.status_code == 303
    assert "本社区" in street.get(f"/admin/rules/community/{b}").get_data(as_text=True)
    assert street.get("/admin/rules/community/999").status_code == 404
    with db_of(app).session(read_only=True) as session:
        own = session.scalars(select(KeywordRule).where(KeywordRule.community_id == b)).one()
    # B's own rule is not a street rule to change through the street's pages.
    at_street = post(street, f"/admin/rules/topic/{service}/rules/{own.id}", weight="9")
    assert at_street.status_code == 404


def migrate_to(db: Database, revision: str, *, down: bool) -> None:
    with db.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_0019_keeps_the_street_s_rules_and_refuses_to_drop_a_community_s(
    backend_settings: Settings,
) -> None:
    db = Database(backend_settings)
    with db.session(read_only=True) as session:
        before = len(session.scalars(select(KeywordRule)).all())
    migrate_to(db, "0018", down=True)
    migrate_to(db, "head", down=False)
    with db.session(read_only=True) as session:
        rules = session.scalars(select(KeywordRule)).all()
        assert len(rules) == before > 0 and {r.community_id for r in rules} == {None}
    own_rule(db, HOME_ID, "物业服务", "食堂", 3)

    with pytest.raises(RuntimeError, match="cannot downgrade below 0019"):
        migrate_to(db, "0018", down=True)
    db.dispose()

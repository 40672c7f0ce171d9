"""A community's data stays in its community: signed in as community A's admin, every console
route — found in the app's url_map, GET and POST, with community B's ids in every number of
the path and a valid CSRF token — answers 403 or 404 for B's rows, shows none of B's texts,
names or numbers, and changes none of B's rows. Then the same for every CLI command that takes
`--community`: with `--community 甲社区` against B's numbers, "not found" and none of B's data.

A route or command added later is walked too; one the walk has no recipe for fails the test
until it gets one (or, if it belongs to another part of issue #16 that has not scoped it yet,
an entry in the allow-lists below, which the lead removes when that part is merged)."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import Clock, console_login, csrf_token_of, db_of, make_app
from flask import Flask, url_for
from flask.testing import FlaskClient
from isolation_data import PASSWORD, Side, two_communities
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings
from models import (
    AgendaItem,
    Binding,
    ConsoleAccount,
    InboundMessage,
    Meeting,
    MeetingInvite,
    Poll,
    Representative,
    StaffCode,
    Ticket,
    TicketEvent,
)
from models.agenda import AgendaEvent
from models.api.keys import ApiKey
from models.outbox import DEAD, OutboxMessage
from models.polls import Ballot

# Routes of other parts of issue #16, not yet scoped on this branch: the lead removes each entry
# when its part is merged (the walk then holds them to the same rule).
NOT_YET_SCOPED = {}
# Not a console account's pages: the login form and its helpers, the stylesheets, and the
# simulator (development mode only, no login; production has no /simulator at all).
NOT_ACCOUNT_PAGES = {
    "console_auth.login",
    "console_auth.csrf_token",
    "console_auth.logout",
    "console_auth.static",
    "simulator.index",
    "simulator.people",
    "simulator.pushes",
    "simulator.send",
}


@dataclass
class Visit:
    """One request of the walk: `ids` name B's rows by the path's argument names."""

    method: str
    ids: dict[str, Any] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    # The ids name the street's rows (its topics and rules), not B's: readable by everyone,
    # so any answer is allowed as long as nothing of B's shows and nothing of B's changes.
    shared: bool = False


def recipes(a: Side, b: Side) -> dict[str, list[Visit]]:
    """How the walk visits each console endpoint, aimed at B's rows."""
    ticket = {"number": b.ticket}
    poll = {"number": b.poll}
    agenda = {"number": b.agenda}
    community = {"community_id": b.community_id}
    street_topic = {"topic_id": 1}  # the street's topics and rules are everyone's to read
    street_rule = {"topic_id": 1, "rule_id": 1}
    moves = [
        Visit("POST", {**ticket, "action": action}, form)
        for action, form in [
            ("accept", {}),
            ("note", {"text": "甲 looked"}),
            ("resolve", {"outcome": "done"}),
            ("reject", {"reason": "no"}),
            ("reassign", {"target": f"person-{a.staff}"}),
            ("callback", {"answer": "satisfied"}),
        ]
    ]
    return {
        "console_tickets.index": [
            Visit("GET"),
            Visit("GET", query={"community": str(b.community_id)}),
            Visit("GET", query={"grid": str(b.grid), "assignee": str(b.staff)}),
            Visit("GET", query={"q": str(b.ticket)}),
        ],
        "console_tickets.show": [Visit("GET", ticket)],
        "console_tickets.act": moves,
        "console_tickets.new": [
            Visit("GET"),
            # Filed into A whatever the form says; B's building is not found in A.
            Visit(
                "POST",
                form={
                    "channel": "phone",
                    "phone": "13800000000",
                    "building": f"乙楼{b.ticket}",
                    "text": "甲 的来电",
                    "community": str(b.community_id),
                },
            ),
        ],
        "console_media.file": [Visit("GET", {**ticket, "attachment_id": b.attachment})],
        # The 工作台: its own community's; asking for B's is refused.
        "console_dashboard.index": [
            Visit("GET"),
            Visit("GET", query={"community": str(b.community_id)}),
        ],
        # The street's pages are for street accounts only (403).
        "console_street.index": [Visit("GET"), Visit("GET", query={"month": "2026-12"})],
        "console_street.trend_fragment": [Visit("GET")],
        "console_street.export_csv": [Visit("GET")],
        "console_street.export_xlsx": [Visit("GET")],
        # Topics and rules: the street's are read-only for a community account (its edits
        # are 403), another community's own rules are 404.
        "console_rules.index": [Visit("GET")],
        "console_rules.topic": [Visit("GET", street_topic, shared=True)],
        "console_rules.try_message": [Visit("GET", query={"text": "电梯坏了"})],
        "console_rules.audit": [Visit("GET")],
        "console_rules.export": [Visit("GET")],
        "console_rules.import_form": [Visit("GET")],
        "console_rules.import_rules": [Visit("POST", form={"rules": "x"})],
        "console_rules.suggestions": [Visit("GET")],
        "console_rules.adopt": [Visit("POST", form={"topic": "电梯设施", "keyword": "甲"})],
        "console_rules.add_topic": [Visit("POST", form={"name": "甲类别"})],
        # Changing the street's: 403 for a community account.
        "console_rules.topic_settings": [Visit("POST", street_topic, {"sla_hours": "1"})],
        "console_rules.add_rule": [Visit("POST", street_topic, {"keyword": "甲", "weight": "1"})],
        "console_rules.edit_rule": [Visit("POST", street_rule, {"weight": "9"})],
        "console_rules.delete_rule": [Visit("POST", street_rule)],
        "console_rules.backtest_change": [Visit("POST", form={"keyword": "甲", "weight": "1"})],
        "console_rules.community": [Visit("GET", community)],
        "console_rules.community_try": [Visit("GET", community, query={"text": "电梯坏了"})],
        "console_rules.community_add_rule": [
            Visit("POST", community, {"topic": "电梯设施", "keyword": "甲", "weight": "1"})
        ],
        "console_rules.community_delete_rule": [Visit("POST", {**community, "rule_id": 1})],
        "console_rules.community_topic": [
            Visit("POST", {**community, "topic_id": 1}, {"sla_hours": "1"})
        ],
        "console_agenda.index": [Visit("GET"), Visit("GET", query={"stage": "proposed"})],
        "console_agenda.show": [Visit("GET", agenda)],
        "console_agenda.accept_item": [Visit("POST", agenda)],
        "console_agenda.decline_item": [Visit("POST", agenda, {"reason": "甲 declines"})],
        # Opened in A whatever the form says (a community account's is always its own).
        "console_agenda.new": [
            Visit("GET"),
            Visit("POST", form={"title": "甲议题", "community": str(b.community_id)}),
        ],
        "console_carrying.assign_owner": [
            Visit("POST", agenda, {"owner": f"乙网格员{b.ticket}", "due": "2099-06-01"})
        ],
        "console_carrying.progress": [Visit("POST", agenda, {"text": "甲 progress"})],
        "console_carrying.finish": [Visit("POST", agenda, {"result": "甲 done"})],
        # The annual report: A's own items (B's asked by id: 403); the XLSX is read in
        # test_the_annual_report_of_a_community_holds_its_own_items_only.
        "console_agenda_export.report_csv": [
            Visit("GET"),
            Visit("GET", query={"year": str(datetime.now(UTC).year)}),
            Visit("GET", query={"community": str(b.community_id)}),
        ],
        "console_agenda_export.report_xlsx": [
            Visit("GET", query={"community": str(b.community_id)}),
        ],
        "console_meetings.index": [Visit("GET")],
        "console_meetings.new": [
            Visit("GET"),
            Visit(
                "POST",
                form={
                    "title": "甲议事会",
                    "at": "2099-01-01T19:00",
                    "place": "甲活动室",
                    "agenda": str(b.agenda),
                    "all": "1",
                },
            ),
        ],
        "console_meetings.show": [Visit("GET", {"number": b.meeting})],
        "console_meetings.minutes": [
            Visit("POST", {"number": b.meeting}, {"attendees": "甲", "minutes": "甲纪要"})
        ],
        "console_reps.index": [Visit("GET")],
        "console_reps.add": [
            Visit("POST", form={"who": f"o-乙-resident-{b.ticket}"}),
            Visit("POST", form={"who": "13800000000"}),
        ],
        "console_reps.remove": [Visit("POST", {"person_id": b.resident})],
        "console_polls.index": [Visit("GET"), Visit("GET", query={"status": "open"})],
        "console_polls.new": [
            Visit("GET"),
            Visit(
                "POST",
                form={
                    "title": "甲议题",
                    "options": "好\n不好",
                    "scope": "grid",
                    "grid": f"乙网格{b.ticket}",
                    "community": str(b.community_id),
                    "unit": "person",
                    "max_choices": "1",
                    "closes_at": "2099-06-01T20:00",
                    "quorum": "0",
                    "threshold": "50",
                },
            ),
            Visit(
                "POST",
                form={
                    "title": "甲表决",
                    "options": "好\n不好",
                    "scope": "all",
                    "agenda": str(b.agenda),
                    "unit": "person",
                    "max_choices": "1",
                    "closes_at": "2099-06-01T20:00",
                    "quorum": "0",
                    "threshold": "50",
                },
            ),
        ],
        "console_polls.show": [Visit("GET", poll)],
        # 表决 · 公示: B's poll takes no ballot from A, B's item is neither published,
        # confirmed nor withdrawn by A; a poll on B's item is "no such 议题" (400, not made).
        "console_publicity.paper_ballot": [
            Visit("POST", poll, {"household": f"乙楼{b.ticket}-1-{b.ticket}", "choice": "A"})
        ],
        "console_publicity.publish_item": [Visit("POST", agenda, {"decision": "甲决定"})],
        "console_publicity.confirm_item": [Visit("POST", agenda)],
        "console_publicity.withdraw_item": [Visit("POST", agenda, {"reason": "甲原因"})],
        "console_polls.tally": [Visit("GET", poll)],
        "console_polls.close": [Visit("POST", poll)],
        "console_polls.decide": [Visit("POST", poll, {"decision": "甲 decides"})],
        "console_people.index": [Visit("GET")],
        "console_people.approve": [
            Visit("POST", {"binding_id": b.binding}, {"household": str(b.household)})
        ],
        "console_people.reject": [
            Visit("POST", {"binding_id": b.binding}, {"household": str(b.household)})
        ],
        "console_people.staff_edit": [
            Visit("GET", {"person_id": b.staff}),
            Visit("POST", {"person_id": b.staff}, {"name": "甲改", "level": "1"}),
        ],
        "console_people.staff_code": [
            Visit("GET"),
            Visit("POST", form={"name": "甲新人", "level": "1", "days": "7", "grid": "乙网格8201"}),
        ],
        "console_people.accounts": [Visit("GET")],
        "console_people.account_create": [
            Visit(
                "POST",
                form={
                    "username": "甲new",
                    "password": PASSWORD,
                    "role": "admin",
                    "person": str(b.staff),
                    "community": str(b.community_id),
                },
            )
        ],
        "console_people.account_role": [
            Visit("POST", {"account_id": b.account}, {"role": "viewer"})
        ],
        "console_people.account_link": [Visit("POST", {"account_id": b.account}, {"person": ""})],
        "console_people.account_community": [
            Visit("POST", {"account_id": b.account}, {"community": str(a.community_id)})
        ],
        "console_outbox.index": [Visit("GET"), Visit("GET", query={"status": DEAD})],
        "console_outbox.retry_one": [Visit("POST", {"message_id": b.outbox})],
        "console_outbox.retry_dead": [Visit("POST")],
        "console_inbound.index": [Visit("GET")],
        "console_inbound.retry": [Visit("POST", {"message_id": b.inbound})],
        # API keys: A's own only; a key made here is A's whatever the form says.
        "console_api_keys.index": [Visit("GET")],
        "console_api_keys.create": [
            Visit(
                "POST",
                form={
                    "name": "甲平台",
                    "scopes": "tickets:read",
                    "community": str(b.community_id),
                },
            )
        ],
        "console_api_keys.show": [Visit("GET", {"key_id": b.api_key})],
        "console_api_keys.revoke_key": [Visit("POST", {"key_id": b.api_key})],
    }


def leaks(body: str, b: Side, sent: tuple[str, ...] = ()) -> list[str]:
    """What of B's a response shows (what the request itself sent may be echoed: a form
    shown again with its error says what was typed, not what B has)."""
    found = [text for text in b.texts if text in body and not any(text in s for s in sent)]
    for number in b.numbers:
        echoed = any(number.endswith(("#" + s, "/" + s)) for s in sent)
        if not echoed and re.search(re.escape(number) + r"(?!\d)", body):
            found.append(number)
    return found


def console_endpoints(app: Flask) -> dict[str, set[str]]:
    """Every console (and simulator) endpoint with its methods, from the url_map."""
    out: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/admin", "/simulator")):
            out.setdefault(rule.endpoint, set()).update(
                (rule.methods or set()) - {"HEAD", "OPTIONS"}
            )
    return out


def int_arguments(app: Flask, endpoint: str) -> set[str]:
    return {
        name
        for rule in app.url_map.iter_rules(endpoint)
        for name, converter in rule._converters.items()
        if converter.__class__.__name__ == "IdConverter"
    }


@pytest.fixture
def sides(app: Flask) -> tuple[Side, Side]:
    with db_of(app).session() as session:
        return two_communities(session)


@pytest.fixture
def admin_of_a(app: Flask, sides: tuple[Side, Side]) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, "甲admin7101", PASSWORD).status_code == 303
    return client


def b_state(app: Flask, b: Side) -> tuple[Any, ...]:
    """Everything of B's the walk's POSTs could change."""
    with db_of(app).session(read_only=True) as db:
        ticket = db.scalars(select(Ticket).where(Ticket.number == b.ticket)).one()
        events = db.scalar(select(func.count()).where(TicketEvent.ticket_id == ticket.id))
        poll = db.scalars(select(Poll).where(Poll.number == b.poll)).one()
        account = db.get(ConsoleAccount, b.account)
        assert account is not None
        item = db.scalars(select(AgendaItem).where(AgendaItem.number == b.agenda)).one()
        return (
            (item.stage, item.decision, item.confirmed_at),
            db.scalar(select(func.count()).where(Ballot.poll_id == poll.id)),
            db.scalar(select(func.count()).where(Poll.agenda_id == item.id)),
            ticket.status,
            ticket.assignee_id,
            events,
            poll.status,
            poll.decision,
            db.get(OutboxMessage, b.outbox).status,  # type: ignore[union-attr]
            db.get(InboundMessage, b.inbound).status,  # type: ignore[union-attr]
            db.get(Binding, b.binding).status,  # type: ignore[union-attr]
            (account.role, account.person_id, account.community_id, account.password_hash),
            db.scalar(select(func.count()).where(ConsoleAccount.community_id == b.community_id)),
            db.scalar(
                select(func.count()).where(OutboxMessage.person_id.in_([b.resident, b.staff]))
            ),
            _agenda_state(db, b),
            _meeting_state(db, b),
            _api_key_state(db, b),
        )


def _api_key_state(db: Any, b: Side) -> tuple[Any, ...]:
    """B's API keys: how many, and whether its key is revoked."""
    key = db.get(ApiKey, b.api_key)
    count = db.scalar(select(func.count()).where(ApiKey.community_id == b.community_id))
    return (key.revoked_at, key.revoked_by, count)


def _agenda_state(db: Any, b: Side) -> tuple[Any, ...]:
    """B's 议题 as 落实 could change it: its stage, owner, due date, result, timeline."""
    item = db.scalars(select(AgendaItem).where(AgendaItem.number == b.agenda)).one()
    events = db.scalar(select(func.count()).where(AgendaEvent.agenda_id == item.id))
    return (item.stage, item.owner_id, item.owner_party, item.due_at, item.result, events)


def _meeting_state(db: Any, b: Side) -> tuple[Any, ...]:
    """B's meeting, its answers, its agenda item's stage, B's representatives."""
    meeting = db.scalars(select(Meeting).where(Meeting.number == b.meeting)).one()
    answers = db.scalars(
        select(MeetingInvite.answer).where(MeetingInvite.meeting_id == meeting.id)
    ).all()
    stage = db.scalar(select(AgendaItem.stage).where(AgendaItem.number == b.agenda))
    reps = db.scalar(select(func.count()).where(Representative.community_id == b.community_id))
    return (meeting.minutes, meeting.attendees, tuple(answers), stage, reps)


def visits(app: Flask, a: Side, b: Side) -> Iterator[tuple[str, Visit]]:
    table = recipes(a, b)
    walked = set(table) | set(NOT_YET_SCOPED) | NOT_ACCOUNT_PAGES
    missing = set(console_endpoints(app)) - walked
    assert not missing, f"console routes the isolation walk does not cover: {sorted(missing)}"
    for endpoint, methods in console_endpoints(app).items():
        if endpoint in NOT_YET_SCOPED or endpoint in NOT_ACCOUNT_PAGES:
            continue
        done = {visit.method for visit in table[endpoint]}
        assert methods <= done, f"{endpoint}: the walk does not try {sorted(methods - done)}"
        for visit in table[endpoint]:
            missing_ids = int_arguments(app, endpoint) - set(visit.ids)
            assert not missing_ids, f"{endpoint}: no B id for {sorted(missing_ids)}"
            yield endpoint, visit


def test_community_admin_reaches_none_of_another_communitys_rows_in_the_console(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient
) -> None:
    walk_console(app, sides, admin_of_a)


def test_the_console_walk_on_postgresql(
    settings: Settings, clock: Clock, postgres_cluster: Any
) -> None:
    """The same walk on PostgreSQL, where the scoped queries run as the real deployment's."""
    pg = make_app(
        settings.replace(app={"database_url": postgres_cluster.new_database()}), clock=clock
    )
    try:
        with db_of(pg).session() as session:
            sides = two_communities(session)
        client = pg.test_client()
        assert console_login(client, "甲admin7101", PASSWORD).status_code == 303
        walk_console(pg, sides, client)
    finally:
        db_of(pg).dispose()


def walk_console(app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient) -> None:
    """Every console route as A's admin against B's rows: 403/404, none of B's data shown,
    none of B's rows changed."""
    a, b = sides
    before = b_state(app, b)
    token = csrf_token_of(admin_of_a.get("/admin/tickets"))
    problems = []
    for endpoint, visit in visits(app, a, b):
        with app.test_request_context():
            values: dict[str, Any] = {**visit.ids, **visit.query}
            url = url_for(endpoint, **values)
        if visit.method == "GET":
            answer = admin_of_a.get(url)
        else:
            answer = admin_of_a.post(url, data={"csrf_token": token, **visit.form})
        body = answer.get_data(as_text=True)
        if answer.status_code == 303:  # where a POST sends the person next, as they see it
            body += admin_of_a.get(answer.headers["Location"]).get_data(as_text=True)
        allowed = {403, 404} if visit.ids and not visit.shared else {200, 303, 400, 403, 404}
        if answer.status_code not in allowed:
            problems.append(f"{visit.method} {url}: {answer.status_code}")
        sent = (*visit.form.values(), *visit.query.values())
        if leaks(body, b, sent):
            problems.append(f"{visit.method} {url} shows {leaks(body, b, sent)}")
    assert not problems, "\n".join(problems)
    assert b_state(app, b) == before


def test_the_walk_sees_a_communitys_own_rows(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient
) -> None:
    """The walk is not vacuous: the same pages show A's rows to A's admin."""
    a, _ = sides
    assert admin_of_a.get(f"/admin/tickets/{a.ticket}").status_code == 200
    assert admin_of_a.get(f"/admin/polls/{a.poll}").status_code == 200
    for path, text in [
        ("/admin/tickets", a.texts[5]),
        ("/admin/people", a.texts[3]),
        ("/admin/inbound", a.texts[7]),
        ("/admin/people/accounts", a.texts[8]),
        ("/admin/polls", a.texts[6]),
        ("/admin/agenda", a.texts[9]),
        (f"/admin/agenda/{a.agenda}", a.texts[9]),
        ("/admin/meetings", a.texts[10]),
        (f"/admin/meetings/{a.meeting}", a.texts[10]),
        (f"/admin/agenda/{a.agenda}", a.texts[10]),  # its meetings part
    ]:
        assert text in admin_of_a.get(path).get_data(as_text=True), path
    outbox = admin_of_a.get("/admin/outbox").get_data(as_text=True)
    assert a.texts[3] in outbox  # the resident it is for


def test_street_admin_sees_both_communities(
    app: Flask, sides: tuple[Side, Side], admin_client: FlaskClient
) -> None:
    a, b = sides
    page = admin_client.get("/admin/tickets").get_data(as_text=True)
    assert a.texts[5] in page and b.texts[5] in page
    assert "甲社区" in page and "乙社区" in page  # the community column and filter
    only_b = admin_client.get(f"/admin/tickets?community={b.community_id}")
    assert b.texts[5] in only_b.get_data(as_text=True)
    assert a.texts[5] not in only_b.get_data(as_text=True)
    ticket_page = admin_client.get(f"/admin/tickets/{b.ticket}")
    assert ticket_page.status_code == 200
    assert "乙社区" in ticket_page.get_data(as_text=True)  # which community it is in
    assert admin_client.get(f"/admin/polls/{b.poll}").status_code == 200


def test_street_wide_poll_is_read_by_a_community_but_changed_by_the_street(
    app: Flask,
    sides: tuple[Side, Side],
    admin_of_a: FlaskClient,
    admin_client: FlaskClient,
    config_path: Any,
) -> None:
    _, b = sides
    with db_of(app).session() as db:
        poll = db.scalars(select(Poll).where(Poll.number == b.poll)).one()
        poll.community_id = None  # now the street's
    assert admin_of_a.get(f"/admin/polls/{b.poll}").status_code == 200
    token = csrf_token_of(admin_of_a.get(f"/admin/polls/{b.poll}"))
    answer = admin_of_a.post(f"/admin/polls/{b.poll}/close", data={"csrf_token": token})
    assert answer.status_code == 403
    # The CLI the same way: shown with --community, closed only without it.
    runner, config = CliRunner(), ["--config", str(config_path)]
    shown = runner.invoke(main, ["poll", "show", str(b.poll), *config, "--community", "甲社区"])
    assert shown.exit_code == 0 and f"#{b.poll}" in shown.output
    refused = runner.invoke(main, ["poll", "close", str(b.poll), *config, "--community", "甲社区"])
    assert refused.exit_code == 1 and "only the street changes it" in refused.output
    token = csrf_token_of(admin_client.get(f"/admin/polls/{b.poll}"))
    answer = admin_client.post(f"/admin/polls/{b.poll}/close", data={"csrf_token": token})
    assert answer.status_code == 303


def test_community_admin_makes_accounts_of_its_own_community_only(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient
) -> None:
    a, b = sides
    token = csrf_token_of(admin_of_a.get("/admin/people/accounts"))
    form = {"username": "甲clerk", "password": PASSWORD, "role": "viewer", "csrf_token": token}
    assert admin_of_a.post("/admin/people/accounts", data=form).status_code == 303
    with db_of(app).session(read_only=True) as db:
        made = db.scalars(select(ConsoleAccount).where(ConsoleAccount.username == "甲clerk")).one()
        assert made.community_id == a.community_id  # never a street account
    moved = admin_of_a.post(
        f"/admin/people/accounts/{made.id}/community",
        data={"csrf_token": token, "community": ""},
    )
    assert moved.status_code == 403  # only the street moves accounts between communities


def test_community_admins_staff_codes_make_staff_of_its_community(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient
) -> None:
    a, b = sides
    answer = admin_of_a.get("/admin/people/code")
    page = answer.get_data(as_text=True)
    assert f"甲网格{a.ticket}" in page and f"乙网格{b.ticket}" not in page  # its own grids
    form = {"name": "甲新人", "level": "1", "days": "7", "csrf_token": csrf_token_of(answer)}
    assert admin_of_a.post("/admin/people/code", data=form).status_code == 200
    with db_of(app).session(read_only=True) as db:
        code = db.scalars(select(StaffCode).where(StaffCode.name == "甲新人")).one()
        assert code.community_id == a.community_id


# --- the CLI -----------------------------------------------------------------------------

# Commands of other parts of issue #16 with --community, not walked here yet: the lead removes
# each entry when its part is merged.
CLI_NOT_YET_SCOPED: dict[str, str] = {}


def commands_with_community(group: click.Group, prefix: str = "") -> Iterator[str]:
    """Every command (path like "tickets show") that takes --community."""
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from commands_with_community(command, path)
        elif any("--community" in p.opts for p in command.params if isinstance(p, click.Option)):
            yield path


def _places_file() -> Path:
    path = Path(tempfile.mkdtemp()) / "places.toml"
    path.write_text('[[grid]]\nname = "甲新网格"\nbuildings = ["甲新楼"]\n', encoding="utf-8")
    return path


def _labeled_file() -> Path:
    path = Path(tempfile.mkdtemp()) / "labeled.jsonl"
    path.write_text('{"text": "电梯坏了", "topic": "电梯设施"}\n', encoding="utf-8")
    return path


def cli_recipes(b: Side) -> dict[str, list[list[str]]]:
    """How the walk runs each command with --community A, aimed at B's rows."""
    return {
        "tickets list": [[], ["--json"], ["--grid", f"乙网格{b.ticket}"]],
        "tickets show": [[str(b.ticket)], [str(b.ticket), "--json"]],
        "tickets retopic": [[str(b.ticket), "物业服务"]],
        "tickets export": [["--confirmed"]],
        "tickets file": [
            ["--channel", "phone", "--phone", "13800000000", "--building", f"乙楼{b.ticket}", "x"]
        ],
        "inbound list": [[], ["--failed", "--json"]],
        "outbox list": [[], ["--status", DEAD, "--json"]],
        "outbox retry": [[str(b.outbox)], ["--all-dead"]],
        "admin create": [
            ["--username", "甲cli", "--password", PASSWORD, "--openid", f"o-乙-staff-{b.ticket}"]
        ],
        "admin password": [[f"乙admin{b.ticket}", "--password", "甲-new-password"]],
        "report": [[], ["--by", "grid"], ["--by", "community", "--json"]],
        # Rules: A's own and the street's inherited ones; nothing of B's.
        "classify": [[]],
        "rules list": [[], ["--json"]],
        "rules add": [["电梯设施", "甲词"]],
        "rules remove": [["电梯设施", "乙词"]],
        "rules set": [["电梯设施", "--sla", "1"]],
        "rules backtest": [[str(_labeled_file())]],
        "agenda list": [[], ["--json"], ["--stage", "proposed", "--json"]],
        "agenda show": [[str(b.agenda)], [str(b.agenda), "--json"]],
        "agenda accept": [[str(b.agenda)]],
        "agenda decline": [[str(b.agenda), "甲理由"]],
        "agenda create": [["--title", "甲议题", "--text", "甲的说明"]],
        "agenda assign": [[str(b.agenda), "--owner", f"乙网格员{b.ticket}", "--due", "2099-06-01"]],
        "agenda progress": [[str(b.agenda), "甲 progress"]],
        "agenda complete": [[str(b.agenda), "甲 done"]],
        "poll list": [[]],
        "agenda report": [["--year", str(datetime.now(UTC).year)]],
        "poll show": [[str(b.poll)], [str(b.poll), "--json"]],
        "poll close": [[str(b.poll)]],
        "poll decide": [[str(b.poll), "甲决定"]],
        "poll ballot": [
            [
                str(b.poll),
                "--household",
                f"乙楼{b.ticket}-1-{b.ticket}",
                "--choice",
                "A",
                "--by",
                "甲",
            ]
        ],
        "agenda publish": [[str(b.agenda), "--decision", "甲决定"]],
        "agenda withdraw": [[str(b.agenda), "甲原因"]],
        "agenda confirm": [[str(b.agenda)]],
        "poll create": [
            [
                "--title",
                "甲议题",
                "--option",
                "好",
                "--option",
                "不好",
                "--closes-in",
                "1d",
                "--scope",
                f"grid:乙网格{b.ticket}",
            ],
            ["--title", "甲表决", "--option", "好", "--option", "不好", "--closes-in", "1d"]
            + ["--agenda", str(b.agenda)],
        ],
        "meeting list": [[], ["--json"]],
        "meeting show": [[str(b.meeting)], [str(b.meeting), "--json"]],
        "meeting create": [
            [
                "--title",
                "甲议事会",
                "--at",
                "2099-01-01 19:00",
                "--place",
                "甲活动室",
                "--agenda",
                str(b.agenda),
                "--invite",
                "all",
            ]
        ],
        "meeting minutes": [[str(b.meeting), str(_minutes_file())]],
        "people reps list": [[]],
        "people reps add": [[f"o-乙-resident-{b.ticket}"], ["13800000000"]],
        "people reps remove": [[f"o-乙-resident-{b.ticket}"]],
        "residents pending": [[]],
        "residents approve": [[f"o-乙-resident-{b.ticket}"]],
        "residents reject": [[f"o-乙-resident-{b.ticket}"]],
        "staff list": [[]],
        "staff add": [
            ["--openid", f"o-乙-staff-{b.ticket}", "--name", "甲改名", "--grid", "甲无此网格"],
            ["--openid", "o-甲-new", "--name", "甲新人", "--grid", f"乙网格{b.ticket}"],
        ],
        "staff code": [["--name", "甲新人", "--grid", f"乙网格{b.ticket}"]],
        "places list": [[]],
        # Writes into A only: B's rows stay as they were and nothing of B's is printed.
        "places import": [[str(_places_file())]],
        "api-key list": [[], ["--json"]],
        "api-key create": [["--name", "甲平台", "--scope", "tickets:read"]],
        "api-key revoke": [[str(b.api_key)], [b.api_key_shown]],
        "notify": [
            ["--all", "甲 通知"],
            ["--to", f"o-乙-resident-{b.ticket}", "甲 通知"],
            ["--grid", f"乙网格{b.ticket}", "甲 通知"],
            ["--building", f"乙楼{b.ticket}", "甲 通知"],
        ],
    }


def _minutes_file() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="isolation-minutes-"))
    path = folder / "minutes.txt"
    path.write_text("参会人员：甲\n纪要：\n甲纪要\n", encoding="utf-8")
    return path


def test_community_scoped_cli_commands_show_none_of_another_communitys_rows(
    app: Flask, sides: tuple[Side, Side], config_path: Any
) -> None:
    _, b = sides
    before = b_state(app, b)
    table = cli_recipes(b)
    found = set(commands_with_community(main))
    missing = found - set(table) - set(CLI_NOT_YET_SCOPED)
    assert not missing, f"CLI commands with --community the walk does not cover: {missing}"
    runner = CliRunner()
    problems = []
    for path in sorted(found - set(CLI_NOT_YET_SCOPED)):
        for args in table[path]:
            argv = [*path.split(), "--config", str(config_path), "--community", "甲社区", *args]
            result = runner.invoke(main, argv)
            output = result.output + (result.stderr if result.stderr_bytes else "")
            if result.exception and not isinstance(result.exception, SystemExit):
                problems.append(f"{' '.join(argv)}: {result.exception!r}")
            if leaks(output, b, tuple(args)):
                problems.append(f"{' '.join(argv)} shows {leaks(output, b, tuple(args))}")
            if args and args[0] == str(b.ticket) and result.exit_code == 0:
                problems.append(f"{' '.join(argv)}: found B's ticket")
    assert not problems, "\n".join(problems)
    assert b_state(app, b) == before


@pytest.mark.parametrize(
    ("command", "number"),
    [
        ("tickets show", "ticket"),
        ("tickets retopic", "ticket"),
        ("agenda show", "agenda"),
        ("agenda accept", "agenda"),
    ],
)
def test_another_communitys_number_is_not_found_like_a_missing_one(
    app: Flask, sides: tuple[Side, Side], config_path: Any, command: str, number: str
) -> None:
    _, b = sides
    extra = ["物业服务"] if command.endswith("retopic") else []
    runner = CliRunner()

    def run(n: int) -> Any:
        argv = [*command.split(), "--config", str(config_path), "--community", "甲社区"]
        return runner.invoke(main, [*argv, str(n), *extra])

    theirs, missing = run(getattr(b, number)), run(99999)
    assert theirs.exit_code == missing.exit_code != 0
    assert theirs.output.replace(str(getattr(b, number)), "N") == missing.output.replace(
        "99999", "N"
    )


def test_filing_for_a_resident_lands_in_the_accounts_community_or_the_street_chosen_one(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient, admin_client: FlaskClient
) -> None:
    a, b = sides

    def file(client: FlaskClient, text: str, community: int, building: str) -> Any:
        token = csrf_token_of(client.get("/admin/tickets/new"))
        form = {"channel": "patrol", "text": text, "building": building, "csrf_token": token}
        return client.post("/admin/tickets/new", data={**form, "community": str(community)})

    assert file(admin_of_a, "甲 巡查发现井盖松动", b.community_id, "").status_code == 303
    refused = file(admin_of_a, "甲 巡查发现井盖松动2", b.community_id, f"乙楼{b.ticket}")
    assert refused.status_code == 400  # B's building is not one of A's
    street_form = admin_client.get("/admin/tickets/new").get_data(as_text=True)
    assert "甲社区" in street_form and "乙社区" in street_form  # the street chooses
    assert file(admin_client, "街道 巡查发现路灯不亮", b.community_id, "").status_code == 303
    with db_of(app).session(read_only=True) as db:
        where = dict(db.execute(select(Ticket.text, Ticket.community_id)).all())
    assert where["甲 巡查发现井盖松动"] == a.community_id
    assert where["街道 巡查发现路灯不亮"] == b.community_id


def test_the_annual_report_of_a_community_holds_its_own_items_only(
    app: Flask, sides: tuple[Side, Side], admin_of_a: FlaskClient, config_path: Any
) -> None:
    from openpyxl import load_workbook

    a, b = sides
    year = str(datetime.now(UTC).year)
    answer = admin_of_a.get(f"/admin/agenda/report.xlsx?year={year}")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    cells = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    assert str(a.agenda) in cells and f"甲社区北门加装健身器材{a.agenda - 2}" in cells
    assert not leaks(cells, b) and str(b.agenda) not in cells
    out = Path(tempfile.mkdtemp()) / "a.xlsx"
    argv = ["agenda", "report", "--config", str(config_path), "--community", "甲社区"]
    result = CliRunner().invoke(main, [*argv, "--year", year, "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [a.agenda]

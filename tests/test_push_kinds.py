"""The registry of push kinds (models/pushes.py) guards every kind the code can queue: each has
one renderer that puts its sample payload in words, offers its values to typed templates,
and has a dedupe key that is the same for the same event and differs between events. Keys of
kinds queued before the registry are pinned byte for byte: rows already waiting in a running
deployment's outbox carry them."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.delivery import render
from bot.delivery.templates import RENDERERS
from models import pushes
from models.pushes import KINDS, Audience, PushKind, key_parts

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)
KEY_SAMPLES: dict[str, Any] = {
    "now": NOW,
    "event": "filed",
    "chunk": 0,
    "receipt": "msg:24581234567",
    "level": 2,
    "binding": 4,
    "asked_at": NOW,
    "due_at": NOW,
}
ALL = sorted(KINDS.values(), key=lambda k: k.name)


def values_for(kind: PushKind, template: str) -> dict[str, Any]:
    values = kind.sample()
    for name in key_parts(template):
        if name != "to" and name not in values:
            values[name] = KEY_SAMPLES[name]
    return values


def templates(kind: PushKind) -> list[tuple[str | None, str]]:
    return [(None, kind.key), *kind.variants.items()]


def make(kind: PushKind, variant: str | None, to: int | None, /, **values: Any) -> Any:
    if variant is None:
        return kind.push(to, **values)
    return kind.push_variant(variant, to, **values)


def test_the_registry_holds_every_kind_once_by_its_module_name() -> None:
    declared = [v for v in vars(pushes).values() if isinstance(v, PushKind)]
    assert len(declared) == len(KINDS)
    assert {k.name for k in declared} == set(KINDS)


def test_every_kind_has_exactly_one_renderer_and_no_renderer_lacks_a_kind() -> None:
    assert set(RENDERERS) == set(KINDS)


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_every_kind_renders_its_sample_payload_in_words(kind: PushKind) -> None:
    rendered = render(kind, kind.sample())  # UnknownKind (a KeyError inside) fails here
    assert rendered.title and rendered.text
    assert "{" not in rendered.text and "None" not in rendered.text
    assert render(kind.name, kind.sample()) == rendered  # the name in a row renders the same


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_a_persons_push_offers_every_value_to_a_typed_template(kind: PushKind) -> None:
    parts = render(kind, kind.sample()).parts
    scalars = [n for n, v in kind.sample().items() if isinstance(v, str | int | float)]
    scalars = [n for n in scalars if not isinstance(kind.sample()[n], bool)]
    assert set(scalars) <= set(parts)
    assert {"headline", "next_step"} <= set(parts)


@pytest.mark.parametrize("kind", ALL, ids=lambda k: k.name)
def test_a_dedupe_key_is_the_same_for_one_event_and_differs_between_events(
    kind: PushKind,
) -> None:
    person = None if kind.audience == Audience.BROADCAST else 7
    for variant, template in templates(kind):
        values = values_for(kind, template)
        key = make(kind, variant, person, **values).dedupe_key
        assert key == make(kind, variant, person, **values).dedupe_key
        assert key.startswith(f"{kind.name}:") and len(key) <= 200
        for name in key_parts(template):
            if name == "to":
                other = make(kind, variant, 8, **values).dedupe_key
            else:
                changed = {**values, name: _another(values[name])}
                other = make(kind, variant, person, **changed).dedupe_key
            assert other != key, f"{kind.name}: {name} does not reach the key"


def _another(value: Any) -> Any:
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, int):
        return value + 1
    return f"{value}x"


def test_keys_differ_between_the_kinds_and_variants_of_one_event() -> None:
    keys = [
        make(kind, variant, 7, **values_for(kind, template)).dedupe_key
        for kind in ALL
        for variant, template in templates(kind)
    ]
    assert len(keys) == len(set(keys))


def test_a_push_refuses_a_missing_or_unknown_value() -> None:
    with pytest.raises(TypeError, match="missing"):
        pushes.TICKET_ACCEPTED.push(1, ticket=3, now=NOW)
    with pytest.raises(TypeError, match="unknown"):
        pushes.TICKET_ACCEPTED.push(1, ticket=3, number=12, now=NOW, text="楼道灯坏了")


def test_the_keys_of_kinds_queued_before_the_registry_are_byte_identical() -> None:
    """Each pair: the key as the registry builds it, the key as the code of f1d90d0 wrote it."""
    now = datetime(2026, 12, 6, 17, 45, 3, 250001, tzinfo=timezone(timedelta(hours=8)))
    due = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    t, p = {"ticket": 31, "number": 12}, {"poll": 2, "number": 5, "title": "道路重铺"}
    staff = {**t, "topic": None, "place": None, "phone": None, "text": "x", "due_at": None}
    stamp = f"{now.timestamp():.6f}"
    pairs = [
        (pushes.NOTICE.push(9, announcement=4, text="停水"), "notice:4:9"),
        (
            pushes.NOTICE_MASS.push(None, announcement=4, text="停水", openids=[], chunk=3),
            "notice.mass:4:3",
        ),
        (pushes.INBOUND_REPLY.push(9, text="好", receipt="m:1"), "inbound.reply:m:1"),
        (pushes.TICKET_ASSIGNED.push(9, **staff, event="filed"), "ticket.assigned:31:filed:9"),
        (
            pushes.TICKET_ASSIGNED.push(9, **staff, event=f"reassigned:{stamp}"),
            f"ticket.assigned:31:reassigned:{stamp}:9",
        ),
        (
            pushes.TICKET_ESCALATED.push(9, **staff, level_name="社区", event=f"escalated:{stamp}"),
            f"ticket.escalated:31:escalated:{stamp}:9",
        ),
        (
            pushes.TICKET_DUE_SOON.push(9, **staff, event=f"due:{due}"),
            "ticket.due_soon:31:due:2026-12-07 10:00:00+00:00:9",
        ),
        (
            pushes.TICKET_OVERDUE.push(9, **staff, event=f"overdue:{due}"),
            "ticket.overdue:31:overdue:2026-12-07 10:00:00+00:00:9",
        ),
        (
            pushes.TICKET_UNASSIGNED.push(9, **staff, hours="24", event="triage"),
            "ticket.unassigned:31:triage:9",
        ),
        (
            pushes.TICKET_REOPENED.push(9, **staff, event=f"followup:{stamp}"),
            f"ticket.reopened:31:followup:{stamp}:9",
        ),
        (
            pushes.TICKET_REOPENED.push_variant(
                "supervisor", 9, **t, topic=None, text="x", supervisor=True, now=now
            ),
            f"ticket.reopened:31:{now.timestamp():.6f}:supervisor",
        ),
        (
            pushes.TICKET_RESIDENT_NOTE.push(9, **t, text="x", now=now),
            f"ticket.resident_note:31:{now.timestamp():.6f}",
        ),
        (
            pushes.TICKET_ESCALATED_AWAY.push(9, **t, level_name="社区", level=2),
            "ticket.escalated_away:31:2",
        ),
        (pushes.TICKET_ACCEPTED.push(9, **t, now=now), f"ticket.accepted:31:{stamp}"),
        (
            pushes.TICKET_SUPPORTED_REJECTED.push(9, **t, reason="r", now=now),
            f"ticket.supported_rejected:31:9:{now.timestamp():.6f}",
        ),
        (
            pushes.TICKET_RATING_REMINDER.push(9, **t, asked_at=due),
            f"ticket.rating_reminder:31:{due}",
        ),
        (pushes.TICKET_FOLLOWUP.push(9, **t, due_at=due), f"ticket.followup:31:{due}"),
        (
            pushes.BINDING_REQUESTED.push(
                9, person=None, place="1-1-101", phone=None, binding=4, now=now
            ),
            f"binding.requested:4:{now.timestamp()}",
        ),
        (
            pushes.BINDING_APPROVED.push(9, place="1-1-101", binding=4, now=now),
            f"binding.approved:4:{now.timestamp()}",
        ),
        (
            pushes.POLL_HOUSEHOLD_VOTE.push(9, **p, choices=[], now=now),
            f"poll.household_vote:2:9:{now.timestamp():.6f}",
        ),
        (pushes.POLL_OPENED.push(9, **p, options=[], closes_at=""), "poll.opened:2:9"),
        (pushes.POLL_FOLLOWUP.push(9, **p, decision="d"), "poll.followup:2:9"),
        (
            pushes.STAFF_DIGEST.push(9, date="2026-12-06", open=1, overdue=0, tickets=[]),
            "staff.digest:2026-12-06:9",
        ),
    ]
    for push, old in pairs:
        assert push.dedupe_key == old


def test_only_the_domain_makes_pushes() -> None:
    """bot/ and handlers/ call domain operations; none of them builds a push itself."""
    made: list[str] = []
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if (isinstance(func, ast.Name) and func.id in ("Push", "enqueue")) or (
                    isinstance(func, ast.Attribute) and func.attr in ("push", "push_variant")
                ):
                    made.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert made == []


def test_a_poll_push_carries_values_and_a_row_queued_before_still_reads_the_same() -> None:
    values = {
        "poll": 2,
        "number": 5,
        "title": "道路重铺",
        "options": [["A", "沥青"], ["B", "水泥"]],
        "closes_at": "2026-12-08T18:00:00+08:00",
    }
    now_payload = dict(pushes.POLL_OPENED.push(9, **values).payload)
    before = {"poll": 2, "number": 5, "title": "道路重铺"}
    before |= {"options": "A 沥青\nB 水泥", "closes": "12月8日 18:00"}
    assert render(pushes.POLL_OPENED, now_payload).text == render("poll.opened", before).text
    assert "12月8日 18:00 截止。\nA 沥青\nB 水泥" in render("poll.opened", before).text
    assert render(pushes.POLL_OPENED, now_payload).parts["closes"] == "12月8日 18:00"

    result = {**values, "counts": [["A", "沥青", 3], ["B", "水泥", 1]], "tie": False}
    result |= {"leaders": ["A"], "quorum_met": True}
    old = {**before, "counts": "A 沥青：3 票\nB 水泥：1 票", "tie": False, "leaders": "A"}
    old["quorum_met"] = True
    assert render("poll.result", result).text == render("poll.result", old).text


def test_check_config_holds_each_template_mapping_to_its_kinds_declaration(
    settings: Settings, tmp_path: Path
) -> None:
    from test_check_config import check, config, good, problems

    text = good(settings) + (
        '[templates."ticket.resolved"]\nid = "T1"\n'
        'fields = { character_string1 = "#{number}", thing2 = "{outcom}" }\n'
        '[templates."poll.opened"]\nid = "T2"\n'
        'fields = { thing1 = "{title}", thing2 = "{closes}" }\n'
        '[subscriptions."notice.mass"]\nid = "S1"\nfields = { thing1 = "{text}" }\n'
    )
    found = problems(check(config(tmp_path, text)))
    assert len(found) == 2, found
    assert found[0].startswith(
        '✗ [templates."ticket.resolved"] fields.thing2: a ticket.resolved push has no {outcom}'
        " — its parts are headline, next_step, number, outcome, resolved_at, sent_at,"
    )
    assert found[1].startswith('✗ [subscriptions."notice.mass"]: notice.mass is a broadcast (群发)')


def test_a_binding_request_from_someone_without_a_name_says_resident() -> None:
    values = {"place": "16-2-501", "phone": "138****5678", "binding": 1, "now": NOW}
    push = pushes.BINDING_REQUESTED.push(3, person=None, **values)
    assert push.payload["person"] is None  # the word is the renderer's, not the payload's
    assert render(pushes.BINDING_REQUESTED, dict(push.payload)).text.startswith(
        "【住户绑定待审核】居民 申请绑定 16-2-501。"
    )

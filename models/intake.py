"""Intake: what a resident reports becomes a ticket, a 附议, or a reason why not — once.

Every channel (WeChat, staff filing for a resident who phoned or walked in, later the city
platforms' API) hands a `Report` to `intake()`, which decides and writes in the caller's
transaction on one Session, and returns an `Intake` that the channel turns into its own words.
No channel repeats a rule of intake.

In order: the same text from the same person within [tickets] same_text_minutes is that
ticket again; a resident's report about their building that a neighbour reported shortly
before becomes a 附议 on the neighbour's ticket (flood.py); a resident holding [abuse]
max_open_tickets open tickets is told which; otherwise the ticket is filed under the topic the
classifier finds with the rules of the community the ticket belongs to (or in triage when it is
unsure; community_topics.py), routed (routing.py), with its deadline in that community, its
first timeline entry and the push to its holder. Staff, and anyone filing on a resident's
behalf, are exempt from 附议 and the cap: they often report for others.

It runs for every report inside the write transaction (one writer at a time on SQLite), so its
hot statements run on the Session's connection without the ORM (prepared.py), and whatever
can be worked out before the write lock comes in as a `Hint` that is checked, never trusted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import cast

from sqlalchemy import Table, bindparam, func, literal_column, select, true
from sqlalchemy.orm import Session

from words import text_key

from .communities import HOME_ID
from .filing import Origin, enabled_topic, file_ticket
from .flood import nearby_tickets, same_problem, support
from .people import Person, Role
from .prepared import Prepared, connection_of
from .routing import Place, Route, building_place, place_of, route_at
from .rules import Classification, ClassifyText, classifier_in
from .spots import Spot, spot_in
from .tickets import IS_OPEN, SAME_TEXT, Ticket, open_tickets_of

# "api": a city platform's work order (models/api/orders.py), with its source and number.
CHANNELS = ("wechat", "phone", "visit", "patrol", "api")


class Outcome(enum.StrEnum):
    """What became of a report."""

    FILED = "filed"  # a new ticket under the topic the classifier found
    UNSURE = "unsure"  # a new ticket the classifier could not place: offer `candidates`
    SAME_AGAIN = "same_again"  # the same text from the same person moments ago: that ticket
    SUPPORTED = "supported"  # 附议: linked to a neighbour's open ticket about the same problem
    SUPPORTED_AGAIN = "supported_again"  # 附议 on a ticket they already supported
    TOO_MANY_OPEN = "too_many_open"  # the person holds [abuse] max_open_tickets: nothing filed


@dataclass(frozen=True)
class Hint:
    """Speculative work done before the write lock (SQLite has one writer): the text routed as
    the ticket it will probably become (`hint_for`). `intake` uses it only when it was made
    for the same person, place hint and topic; otherwise it works it out again. Nothing
    depends on it. (If staff or bindings change in the milliseconds between, the ticket goes
    where it would have gone a moment before.)"""

    person_id: int | None  # None: nobody with the sender's openid existed yet
    building_id: int | None  # the Report's place hint it was routed with
    community_id: int | None  # the community it was routed in when it has no place
    topic: str | None  # the classifier's topic it was routed for (None: unsure)
    topic_id: int | None  # None: no such enabled topic (triage)
    sla_hours: float | None  # None: the triage deadline
    route: Route
    # The text whose place (spots.py) the route holds: intake looks again for another text,
    # or when the report brings a location.
    text: str | None = None


@dataclass(frozen=True)
class Report:
    """One report to take in, from any channel. `text` is stored and shown as written."""

    text: str
    channel: str  # one of CHANNELS
    person_id: int | None  # the resident it is for (None: unknown)
    now: datetime
    filed_by: int | None = None  # the staff member who filed it on the resident's behalf
    phone: str | None = None  # the phone the resident gave (on-behalf)
    building_id: int | None = None  # where it is about, when the channel knows
    # The community it is for when the channel knows it (the account's, the resident's
    # choice, the filing staff member's); the place's community wins, then this, then the
    # resident's own community, then the first community.
    community_id: int | None = None
    hint: Hint | None = None
    # A city platform's work order: the platform ("12345"), its order number, its deadline.
    source: str | None = None
    external_id: str | None = None
    due_at: datetime | None = None
    # A WeChat location message (lat, lon) sent with the report: where the problem is, unless
    # the text names a place (spots.py).
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class Policy:
    """The [tickets] and [abuse] numbers intake applies (0 turns a check off)."""

    same_text_minutes: float = 10  # the same text again within this is the same ticket
    max_open_tickets: int = 5  # open tickets a resident may hold (staff are exempt)
    support_hours: float = 24  # how recent a neighbour's ticket is for a 附议
    triage_hours: float = 24  # the deadline of a ticket no topic fits
    tz: tzinfo = UTC  # the community's time zone, for times in pushes


@dataclass(frozen=True)
class Intake:
    """What became of a report; each channel says it in its own words."""

    outcome: Outcome
    number: int | None = None  # the ticket filed, found again, or supported
    ticket_id: int | None = None
    topic: str | None = None  # its topic (None: triage)
    candidates: tuple[str, ...] = ()  # UNSURE: the classifier's topic names, best first
    open_numbers: tuple[int, ...] = ()  # TOO_MANY_OPEN: the person's open tickets
    open_count: int = 0  # TOO_MANY_OPEN: how many they hold
    assignee_id: int | None = None  # FILED / UNSURE: who holds the new ticket
    community_id: int | None = None  # FILED / UNSURE: the community the new ticket is in


def intake(
    db: Session,
    report: Report,
    policy: Policy,
    classify: ClassifyText,
) -> Intake:
    """Take `report` in, in `db`'s transaction: the same text again, a 附议, over the cap, or a
    new ticket (see above)."""
    key = text_key(report.text)
    since = report.now - timedelta(minutes=policy.same_text_minutes)
    open_count, role, community_id, same = _mine(db, report.person_id, key, since)
    if same is not None and report.external_id is None:
        # (A work order with its own number is its own ticket: orders.py finds it again.)
        return Intake(Outcome.SAME_AGAIN, same[1], same[0], same[2])
    community_id = report.community_id or community_id
    hint = _same_inputs(report, report.hint, community_id)
    if hint is not None:
        place = hint.route.place
    else:
        place = _locate(db, report, community_id)
    # The community the ticket will belong to (as routing.py decides it): its rules classify.
    rules = classifier_in(classify, home_of(place, community_id))
    if report.person_id is not None and _own_words(report, role):
        instead = _second(db, report, key, place, policy, rules) or _over_cap(
            db, report.person_id, open_count, policy
        )
        if instead is not None:
            return instead
    return _file(db, report, key, (place, community_id), hint, policy, rules(report.text))


def home_of(place: Place | None, community_id: int | None) -> int:
    """The community a report belongs to: its place's, else the one given, else the first."""
    return place.community_id if place is not None else community_id or HOME_ID


def _own_words(report: Report, role: Role) -> bool:
    """A resident writing for themself: the one case 附议 and the cap apply to. Staff, and any
    report filed on a resident's behalf (a call, a visit, a patrol, later a city platform's
    order) are taken in as they come, whether or not the staff member is named."""
    return report.channel == "wechat" and report.filed_by is None and role < Role.STAFF


def _over_cap(db: Session, person_id: int, open_count: int, policy: Policy) -> Intake | None:
    """TOO_MANY_OPEN when the person holds [abuse] max_open_tickets open tickets already."""
    cap = policy.max_open_tickets
    if not cap or open_count < cap:
        return None
    numbers = tuple(t.number for t in open_tickets_of(db, person_id))
    return Intake(Outcome.TOO_MANY_OPEN, open_numbers=numbers, open_count=open_count)


def _file(
    db: Session,
    report: Report,
    key: str,
    where: tuple[Place | None, int | None],
    hint: Hint | None,
    policy: Policy,
    verdict: Classification,
) -> Intake:
    """File the report under the classifier's topic (routed again unless the hint holds),
    about `where`: its place, and the community it is for when it has no place."""
    topic = verdict.topic if not verdict.unsure else None
    if hint is not None and hint.topic == topic:
        topic_id, sla_hours, routed = hint.topic_id, hint.sla_hours, hint.route
    else:
        place, community_id = where
        found = enabled_topic(db, topic, home_of(place, community_id)) if topic else None
        topic_id, sla_hours = found if found else (None, None)
        routed = route_at(db, place, topic_id, community_id)
    filed = file_ticket(
        db,
        person_id=report.person_id,
        actor_id=report.filed_by if report.filed_by is not None else report.person_id,
        text=report.text,
        key=key,
        verdict=verdict,
        topic=(topic, topic_id),
        hours=sla_hours if sla_hours is not None else policy.triage_hours,
        routed=routed,
        now=report.now,
        tz=policy.tz,
        origin=Origin(
            report.channel, report.filed_by, report.phone, report.source, report.external_id
        ),
        due_at=report.due_at,
    )
    holder, community = routed.assignee_id, routed.community_id
    if filed.topic is not None:
        return Intake(
            Outcome.FILED,
            filed.number,
            filed.id,
            filed.topic,
            assignee_id=holder,
            community_id=community,
        )
    candidates = tuple(name for name, _ in verdict.candidates)
    return Intake(
        Outcome.UNSURE,
        filed.number,
        filed.id,
        None,
        candidates,
        assignee_id=holder,
        community_id=community,
    )


def _place(
    db: Session, person_id: int | None, building_id: int | None, phone: str | None
) -> Place | None:
    """Where a report is about: the channel's building, else where the resident lives."""
    if building_id is not None:
        return building_place(db, building_id, phone)
    return place_of(db, person_id) if person_id is not None else None


def _locate(db: Session, report: Report, community_id: int | None) -> Place | None:
    """Where the report is about: a platform order's building; else the place its text (or
    its location) names in the community it belongs to, with the resident's home as `label`;
    else the home — the building staff give when filing for a resident is where the caller
    lives (the console's form asks for the resident's 楼栋), so "3号楼电梯又停了" from a caller
    of 1号楼 goes to building 3, as it does when the resident writes it."""
    home = _place(db, report.person_id, report.building_id, report.phone)
    if report.building_id is not None and report.channel == "api":
        return home  # the platform's order says where the problem is
    return _where(db, home, community_id, report.text, report.location)


def _where(
    db: Session,
    home: Place | None,
    community_id: int | None,
    text: str,
    location: tuple[float, float] | None,
) -> Place | None:
    """`home` moved to the place `text` or `location` names (spots.py), if any. Only the
    places of the report's own community count (its home's, else the one given): the other
    communities of the street have their 3号楼 too, and a ticket stays in its community."""
    community = home_of(home, community_id)
    spot = spot_in(db, text, location, community, home.building_id if home else None)
    return at_spot(home, spot, community)


def at_spot(home: Place | None, spot: Spot | None, community_id: int) -> Place | None:
    """The Place of a report about `spot` from someone living at `home`: routed by the
    spot's grid (a place with neither grid nor building routes as the home), near-duplicates
    looked for in its building, the home kept as the label. The resident's own building
    named again (3号楼 from 3-2-501) is just the home: it says less than the home does."""
    if spot is None:
        return home
    if home is not None and not spot.landmark and spot.building_id == home.building_id:
        return home
    grid_id, building_id = spot.grid_id, spot.building_id
    if grid_id is None and building_id is None and home is not None:
        grid_id, building_id = home.grid_id, home.building_id
    return Place(
        grid_id,
        home.label if home is not None else "",
        home.phone if home is not None else None,
        building_id,
        community_id,
        spot=spot.name,
        spot_from=spot.source,
    )


def _second(
    db: Session,
    report: Report,
    key: str,
    place: Place | None,
    policy: Policy,
    classify: Callable[[str], Classification],
) -> Intake | None:
    """附议 on a neighbour's open ticket about the same problem, if there is one."""
    assert report.person_id is not None
    if not policy.support_hours or place is None or place.building_id is None:
        return None  # no building: nothing to compare with, and no query
    since = report.now - timedelta(hours=policy.support_hours)
    candidates = nearby_tickets(
        db, building_id=place.building_id, person_id=report.person_id, since=since
    )

    def topic_of() -> str | None:
        verdict = classify(report.text)
        return verdict.topic if not verdict.unsure else None

    found = same_problem(report.text, key, candidates, topic_of)
    if found is None:
        return None
    first = support(db, found.id, report.person_id, report.now)
    outcome = Outcome.SUPPORTED if first else Outcome.SUPPORTED_AGAIN
    return Intake(outcome, found.number, found.id, found.topic)


def _same_inputs(report: Report, hint: Hint | None, community_id: int | None) -> Hint | None:
    """The hint if it was worked out for this report's person, place hint and community
    (`community_id`: the report's, else its person's), else None.

    A hint made before the person existed holds for them only if it found no place: someone
    not seen before has no approved household, whoever they turn out to be."""
    if hint is None or hint.building_id != report.building_id:
        return None
    if report.location is not None or hint.text != report.text:
        return None  # its place was looked for in other words
    if hint.route.place is None and hint.community_id != community_id:
        return None
    place = hint.route.place
    if report.building_id is not None and (place is None or place.phone != report.phone):
        return None  # the place a channel names carries the phone given with the report
    if hint.person_id == report.person_id:
        return hint
    return hint if hint.person_id is None and place is None else None


_T = cast(Table, Ticket.__table__)
_P = cast(Table, Person.__table__)
_SAME = SAME_TEXT.subquery()
# Intake's first question, in one statement: how many open tickets the person holds (from the
# covering index ix_ticket_person_text), their role, and their recent ticket with the same text.
_MINE = Prepared(
    select(
        select(func.count())
        .select_from(_T)
        .where(_T.c.person_id == bindparam("person_id"), IS_OPEN)
        .scalar_subquery(),
        select(_P.c.role).where(_P.c.id == bindparam("person_id")).scalar_subquery(),
        select(_P.c.community_id).where(_P.c.id == bindparam("person_id")).scalar_subquery(),
        _SAME.c.id,
        _SAME.c.number,
        _SAME.c.name,
    ).select_from(select(literal_column("1").label("one")).subquery().outerjoin(_SAME, true()))
)


def _mine(
    db: Session, person_id: int | None, key: str, since: datetime
) -> tuple[int, Role, int | None, tuple[int, int, str | None] | None]:
    """The person's open-ticket count, role, community, and same-text ticket (id, number,
    topic)."""
    if person_id is None:
        return 0, Role.RESIDENT, None, None
    params = {"person_id": person_id, "text_key": key, "since": since}
    [(count, role, community, ticket_id, number, topic)] = _MINE.run(connection_of(db), params)
    same = (ticket_id, number, topic) if ticket_id is not None else None
    return int(count), role or Role.RESIDENT, community, same


_PERSON_BY_OPENID = Prepared(
    select(_P.c.id, _P.c.community_id).where(_P.c.openid == bindparam("openid"))
)


def hint_for(
    db: Session,
    *,
    openid: str,
    text: str,
    classify: ClassifyText,
    building_id: int | None = None,
    phone: str | None = None,
    community_id: int | None = None,
) -> Hint:
    """Classify and route a text as the ticket it will probably become, before the write
    lock: reads only.

    `classify` is what intake will be given (the text is classified with the rules of the
    community it will belong to); `openid` the sender's (they may not exist yet);
    `building_id` and `phone` the Report's place hint and phone, if it will have them;
    `community_id` the community of the channel (the account), for a person who has none."""
    person = _PERSON_BY_OPENID.run(connection_of(db), {"openid": openid})
    person_id = int(person[0][0]) if person else None
    # The person's own community first, as file_request gives it (handlers/report.py).
    community_id = (person[0][1] if person else None) or community_id
    place = _place(db, person_id, building_id, phone)
    if building_id is None:  # as intake decides it (_locate)
        place = _where(db, place, community_id, text, None)
    home = home_of(place, community_id)
    verdict = classifier_in(classify, home)(text)
    topic = verdict.topic if not verdict.unsure else None
    found = enabled_topic(db, topic, home) if topic else None
    topic_id, sla_hours = found if found else (None, None)
    routed = route_at(db, place, topic_id, community_id)
    return Hint(person_id, building_id, community_id, topic, topic_id, sla_hours, routed, text)

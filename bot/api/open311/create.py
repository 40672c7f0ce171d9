"""POST /open311/v2/requests.json (tickets:write): a GeoReport service request becomes a
ticket through the one intake (models/api/orders.py `file_order`), under the topic its
`service_code` names — the classifier is not asked: `file_order` is handed a classifier that
answers that topic, whatever the text says. If that topic is switched off in the community
the ticket lands in, nothing is filed (400).

Parameters, form-encoded or JSON: `service_code` and `description` (required: a ticket is
what someone wrote), `jurisdiction_id` (a community's name; a street key in a street of
several communities names one, or a building), `address_string` (a building, as our places
name it), `phone` (a bound resident with it is reached, as with any work order), `lat`/`long`
(checked, not kept: our places are buildings, and the notice says so).
`first_name`, `last_name`, `email`, `device_id`, `account_id`, `media_url` are not kept: a
ticket has no place for them, and the phone is how staff call back.

The ticket's `source` is "open311" (GeoReport has no parameter for it; KPIs count it under
其他平台) and it has no `external_id` (GeoReport has no client-side id: `service_request_id`
is ours, the ticket's number), so a POST sent twice is two tickets, as in GeoReport.
Answer: 200 `[{"service_request_id": "<number>", "service_notice": …, "account_id": null}]`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo

from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models.api.orders import Order, OrderError, file_order
from models.communities import Community
from models.intake import Outcome
from models.rules import Classification, ClassifyText
from models.tickets import Ticket
from models.topics import Topic

from ...extension import Yishiting, yishiting
from ...filing import policy_from
from .. import texts
from ..auth import caller, needs
from .door import Refused, answer, bp, jurisdiction, parameters, several_communities

SOURCE = "open311"
DESCRIPTION_MAX = 4000  # GeoReport's own limit on a description
ADDRESS_MAX = 64  # a building's name (32) and its suffixes, with room to spare
PHONE_MAX = 32


@dataclass(frozen=True)
class Wanted:
    topic_id: int
    text: str
    address: str | None
    phone: str | None
    has_coordinates: bool


@bp.post("/requests.<fmt>", endpoint="create")
@needs("tickets:write")
def create_request(fmt: str) -> Response:
    """File the service request; its number and a notice of who handles it by when."""
    given = parameters()
    wanted = _wanted(given)
    ys = yishiting(current_app)
    with ys.db.session() as db:  # a Refused inside rolls the filing back
        community_id = jurisdiction(db, given.get("jurisdiction_id"), caller())
        if community_id is None and wanted.address is None and several_communities(db):
            raise Refused(400, texts.O311_NEED_JURISDICTION)
        ticket = _file(db, wanted, community_id, ys)
        number, notice = ticket.number, _notice(ticket, wanted, ys.settings.tz)
    return answer(
        [{"service_request_id": str(number), "service_notice": notice, "account_id": None}]
    )


def _file(db: Session, wanted: Wanted, community_id: int | None, ys: Yishiting) -> Ticket:
    """The ticket `wanted` is, filed through the one intake under its service's topic."""
    topic = db.get(Topic, wanted.topic_id)
    if topic is None or not topic.enabled:
        raise Refused(400, texts.O311_UNKNOWN_SERVICE.format(value=wanted.topic_id))
    order = Order(
        text=wanted.text,
        source=SOURCE,
        external_id=None,
        now=ys.conversation.clock(),
        phone=wanted.phone,
        building=wanted.address,
        community_id=community_id,
    )
    try:
        filed = file_order(db, order, policy_from(ys.settings), _under(topic.name))
    except OrderError as exc:
        raise Refused(400, _order_error(exc)) from None
    ticket = db.get(Ticket, filed.ticket_id)
    assert ticket is not None
    if filed.intake is not None and filed.intake.outcome in (Outcome.FILED, Outcome.UNSURE):
        _check_topic(db, ticket, topic)
    return ticket


def _notice(ticket: Ticket, wanted: Wanted, tz: tzinfo) -> str:
    due = ticket.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if ticket.due_at else ""
    notice = texts.O311_NOTICE.format(
        number=ticket.number, community=ticket.community.name, due=due
    )
    if wanted.has_coordinates and wanted.address is None:
        notice += texts.O311_NO_COORDINATES
    return notice


def _under(name: str) -> ClassifyText:
    """A classifier that files every text under the topic called `name`."""

    def classify(text: str) -> Classification:
        return Classification(topic=name, score=1.0, unsure=False, candidates=((name, 1.0),))

    return classify


def _check_topic(db: Session, ticket: Ticket, topic: Topic) -> None:
    """Intake files a topic switched off in the ticket's community in triage: refuse."""
    if ticket.topic_id != topic.id:
        community = db.get(Community, ticket.community_id)
        where = community.name if community is not None else ""
        raise Refused(400, texts.O311_SERVICE_OFF.format(topic=topic.name, community=where))


def _wanted(given: dict[str, str]) -> Wanted:
    """The request's parameters checked (400 for the first wrong one), before the database."""
    for name in ("service_code", "description"):
        if name not in given:
            raise Refused(400, texts.O311_MISSING.format(name=name))
    code = given["service_code"].strip()
    if not (code.isascii() and code.isdigit() and len(code) < 10):
        raise Refused(400, texts.O311_UNKNOWN_SERVICE.format(value=code[:40]))
    limits = {"description": DESCRIPTION_MAX, "address_string": ADDRESS_MAX, "phone": PHONE_MAX}
    for name, limit in limits.items():
        if len(given.get(name, "")) > limit:
            raise Refused(400, texts.O311_TOO_LONG.format(name=name, limit=limit))
    for name, bound in (("lat", 90.0), ("long", 180.0)):
        if name in given:
            _coordinate(name, given[name], bound)
    address = given.get("address_string")
    return Wanted(
        topic_id=int(code),
        text=given["description"],
        address=address.strip() if address else None,
        phone=given.get("phone"),
        has_coordinates="lat" in given or "long" in given,
    )


def _coordinate(name: str, raw: str, bound: float) -> None:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and -bound <= value <= bound):
        raise Refused(400, texts.O311_BAD_COORDINATE.format(name=name))


def _order_error(exc: OrderError) -> str:
    if exc.reason == "bad_phone":
        return texts.O311_BAD_PHONE.format(value=exc.value[:PHONE_MAX])
    if exc.reason == "unknown_building":
        return texts.O311_UNKNOWN_BUILDING.format(value=exc.value)
    return texts.O311_MISSING.format(name="description")  # empty_text: nothing but spaces

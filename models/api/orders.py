"""Work orders from city platforms (12345, grid platforms): a ticket filed through the one
intake (models/intake.py) with the platform's `source` and `external_id`, which make filing
idempotent — the same order again is the same ticket — and, with an `Idempotency-Key`, the
answer a key got for a request is the answer it gets when it sends that request again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from words import clean
from words.channels import HOTLINE as HOTLINE  # the city hotline: 【12345工单】, 退回 is 退单

from ..base import Base, UTCDateTime
from ..intake import Intake, Policy, Report, intake
from ..onbehalf import OnBehalfError, normalize_phone, resident_for
from ..places import find_building
from ..rules import ClassifyText
from ..tickets import Ticket


class ApiIdempotency(Base):
    __tablename__ = "api_idempotency"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    idem_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))  # method, route and body
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("key_id", "idem_key", name="uq_api_idempotency_key"),)


SOURCE_MAX = 32  # ticket.source
EXTERNAL_MAX = 64  # ticket.external_id


class OrderError(Exception):
    """A work order that cannot be filed; `reason` names why (bot/api/texts.py words it)."""

    def __init__(self, reason: str, value: str = "") -> None:
        super().__init__(f"{reason}: {value}" if value else reason)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Order:
    """A work order as a city platform sent it. `text` is kept as written."""

    text: str
    source: str  # the platform: "12345", "grid", …
    external_id: str | None  # its own order number; the same again is the same ticket
    now: datetime
    phone: str | None = None  # the caller's phone: a bound resident with it is reached
    building: str | None = None  # where it is about, as the platform names the building
    community_id: int | None = None  # the community it was sent to (the key's, or named)
    due_at: datetime | None = None  # the order's own deadline (else the topic's)


@dataclass(frozen=True)
class FiledOrder:
    """The ticket an order is: just filed (`created`), or filed before (the same order)."""

    ticket_id: int
    number: int
    created: bool
    intake: Intake | None = None  # what intake decided, when it was just filed


def existing_order(db: Session, source: str, external_id: str) -> Ticket | None:
    """The ticket of the platform's order `external_id`, if it was filed before."""
    query = select(Ticket).where(Ticket.source == source, Ticket.external_id == external_id)
    return db.scalars(query).one_or_none()


def file_order(db: Session, order: Order, policy: Policy, classify: ClassifyText) -> FiledOrder:
    """File a platform's work order through the one intake (or find it again), in `db`'s
    transaction. Its resident is the one bound resident with the order's phone, if any
    (models/onbehalf.py `resident_for`), who is then told of it as of their own report.

    Two requests with the same order at the same moment: on SQLite the write lock makes the
    second find the first; on PostgreSQL the unique index refuses the second INSERT
    (IntegrityError), and the caller asks again in a new transaction."""
    source = order.source.strip()
    if not source or len(source) > SOURCE_MAX:
        raise OrderError("bad_source", order.source)
    # None: a channel with no order numbers (Open311). Given but blank, it would file the
    # same order again each time it is sent: refused like an overlong one.
    external_id = order.external_id.strip() if order.external_id is not None else None
    if external_id is not None and not 0 < len(external_id) <= EXTERNAL_MAX:
        raise OrderError("bad_external_id", external_id)
    if external_id:
        found = existing_order(db, source, external_id)
        if found is not None:
            return FiledOrder(found.id, found.number, created=False)
    text = clean(order.text)
    if not text:
        raise OrderError("empty_text")
    try:
        phone = normalize_phone(order.phone) if order.phone and order.phone.strip() else None
    except OnBehalfError as exc:
        raise OrderError("bad_phone", order.phone or "") from exc
    building_id = None
    if order.building and order.building.strip():
        building = find_building(db, order.building, order.community_id)
        if building is None:
            raise OrderError("unknown_building", order.building.strip())
        building_id = building.id
    resident = resident_for(db, openid=None, phone=phone, community=order.community_id)
    report = Report(
        text=text,
        channel="api",
        person_id=resident.id if resident is not None else None,
        now=order.now,
        phone=phone,
        building_id=building_id,
        community_id=order.community_id,
        source=source,
        external_id=external_id,
        due_at=order.due_at,
    )
    result = intake(db, report, policy, classify)
    assert result.ticket_id is not None and result.number is not None  # api: always filed
    return FiledOrder(result.ticket_id, result.number, created=True, intake=result)


def stored_answer(db: Session, key_id: int, idem_key: str) -> ApiIdempotency | None:
    """The answer the key got for the request it sent with `idem_key`, if any."""
    query = select(ApiIdempotency).where(
        ApiIdempotency.key_id == key_id, ApiIdempotency.idem_key == idem_key
    )
    return db.scalars(query).one_or_none()


def store_answer(
    db: Session,
    *,
    key_id: int,
    idem_key: str,
    request_hash: str,
    answer: tuple[int, dict[str, Any]],
    now: datetime,
) -> None:
    """Keep the answer (status, body) to a request sent with an `Idempotency-Key`, in the
    transaction that made it: the same key again is answered with it, never filed twice.
    Two such requests at once: the unique (key_id, idem_key) refuses the second row."""
    status, body = answer
    db.add(
        ApiIdempotency(
            key_id=key_id,
            idem_key=idem_key,
            request_hash=request_hash,
            status=status,
            body=body,
            created_at=now,
        )
    )
    db.flush()

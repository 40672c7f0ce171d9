"""Two communities with something of everything, for the isolation walk (test_isolation.py):
grids, buildings, households, residents, staff, a ticket with an attachment, a poll, an outbox
row, a failed message, a pending binding and a console account in each. Every text of B's
carries a marker (乙) so a page that shows any of it is caught."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.console.auth import hash_password
from models import (
    Attachment,
    Binding,
    Building,
    ConsoleRole,
    Grid,
    Household,
    InboundMessage,
    Person,
    Poll,
    Role,
    Ticket,
)
from models.accounts import create_account
from models.communities import add_community
from models.outbox import DEAD, OutboxMessage
from models.places import mask_openid
from models.pushes import NOTICE

PASSWORD = "correct-horse-battery"


@dataclass
class Side:
    """One community's rows: ids and the texts that must not show on the other side."""

    name: str
    community_id: int = 0
    grid: int = 0
    building: int = 0
    household: int = 0
    resident: int = 0
    staff: int = 0
    ticket: int = 0  # its number
    attachment: int = 0
    poll: int = 0  # its number
    outbox: int = 0
    inbound: int = 0
    binding: int = 0
    account: int = 0
    texts: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        """How this side's ticket and poll numbers would show on a page or in output."""
        return [
            f"#{self.ticket}",
            f"/tickets/{self.ticket}",
            f"#{self.poll}",
            f"/polls/{self.poll}",
        ]


def build(db: Session, tag: str, name: str, base: int, now: datetime) -> Side:
    """One community named `name`; its texts carry `tag`; its numbers start at `base`."""
    side = Side(name)
    community, _ = add_community(db, name, now)
    side.community_id = community.id
    texts = {
        "grid": f"{tag}网格{base}",
        "building": f"{tag}楼{base}",
        "resident": f"{tag}居民{base}",
        "staff": f"{tag}网格员{base}",
        "ticket": f"{tag}社区的路灯坏了{base}",
        "poll": f"{tag}社区加装电梯议题{base}",
        "inbound": f"{tag}社区失败消息{base}",
        "account": f"{tag}admin{base}",
        "outcome": f"{tag}处理结果{base}",
    }
    side.texts = [name, *texts.values()]

    def person(openid: str, person_name: str, role: Role, level: int = 0) -> Person:
        row = Person(
            openid=openid,
            role=role,
            following=True,
            first_seen_at=now,
            last_seen_at=now,
            cs_sent=0,
            name=person_name,
            staff_level=level,
            community_id=community.id,
        )
        db.add(row)
        db.flush()
        return row

    staff = person(f"o-{tag}-staff-{base}", texts["staff"], Role.STAFF, 1)
    resident = person(f"o-{tag}-resident-{base}", texts["resident"], Role.RESIDENT)
    side.staff, side.resident = staff.id, resident.id
    side.texts += [p.openid for p in (staff, resident)]
    side.texts += [mask_openid(p.openid) for p in (staff, resident)]
    grid = Grid(name=texts["grid"], community_id=community.id, worker_id=staff.id)
    db.add(grid)
    db.flush()
    building = Building(name=texts["building"], community_id=community.id, grid_id=grid.id)
    db.add(building)
    db.flush()
    household = Household(building_id=building.id, unit="1", room=str(base), listed=True)
    db.add(household)
    db.flush()
    side.grid, side.building, side.household = grid.id, building.id, household.id
    binding = Binding(
        person_id=resident.id, household_id=household.id, phone="13800000000", created_at=now
    )
    db.add(binding)
    ticket = Ticket(
        number=base,
        person_id=resident.id,
        text=texts["ticket"],
        community_id=community.id,
        text_key=f"key-{base}",
        status="new",
        created_at=now,
        updated_at=now,
        grid_id=grid.id,
        building_id=building.id,
        place=texts["building"],
        assignee_id=staff.id,
        due_at=now + timedelta(days=1),
    )
    db.add(ticket)
    db.flush()
    attachment = Attachment(
        ticket_id=ticket.id,
        kind="image",
        data=json.dumps({"label": texts["ticket"]}),
        created_at=now,
    )
    db.add(attachment)
    poll = Poll(
        number=base + 1,
        title=texts["poll"],
        options_json=json.dumps([f"{tag}同意", f"{tag}反对"], ensure_ascii=False),
        community_id=community.id,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=3),
        status="open",
        created_at=now,
    )
    db.add(poll)
    inbound = InboundMessage(
        dedupe_key=f"dedupe-{tag}-{base}",
        openid=resident.openid,
        person_id=resident.id,
        kind="text",
        content=texts["inbound"],
        received_at=now,
        status="failed",
        error="RuntimeError",
    )
    db.add(inbound)
    db.flush()
    push = NOTICE.push(resident.id, announcement=base, text=texts["ticket"])
    outbox = OutboxMessage(
        kind=push.kind,
        person_id=resident.id,
        payload=dict(push.payload),
        dedupe_key=push.dedupe_key,
        status=DEAD,
        attempts=10,
        next_attempt_at=now,
        created_at=now,
        last_error="gone",
    )
    db.add(outbox)
    account = create_account(
        db,
        texts["account"],
        hash_password(PASSWORD),
        ConsoleRole.ADMIN,
        now,
        staff,
        community.id,
    )
    db.flush()
    side.binding, side.attachment, side.inbound = binding.id, attachment.id, inbound.id
    side.ticket, side.poll, side.outbox, side.account = (
        ticket.number,
        poll.number,
        outbox.id,
        account.id,
    )
    return side


def two_communities(db: Session) -> tuple[Side, Side]:
    now = datetime.now(UTC)
    return build(db, "甲", "甲社区", 7101, now), build(db, "乙", "乙社区", 8201, now)

"""Two communities with something of everything, for the isolation walk (test_isolation.py):
grids, buildings, households, residents, staff, a ticket with an attachment, a poll, an outbox
row, a failed message, a pending binding and a console account in each. Every text of B's
carries a marker (乙) so a page that shows any of it is caught."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.console.auth import hash_password
from models import (
    AgendaItem,
    Attachment,
    Binding,
    Building,
    ConsoleRole,
    Grid,
    Household,
    InboundMessage,
    Meeting,
    MeetingAgenda,
    MeetingInvite,
    Person,
    Poll,
    Role,
    Ticket,
)
from models.accounts import create_account
from models.api.keys import create_key
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
    agenda: int = 0  # its number (议题)
    meeting: int = 0  # its number (议事会)
    outbox: int = 0
    inbound: int = 0
    binding: int = 0
    account: int = 0
    api_key: int = 0  # its id (接口密钥)
    api_key_shown: str = ""  # the first characters it is listed by
    texts: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        """How this side's ticket and poll numbers would show on a page or in output."""
        return [
            f"#{self.ticket}",
            f"/tickets/{self.ticket}",
            f"#{self.poll}",
            f"/polls/{self.poll}",
            f"/agenda/{self.agenda}",
            f"/meetings/{self.meeting}",
        ]


class Maker:
    """Writes one community's rows; its texts carry `tag`, its numbers start at `base`."""

    def __init__(self, db: Session, tag: str, name: str, base: int, now: datetime) -> None:
        self.db, self.tag, self.base, self.now = db, tag, base, now
        self.side = Side(name)
        self.side.community_id = add_community(db, name, now)[0].id
        self.texts = {
            "grid": f"{tag}网格{base}",
            "building": f"{tag}楼{base}",
            "resident": f"{tag}居民{base}",
            "staff": f"{tag}网格员{base}",
            "ticket": f"{tag}社区的路灯坏了{base}",
            "poll": f"{tag}社区加装电梯议题{base}",
            "inbound": f"{tag}社区失败消息{base}",
            "account": f"{tag}admin{base}",
            "agenda": f"{tag}社区北门加装健身器材{base}",
            "meeting": f"{tag}社区议事会{base}",
            "api_key": f"{tag}平台{base}",
        }
        self.side.texts = [name, *self.texts.values()]

    def add(self, row: Any) -> Any:
        self.db.add(row)
        self.db.flush()
        return row

    def person(self, kind: str, role: Role, level: int = 0) -> Person:
        openid = f"o-{self.tag}-{kind}-{self.base}"
        self.side.texts += [openid, mask_openid(openid)]
        return self.add(
            Person(
                openid=openid,
                role=role,
                following=True,
                first_seen_at=self.now,
                last_seen_at=self.now,
                cs_sent=0,
                name=self.texts[kind],
                staff_level=level,
                community_id=self.side.community_id,
            )
        )

    def people_and_places(self) -> None:
        side, community = self.side, self.side.community_id
        side.staff = self.person("staff", Role.STAFF, 1).id
        side.resident = self.person("resident", Role.RESIDENT).id
        side.grid = self.add(
            Grid(name=self.texts["grid"], community_id=community, worker_id=side.staff)
        ).id
        building = Building(name=self.texts["building"], community_id=community, grid_id=side.grid)
        side.building = self.add(building).id
        household = Household(building_id=side.building, unit="1", room=str(self.base))
        side.household = self.add(household).id
        binding = Binding(
            person_id=side.resident,
            household_id=side.household,
            phone="13800000000",
            created_at=self.now,
        )
        side.binding = self.add(binding).id

    def ticket_and_poll(self) -> None:
        side, now = self.side, self.now
        ticket = Ticket(
            number=self.base,
            person_id=side.resident,
            text=self.texts["ticket"],
            community_id=side.community_id,
            text_key=f"key-{self.base}",
            status="new",
            created_at=now,
            updated_at=now,
            grid_id=side.grid,
            building_id=side.building,
            place=self.texts["building"],
            assignee_id=side.staff,
            due_at=now + timedelta(days=1),
        )
        side.ticket = self.add(ticket).number
        data = json.dumps({"label": self.texts["ticket"]}, ensure_ascii=False)
        attachment = Attachment(ticket_id=ticket.id, kind="image", data=data, created_at=now)
        side.attachment = self.add(attachment).id
        poll = Poll(
            number=self.base + 1,
            title=self.texts["poll"],
            options_json=json.dumps([f"{self.tag}同意", f"{self.tag}反对"], ensure_ascii=False),
            community_id=side.community_id,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=3),
            status="open",
            created_at=now,
        )
        side.poll = self.add(poll).number

    def agenda_and_meeting(self) -> None:
        side, now = self.side, self.now
        item = AgendaItem(
            number=self.base + 2,
            title=self.texts["agenda"],
            body=self.texts["agenda"],
            community_id=side.community_id,
            proposer_id=side.resident,
            stage="proposed",
            stage_at=now,
            created_at=now,
            backing_needed=3,
        )
        side.agenda = self.add(item).number
        meeting = Meeting(
            number=self.base + 3,
            title=self.texts["meeting"],
            at=now + timedelta(days=2),
            place=self.texts["building"],
            community_id=side.community_id,
            invite="all",
            created_at=now,
        )
        side.meeting = self.add(meeting).number
        self.add(MeetingAgenda(meeting_id=meeting.id, agenda_id=item.id))
        self.add(MeetingInvite(meeting_id=meeting.id, person_id=side.resident))

    def messages_and_account(self) -> None:
        side, now = self.side, self.now
        inbound = InboundMessage(
            dedupe_key=f"dedupe-{self.tag}-{self.base}",
            openid=f"o-{self.tag}-resident-{self.base}",
            person_id=side.resident,
            kind="text",
            content=self.texts["inbound"],
            received_at=now,
            status="failed",
            error="RuntimeError",
        )
        side.inbound = self.add(inbound).id
        push = NOTICE.push(side.resident, announcement=self.base, text=self.texts["ticket"])
        outbox = OutboxMessage(
            kind=push.kind,
            person_id=side.resident,
            payload=dict(push.payload),
            dedupe_key=push.dedupe_key,
            status=DEAD,
            attempts=10,
            next_attempt_at=now,
            created_at=now,
            last_error="gone",
        )
        side.outbox = self.add(outbox).id
        staff = self.db.get(Person, side.staff)
        account = create_account(
            self.db,
            self.texts["account"],
            hash_password(PASSWORD),
            ConsoleRole.ADMIN,
            now,
            staff,
            side.community_id,
        )
        side.account = account.id
        key, _ = create_key(
            self.db,
            name=self.texts["api_key"],
            scopes=("tickets:read",),
            community_id=side.community_id,
            created_by=self.texts["account"],
            now=now,
        )
        side.api_key, side.api_key_shown = key.id, key.shown
        side.texts.append(key.shown)


def build(db: Session, tag: str, name: str, base: int, now: datetime) -> Side:
    """One community named `name`; its texts carry `tag`; its numbers start at `base`."""
    maker = Maker(db, tag, name, base, now)
    maker.people_and_places()
    maker.ticket_and_poll()
    maker.agenda_and_meeting()
    maker.messages_and_account()
    return maker.side


def two_communities(db: Session) -> tuple[Side, Side]:
    now = datetime.now(UTC)
    return build(db, "甲", "甲社区", 7101, now), build(db, "乙", "乙社区", 8201, now)

"""绑定 / 解绑 / 审核 / 员工: residents say where they live, staff approve, staff sign up.

An address is read as building-unit-room in the forms people write it: 16-2-501, １６－２－５０１,
16号楼2单元501室, 16栋2单元501, 16 2 501; a phone number may follow. 审核 lists pending
bindings by their id (shown in 【】), and 审核 通过 / 拒绝 take that id rather than a position
in the list: an id still means the same binding after a colleague has handled another one.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import timedelta

from models import Binding, ConversationState, Person, Role, drop_state, push_state
from models.communities import community_names
from models.places import (
    APPROVED,
    AmbiguousBuilding,
    BindingError,
    UnknownBuilding,
    approve_binding,
    mask_phone,
    pending_bindings,
    reject_binding,
    request_binding,
    unbind,
)
from models.staff import (
    CodeExpired,
    CodeUsed,
    StaffError,
    UnknownGrid,
    UnknownTopic,
    redeem_code,
    reviewable_grids,
)
from models.states import CHOOSE_BIND_COMMUNITY
from words import fold

from . import people_texts as texts
from .router import PASS, Context, Pass, Reply, Router

router = Router("people")

REVIEW_PAGE = 10  # a passive reply must stay short (WeChat caps it at 2048 bytes)
CHOOSE_TTL = timedelta(hours=1)  # how long "which community?" waits for the answer

_PART = r"[0-9a-z]+"
_DASH = r"[-–—―‐‑~/_.]"
_ADDRESS = (
    re.compile(
        rf"^(?P<building>{_PART})(?:号楼|栋|幢|座|号)?{_DASH}"
        rf"(?P<unit>{_PART})(?:单元)?{_DASH}(?P<room>{_PART})(?:室|号)?$"
    ),
    re.compile(
        rf"^(?P<building>{_PART})(?:号楼|栋|幢|座|号)(?P<unit>{_PART})单元"
        rf"(?P<room>{_PART})(?:室|号)?$"
    ),
)
_PHONE_LIKE = re.compile(r"^\+?[0-9-]{7,}$")
_PHONE = re.compile(r"^1[0-9]{10}$")


@dataclass(frozen=True)
class Address:
    building: str
    unit: str
    room: str
    phone: str | None = None


def parse_address(args: str) -> Address | str:
    """The address (and phone) in what follows 绑定, or the text that says what is wrong."""
    # Matched folded (full-width digits, capitals): an address is looked up, not shown.
    tokens = re.sub(r"[,，;；:：]", " ", fold(args)).split()
    phone = None
    if len(tokens) >= 2 and _PHONE_LIKE.match(tokens[-1]):
        phone = tokens.pop().replace("-", "").removeprefix("+86")
        if not _PHONE.match(phone):
            return texts.BIND_BAD_PHONE
    text = "-".join(tokens) if len(tokens) == 3 else "".join(tokens)
    for pattern in _ADDRESS:
        found = pattern.match(text)
        if found:
            return Address(found["building"], found["unit"], found["room"], phone)
    return texts.BIND_USAGE


@router.command("绑定", help=texts.HELP_BIND, aliases=("绑定住址",))
def bind(ctx: Context, args: str) -> str:
    address = parse_address(args)
    if isinstance(address, str):
        return address
    return _request(ctx, address, None)


def _request(ctx: Context, address: Address, community_id: int | None) -> str:
    """Ask for the binding, in `community_id` when the resident chose one."""
    try:
        binding = request_binding(
            ctx.db,
            ctx.person.id,
            address.building,
            address.unit,
            address.room,
            ctx.now,
            phone=address.phone,
            community_id=community_id,
        )
    except UnknownBuilding:
        return texts.BIND_UNKNOWN_BUILDING.format(building=address.building.upper())
    except AmbiguousBuilding as exc:
        return _ask_community(ctx, address, exc.building, exc.community_ids)
    place = binding.household.label
    if binding.status == APPROVED:
        return texts.BIND_ALREADY.format(place=place)
    if address.phone:
        return texts.BIND_PENDING_PHONE.format(place=place, phone=mask_phone(address.phone))
    return texts.BIND_PENDING.format(place=place)


def _ask_community(ctx: Context, address: Address, building: str, community_ids: list[int]) -> str:
    """The building is in several communities: which is theirs (a short numbered list)."""
    for state in ctx.pending_states():
        if state.kind == CHOOSE_BIND_COMMUNITY:
            drop_state(ctx.db, state)  # the latest 绑定 is the one answered
    data = {"address": asdict(address), "communities": community_ids}
    push_state(ctx.db, ctx.person.id, CHOOSE_BIND_COMMUNITY, data, now=ctx.now, ttl=CHOOSE_TTL)
    names = community_names(ctx.db)
    lines = [texts.BIND_WHICH_COMMUNITY.format(building=building)]
    for n, community_id in enumerate(community_ids, start=1):
        lines.append(texts.BIND_COMMUNITY_LINE.format(n=n, name=names.get(community_id, "")))
    lines.append(texts.BIND_COMMUNITY_FOOTER)
    return "\n".join(lines)


@router.state(CHOOSE_BIND_COMMUNITY)
def community_chosen(ctx: Context, state: ConversationState) -> Reply | Pass:
    """The answer to "which community?": its number in the list; anything else passes on."""
    said = fold(ctx.message.text or "").strip() if ctx.message.kind == "text" else ""
    if not (said.isascii() and said.isdigit() and len(said) < 3):
        return PASS
    community_ids: list[int] = state.values["communities"]
    if not 1 <= int(said) <= len(community_ids):
        return texts.BIND_COMMUNITY_RANGE.format(count=len(community_ids))
    drop_state(ctx.db, state)
    address = Address(**state.values["address"])
    return _request(ctx, address, community_ids[int(said) - 1])


@router.command("解绑", help=texts.HELP_UNBIND, aliases=("取消绑定",))
def unbind_me(ctx: Context, args: str) -> str:
    place = unbind(ctx.db, ctx.person.id)
    return texts.UNBOUND.format(place=place) if place else texts.UNBIND_NONE


@router.command("审核", help=texts.HELP_REVIEW, role=Role.STAFF)
def review(ctx: Context, args: str) -> str:
    """Staff see the pending bindings they may decide, and approve or reject one by id."""
    words = args.split()
    if not words:
        return _review_list(ctx)
    if len(words) != 2 or words[0] not in ("通过", "拒绝"):
        return texts.REVIEW_USAGE
    number = words[1].strip("#【】[]")
    if not (number.isascii() and number.isdigit()):
        return texts.REVIEW_USAGE
    binding = next((b for b, _ in _reviewable(ctx) if b.id == int(number)), None)
    if binding is None:
        return texts.REVIEW_NOT_FOUND.format(id=number)
    try:
        if words[0] == "通过":
            place = approve_binding(ctx.db, binding.person_id, ctx.person.openid, ctx.now)
            return texts.REVIEW_APPROVED.format(place=place.household.label)
        label = reject_binding(ctx.db, binding.person_id, ctx.person.openid, ctx.now)
        return texts.REVIEW_REJECTED.format(place=label)
    except BindingError:
        return texts.REVIEW_NOT_FOUND.format(id=number)


def _review_list(ctx: Context) -> str:
    pending = _reviewable(ctx)
    if not pending:
        return texts.REVIEW_EMPTY
    lines = [texts.REVIEW_HEADER]
    for binding, _person in pending[:REVIEW_PAGE]:
        lines.append(
            texts.REVIEW_LINE.format(
                id=binding.id,
                place=binding.household.label,
                phone=mask_phone(binding.phone) or texts.REVIEW_NO_PHONE,
                since=binding.created_at.astimezone(ctx.tz).strftime("%m-%d %H:%M"),
            )
        )
    if len(pending) > REVIEW_PAGE:
        lines.append(texts.REVIEW_MORE.format(count=len(pending) - REVIEW_PAGE))
    lines.append(texts.REVIEW_FOOTER.format(id=pending[0][0].id))
    return "\n".join(lines)


def _reviewable(ctx: Context) -> list[tuple[Binding, Person]]:
    """Admins and supervisors (level 2+) see every pending binding of their community (the
    street's: all); a grid worker, their grids'."""
    me = ctx.db.get(Person, ctx.person.id)
    if me is None:
        return []
    grids = reviewable_grids(ctx.db, me)
    if grids is None:
        return pending_bindings(ctx.db, community_id=me.community_id)
    return pending_bindings(ctx.db, grids, me.community_id) if grids else []


@router.command("员工", help=texts.HELP_STAFF, aliases=("员工登记",))
def redeem(ctx: Context, args: str) -> str:
    code = fold(args).strip()  # ＡＢ１２ and ab12 are the code AB12
    if not code:
        return texts.STAFF_USAGE
    try:
        person = redeem_code(ctx.db, ctx.person.id, code, ctx.now)
    except CodeUsed:
        return texts.STAFF_CODE_USED
    except CodeExpired:
        return texts.STAFF_CODE_EXPIRED
    except (UnknownTopic, UnknownGrid):
        return texts.STAFF_CODE_STALE
    except StaffError:
        return texts.STAFF_CODE_UNKNOWN
    return texts.STAFF_WELCOME.format(name=person.name)

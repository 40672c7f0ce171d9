"""集 collect: what a resident writes in their own words becomes a numbered ticket.

Free text that is not a command, a greeting or too short is filed under the topic the
classifier finds; when it is unsure, the ticket is filed at once (nothing waits unfiled) and
the resident is asked to pick a topic. An image, location, voice or video sent shortly after
joins their newest ticket; one sent before any ticket is kept for [tickets] attach_minutes
and joins the ticket their next text files (a location then says where the problem is, unless
the text names a place: models/spots.py). What becomes of a report (the same text again,
附议, the open-ticket cap, filing) is decided by models/intake.py, as for every channel; this
module only words it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from models import (
    ConversationState,
    attach,
    drop_state,
    enabled_topics,
    latest_ticket,
    push_state,
    ticket_by_number,
    topic_by_name,
)
from models.communities import community_names
from models.community_topics import enabled_in
from models.intake import Hint, Intake, Outcome, Report, intake
from models.lifecycle import actor_for, route_under_topic
from models.people import Role, set_community
from models.routing import place_of
from models.spots import location_of
from models.states import CHOOSE_COMMUNITY, CHOOSE_TOPIC, HELD
from models.tickets import Ticket
from models.topic_choice import bare, choice_number, choice_words, likeliest_topics, topic_named
from words import clean, fold, meaningful_length
from words.addresses import address_mentions
from words.agenda import reads_like_proposal

from . import agenda_texts, texts
from .router import PASS, Context, Pass, Reply, Router

router = Router("report")

_PUNCTUATION = re.compile(r"[\W_]+")
# How long a report waits for its resident to say which community: it is their first
# report, so it waits long rather than being dropped after a short while.
_COMMUNITY_WAIT = timedelta(days=7)


@router.message("text")
def on_text(ctx: Context) -> Reply:
    text = clean(ctx.message.text or "")
    if _PUNCTUATION.sub("", fold(text)) in texts.GREETINGS:
        return texts.GREETING
    if meaningful_length(text) < ctx.options.min_chars or not _says_more_than_where(text):
        return texts.TOO_SHORT
    return file_request(ctx, text)


# Words that only introduce where someone lives or how to reach them (我住…, 联系电话：…),
# and the words of an address (12层, 3单元).
_ONLY_WHO = re.compile(
    r"联系方式|联系电话|联系人|电话号码|手机号码?|电话|手机|号码|我住在?|我家|住在|住|我|是|的|在|层|楼|单元|室|号|栋"
)


def _says_more_than_where(text: str) -> bool:
    """Whether the text has a word besides the buildings and rooms it names, its numbers and
    the words that introduce an address or a phone number: "3号楼2单元", "我住3号楼2单元501"
    or "联系电话：13800138000" alone is no report (the model would file it under some
    topic); "3号楼漏水" is."""
    for mention in reversed(address_mentions(text)):
        text = text[: mention.start] + text[mention.end :]
    return any(char.isalpha() for char in _ONLY_WHO.sub("", fold(text)))


@router.message("voice")
def on_voice(ctx: Context) -> Reply:
    """A recognised voice message is the words it carries; otherwise it is an attachment."""
    if ctx.message.text:
        return on_text(ctx)
    return _attach(ctx) or _hold(ctx, texts.VOICE_UNRECOGNISED)


@router.message("image")
def on_image(ctx: Context) -> Reply:
    return _attach(ctx) or _hold(ctx, texts.IMAGE)


@router.message("video", "shortvideo")
def on_video(ctx: Context) -> Reply:
    return _attach(ctx) or _hold(ctx, texts.VIDEO)


@router.message("location")
def on_location(ctx: Context) -> Reply:
    if (attached := _attach(ctx)) is not None:
        return attached
    label = ctx.message.details.get("label")
    return _hold(ctx, texts.LOCATION.format(label=label) if label else texts.LOCATION_NO_LABEL)


def file_request(ctx: Context, text: str) -> str:
    """Take `text` in as the person's report (models/intake.py) and say what became of it."""
    if (communities := _communities_to_ask(ctx)) is not None:
        return _ask_for_community(ctx, text, communities)
    # The resident's own community; for someone with none (street staff), the account's.
    community_id = ctx.person.community_id or ctx.community_id
    return _say(ctx, _take_in(ctx, text, community_id, ctx.hint), text)


def _take_in(ctx: Context, text: str, community_id: int | None, hint: Hint | None) -> Intake:
    """The one intake, with what the person sent just before (held: a photo, a location)
    joining the ticket it files; a held location is where the problem is unless the text
    says."""
    held = [state for state in ctx.pending_states() if state.kind == HELD]
    locations = [location_of(state.values["details"]) for state in held]
    location = next((found for found in locations if found is not None), None)  # the latest
    report = Report(
        text,
        "wechat",
        ctx.person.id,
        ctx.now,
        hint=hint,
        community_id=community_id,
        location=location,
    )
    result = intake(ctx.db, report, ctx.options.intake, ctx.classify)
    if held and result.outcome in (Outcome.FILED, Outcome.UNSURE):
        ticket = ticket_by_number(ctx.db, result.number) if result.number is not None else None
        if ticket is not None:
            for state in reversed(held):  # in the order they were sent
                values = state.values
                attach(ctx.db, ticket, values["kind"], values["details"], state.created_at)
                drop_state(ctx.db, state)
    return result


def _hold(ctx: Context, reply: str) -> str:
    """Keep the message for [tickets] attach_minutes: the ticket the person's next text files
    takes it (`_take_in`); unused, it simply expires. The answer is the usual one."""
    push_state(
        ctx.db,
        ctx.person.id,
        HELD,
        {"kind": ctx.message.kind, "details": dict(ctx.message.details)},
        now=ctx.now,
        ttl=timedelta(minutes=ctx.options.attach_minutes),
    )
    return reply


@router.state(HELD)
def held(ctx: Context, state: ConversationState) -> Pass:
    """A held attachment asks nothing: every message goes on to its handler."""
    return PASS


def _communities_to_ask(ctx: Context) -> list[tuple[int, str]] | None:
    """The street's communities, when a resident of a street-wide account must say which is
    theirs before their report can go to it: their community is not known (no household
    bound, none chosen) and the street has more than one. None: file at once."""
    person = ctx.person
    if not ctx.street_account or person.community_id is not None or person.role >= Role.STAFF:
        return None
    if place_of(ctx.db, person.id) is not None:
        return None  # bound to a household: intake files it in the household's community
    communities = list(community_names(ctx.db).items())
    return communities if len(communities) > 1 else None


def _ask_for_community(ctx: Context, text: str, communities: list[tuple[int, str]]) -> str:
    """The CHOOSE_COMMUNITY question; the report waits in it (as written) for the answer."""
    push_state(
        ctx.db,
        ctx.person.id,
        CHOOSE_COMMUNITY,
        {"text": text, "options": [list(pair) for pair in communities]},
        now=ctx.now,
        ttl=_COMMUNITY_WAIT,
    )
    return texts.ASK_COMMUNITY.format(options=_numbered(name for _, name in communities))


def _numbered(names: Iterable[str]) -> str:
    return "\n".join(f"{i} {name}" for i, name in enumerate(names, start=1))


@router.state(CHOOSE_COMMUNITY)
def choose_community(ctx: Context, state: ConversationState) -> Reply | Pass:
    """A number records the community and files the waiting report there; a command goes
    on to its handler (the report keeps waiting); other words are asked again."""
    values: dict[str, Any] = state.values
    options: list[list[Any]] = values["options"]
    text = ctx.message.text or ""
    if ctx.message.kind != "text" or ctx.router.find_command(text):
        return PASS
    answer = fold(text).strip()
    if not (answer.isdigit() and answer.isascii()):
        return texts.ASK_COMMUNITY_AGAIN.format(options=_numbered(name for _, name in options))
    choice = int(answer)
    if not 1 <= choice <= len(options):
        return texts.CHOICE_OUT_OF_RANGE.format(last=len(options))
    drop_state(ctx.db, state)
    community_id, name = int(options[choice - 1][0]), str(options[choice - 1][1])
    set_community(ctx.db, ctx.person.id, community_id)
    result = _take_in(ctx, values["text"], community_id, None)
    said = _say(ctx, result, values["text"])
    return texts.COMMUNITY_CHOSEN.format(community=name) + "\n" + said


def _say(ctx: Context, result: Intake, text: str) -> str:
    """The resident's words for what intake did; a new ticket that reads like a proposal
    gets one more line: how to raise it as a 议题 instead (it stays a ticket either way)."""
    reply = _outcome(ctx, result)
    if result.outcome in (Outcome.FILED, Outcome.UNSURE) and reads_like_proposal(text):
        reply += "\n" + agenda_texts.PROPOSAL_HINT
    return reply


def _outcome(ctx: Context, result: Intake) -> str:
    match result.outcome:
        case Outcome.SAME_AGAIN:
            topic = result.topic or texts.NO_TOPIC
            return texts.SAME_AGAIN.format(number=result.number, topic=topic)
        case Outcome.SUPPORTED:
            return texts.SUPPORTED.format(number=result.number)
        case Outcome.SUPPORTED_AGAIN:
            return texts.SUPPORTED_AGAIN.format(number=result.number)
        case Outcome.TOO_MANY_OPEN:
            numbers = "、".join(f"#{number}" for number in result.open_numbers)
            return texts.TOO_MANY_OPEN.format(count=result.open_count, numbers=numbers)
        case Outcome.FILED:
            return texts.FILED.format(number=result.number, topic=result.topic)
    assert result.number is not None  # UNSURE: filed, in triage
    return _ask_for_topic(ctx, result.number, list(result.candidates), result.community_id)


def _ask_for_topic(
    ctx: Context, number: int, candidates: list[str], community_id: int | None
) -> str:
    """The CHOOSE_TOPIC question, short: the likeliest topics enabled in the ticket's
    community (the classifier's candidates, else the community's most filed; see
    models/topic_choice.py), then 更多类别 as the last number when there are more."""
    offered, enabled = likeliest_topics(ctx.db, community_id, candidates, ctx.now)
    if not enabled:  # every topic switched off there: nothing to choose, staff sort it out
        return texts.FILED_FOR_STAFF.format(number=number)
    more = len(enabled) > len(offered)
    _wait_for_topic(ctx, {"ticket": number, "options": offered, "more": more})
    shown = [*offered, texts.MORE_TOPICS] if more else offered
    return texts.FILED_UNSURE.format(number=number, options=_numbered(shown))


def _wait_for_topic(ctx: Context, values: dict[str, Any]) -> None:
    push_state(
        ctx.db,
        ctx.person.id,
        CHOOSE_TOPIC,
        values,
        now=ctx.now,
        ttl=timedelta(minutes=ctx.options.choice_minutes),
    )


@router.state(CHOOSE_TOPIC)
def choose_topic(ctx: Context, state: ConversationState) -> Reply | Pass:
    """A number or a topic's name files the ticket under that topic; 更多类别 shows every
    topic (the numbers then stand for that list); 其他 leaves it for staff; a command goes on
    to its handler with the question still open; anything else leaves the ticket for staff
    and goes on to its handler."""
    values: dict[str, Any] = state.values
    options: list[str] = values["options"]
    # None: asked before the short question existed, when the last number was 其他.
    more: bool | None = values.get("more")
    ticket = ticket_by_number(ctx.db, values["ticket"])
    if ticket is None:
        drop_state(ctx.db, state)
        return PASS
    # A recognised voice message answers as its words do ("二", "电梯").
    text = (ctx.message.text or "") if ctx.message.kind in ("text", "voice") else ""
    if text and ctx.router.find_command(text):
        return PASS
    whole = bare(text)
    if (choice := choice_number(text)) is not None:
        last = len(options) + (0 if more is False else 1)
        if not 1 <= choice <= last:
            return texts.TOPIC_OUT_OF_RANGE.format(last=last)
        if choice == last and more:
            return _all_topics(ctx, state, ticket)
        if choice == last and more is None:
            drop_state(ctx.db, state)
            return texts.TOPIC_OTHER.format(number=ticket.number)
        return _pick(ctx, state, ticket, options[choice - 1])
    if whole in texts.MORE_WORDS or choice_words(text) in texts.MORE_WORDS:
        return _all_topics(ctx, state, ticket)
    if whole in texts.OTHER_WORDS or choice_words(text) in texts.OTHER_WORDS:
        drop_state(ctx.db, state)
        return texts.TOPIC_OTHER.format(number=ticket.number)
    enabled = [t.name for t in enabled_topics(ctx.db, ticket.community_id)]
    if text and (named := topic_named(text, enabled)) is not None:
        return _pick(ctx, state, ticket, named)
    drop_state(ctx.db, state)
    ctx.notices.append(texts.CHOICE_LEFT.format(number=ticket.number))
    return PASS


def _all_topics(ctx: Context, state: ConversationState, ticket: Ticket) -> str:
    """更多类别: every topic enabled in the ticket's community, numbered; the question
    stays (asked afresh), and its numbers now stand for this list."""
    enabled = [t.name for t in enabled_topics(ctx.db, ticket.community_id)]
    drop_state(ctx.db, state)
    _wait_for_topic(ctx, {"ticket": ticket.number, "options": enabled, "more": False})
    return texts.TOPICS_ALL.format(number=ticket.number, options=_numbered(enabled))


def _pick(ctx: Context, state: ConversationState, ticket: Ticket, name: str) -> str:
    """The resident's pick, unconfirmed (only staff confirm a topic); staff who took the
    ticket or set its topic meanwhile decide."""
    drop_state(ctx.db, state)
    if ticket.status != "new" or ticket.topic_confirmed:
        # Staff took it (接单) or put it under a topic (转派) meanwhile: theirs decides.
        topic_name = ticket.topic.name if ticket.topic is not None else texts.NO_TOPIC
        return texts.TOPIC_KEPT.format(number=ticket.number, topic=topic_name)
    topic = topic_by_name(ctx.db, name)
    if topic is None or not enabled_in(ctx.db, topic, ticket.community_id):
        return texts.TOPIC_OTHER.format(number=ticket.number)  # staff will sort it out
    resident = actor_for(ctx.db, ctx.person.id)
    route_under_topic(
        ctx.db, ticket, resident, topic, ctx.now, ctx.tz, event="topic_chosen", confirmed=False
    )
    return texts.TOPIC_CHOSEN.format(number=ticket.number, topic=topic.name)


def _attach(ctx: Context) -> str | None:
    """Join the message to the person's newest ticket if it is recent; None if there is none."""
    since = ctx.now - timedelta(minutes=ctx.options.attach_minutes)
    ticket = latest_ticket(ctx.db, ctx.person.id, since)
    if ticket is None:
        return None
    kind = ctx.message.kind
    attach(ctx.db, ticket, kind, dict(ctx.message.details), ctx.now)
    return texts.ATTACHED.format(
        what=texts.ATTACHMENT_NAMES.get(kind, "附件"), number=ticket.number
    )

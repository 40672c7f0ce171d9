"""集 collect: what a resident writes in their own words becomes a numbered ticket.

Free text that is not a command, a greeting or too short is filed under the topic the
classifier finds; when it is unsure, the ticket is filed at once (nothing waits unfiled) and
the resident is asked to pick a topic. An image, location, voice or video sent shortly after
joins their newest ticket.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from models import (
    ConversationState,
    Filed,
    attach,
    drop_state,
    enabled_topics,
    file_ticket,
    latest_ticket,
    push_state,
    ticket_by_number,
    topic_by_name,
)
from models.lifecycle import actor_for, route_under_topic
from models.states import CHOOSE_TOPIC
from models.tickets import mine_now
from words import clean, fold, meaningful_length, text_key

from . import texts
from .flood import before_filing
from .router import PASS, Context, Pass, Reply, Router

router = Router("report")

_PUNCTUATION = re.compile(r"[\W_]+")


@router.message("text")
def on_text(ctx: Context) -> Reply:
    text = clean(ctx.message.text or "")
    if _PUNCTUATION.sub("", fold(text)) in texts.GREETINGS:
        return texts.GREETING
    if meaningful_length(text) < ctx.options.min_chars:
        return texts.TOO_SHORT
    return file_request(ctx, text)


@router.message("voice")
def on_voice(ctx: Context) -> Reply:
    """A recognised voice message is the words it carries; otherwise it is an attachment."""
    if ctx.message.text:
        return on_text(ctx)
    return _attach(ctx) or texts.VOICE_UNRECOGNISED


@router.message("image")
def on_image(ctx: Context) -> Reply:
    return _attach(ctx) or texts.IMAGE


@router.message("video", "shortvideo")
def on_video(ctx: Context) -> Reply:
    return _attach(ctx) or texts.VIDEO


@router.message("location")
def on_location(ctx: Context) -> Reply:
    if (attached := _attach(ctx)) is not None:
        return attached
    label = ctx.message.details.get("label")
    return texts.LOCATION.format(label=label) if label else texts.LOCATION_NO_LABEL


def file_request(ctx: Context, text: str) -> str:
    """File `text` as a ticket (or find the same one sent moments ago) and say so.

    The common case runs on `ctx.conn` without the ORM: it is the costliest thing a
    message does inside the write transaction.
    """
    key = text_key(text)
    window = timedelta(minutes=ctx.options.same_text_minutes)
    mine = mine_now(ctx.conn, ctx.person.id, key, ctx.now - window)
    if mine.same is not None:
        same = mine.same
        return texts.SAME_AGAIN.format(number=same.number, topic=same.topic or texts.NO_TOPIC)
    if (instead := before_filing(ctx, text, key, mine.open_count)) is not None:
        return instead  # 附议 on a neighbour's ticket, or too many open tickets
    verdict = ctx.classify(text)
    ticket = file_ticket(
        ctx.conn,
        person_id=ctx.person.id,
        text=text,
        text_key=key,
        topic=verdict.topic if not verdict.unsure else None,
        score=verdict.score if verdict.topic else None,
        unsure=verdict.unsure,
        now=ctx.now,
        triage_hours=ctx.options.triage_sla_hours,
        tz=ctx.tz,
        prerouted=ctx.prerouted,
    )
    if ticket.topic is not None:
        return texts.FILED.format(number=ticket.number, topic=ticket.topic)
    return _ask_for_topic(ctx, ticket, [name for name, _ in verdict.candidates])


def _ask_for_topic(ctx: Context, ticket: Filed, candidates: list[str]) -> str:
    enabled = [t.name for t in enabled_topics(ctx.db)]
    options = [name for name in candidates if name in enabled][:3] or enabled
    push_state(
        ctx.db,
        ctx.person.id,
        CHOOSE_TOPIC,
        {"ticket": ticket.number, "options": options},
        now=ctx.now,
        ttl=timedelta(minutes=ctx.options.choice_minutes),
    )
    lines = [f"{i} {name}" for i, name in enumerate([*options, texts.OTHER], start=1)]
    return texts.FILED_UNSURE.format(number=ticket.number, options="\n".join(lines))


@router.state(CHOOSE_TOPIC)
def choose_topic(ctx: Context, state: ConversationState) -> Reply | Pass:
    """A number files the ticket under that topic; anything else leaves it for staff."""
    values: dict[str, Any] = state.values
    options: list[str] = values["options"]
    ticket = ticket_by_number(ctx.db, values["ticket"])
    answer = fold(ctx.message.text or "").strip() if ctx.message.kind == "text" else ""
    if ticket is None:
        drop_state(ctx.db, state)
        return PASS
    last = len(options) + 1
    if answer.isdigit() and answer.isascii():
        choice = int(answer)
        if not 1 <= choice <= last:
            return texts.CHOICE_OUT_OF_RANGE.format(last=last)
        drop_state(ctx.db, state)
        if choice == last:
            return texts.TOPIC_OTHER.format(number=ticket.number)
        if ticket.status != "new" or ticket.topic_confirmed:
            # Staff took it (接单) or put it under a topic (转派) meanwhile: theirs decides.
            topic_name = ticket.topic.name if ticket.topic is not None else texts.NO_TOPIC
            return texts.TOPIC_KEPT.format(number=ticket.number, topic=topic_name)
        topic = topic_by_name(ctx.db, options[choice - 1])
        if topic is None or not topic.enabled:
            return texts.TOPIC_OTHER.format(number=ticket.number)  # staff will sort it out
        resident = actor_for(ctx.db, ctx.person.id)
        route_under_topic(
            ctx.db, ticket, resident, topic, ctx.now, ctx.tz, event="topic_chosen", confirmed=False
        )
        return texts.TOPIC_CHOSEN.format(number=ticket.number, topic=topic.name)
    drop_state(ctx.db, state)
    if answer == texts.OTHER:
        return texts.TOPIC_OTHER.format(number=ticket.number)
    ctx.notices.append(texts.CHOICE_LEFT.format(number=ticket.number))
    return PASS


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

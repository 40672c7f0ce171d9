"""议 deliberate by chat: `投票` lists the open polls, `投票 N` shows one (a bare letter then
answers it), `投票 N A [C]` casts a ballot, `结果 N` shows the results when they are visible.

Every refusal says why (closed, not in scope, household not yet approved, invalid option, too
many choices). In a household poll the other members of the household are told when a ballot
replaces theirs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from models import ConversationState, drop_state, push_state
from models.polls import (
    DRAFT,
    HOUSEHOLD_UNIT,
    OPEN,
    Poll,
    PollError,
    cast_ballot,
    concerns,
    may_vote,
    poll_by_number,
    tally,
)
from models.states import CHOOSE_OPTION
from words import as_number, fold, when

from . import vote_texts as texts
from .router import PASS, Context, Pass, Reply, Router

router = Router("vote")

CHOOSING = CHOOSE_OPTION


def _when(ctx: Context, moment: datetime) -> str:
    return when(moment, ctx.tz)


@router.command("投票", help=texts.HELP_VOTE)
def vote(ctx: Context, args: str) -> str:
    words = fold(args).split()
    if not words:
        return _list(ctx)
    number = as_number(words[0])
    if number is None:
        return texts.USAGE
    poll = poll_by_number(ctx.db, number)
    if poll is None:
        return texts.NOT_FOUND.format(number=number)
    if not concerns(ctx.db, poll, ctx.person.id):
        return texts.OTHER_COMMUNITY.format(number=number)
    if len(words) == 1:
        return _show(ctx, poll)
    return _cast(ctx, poll, " ".join(words[1:]))


def _list(ctx: Context) -> str:
    polls = [
        poll
        for poll in ctx.db.scalars(
            select(Poll)
            .where(Poll.status == OPEN, Poll.closes_at > ctx.now)
            .order_by(Poll.closes_at)
        )
        if may_vote(ctx.db, poll, ctx.person.id, ctx.now)
    ]
    if not polls:
        return texts.NONE_OPEN
    lines = [texts.LIST_HEADER]
    for poll in polls[:5]:  # a passive reply stays short
        options = " ".join(
            f"{label} {text}" for label, text in zip(poll.labels, poll.options, strict=True)
        )
        lines.append(
            texts.LIST_LINE.format(
                number=poll.number, title=poll.title, closes=_when(ctx, poll.closes_at)
            )
        )
        lines.append(options)
    lines.append(texts.LIST_FOOTER.format(number=polls[0].number))
    return "\n".join(lines)


def _show(ctx: Context, poll: Poll) -> str:
    options = "\n".join(
        f"{label} {text}" for label, text in zip(poll.labels, poll.options, strict=True)
    )
    rule = texts.RULE_HOUSEHOLD if poll.unit == HOUSEHOLD_UNIT else ""
    if poll.max_choices > 1:
        rule += texts.RULE_CHOICES.format(count=poll.max_choices, number=poll.number)
    if poll.status == OPEN and ctx.now < poll.closes_at:
        push_state(
            ctx.db,
            ctx.person.id,
            CHOOSING,
            {"poll": poll.number},
            now=ctx.now,
            ttl=timedelta(minutes=30),
        )
    return texts.DETAIL.format(
        number=poll.number,
        title=poll.title,
        description=f"{poll.description}\n" if poll.description else "",
        options=options,
        rule=rule,
        closes=_when(ctx, poll.closes_at),
        example=f"投票 {poll.number} A",
    )


def _cast(ctx: Context, poll: Poll, choice: str) -> str:
    try:
        cast = cast_ballot(ctx.db, poll, ctx.person.id, choice, ctx.now)
    except PollError as exc:
        template = texts.REFUSED.get(exc.reason, texts.USAGE)
        return template.format(
            number=poll.number,
            opens=_when(ctx, poll.opens_at),
            labels="、".join(poll.labels),
            max=poll.max_choices,
        )
    chosen = "、".join(
        f"{label} {poll.options[poll.labels.index(label)]}" for label in cast.choices
    )
    template = texts.RECEIPT_REPLACED if cast.replaced else texts.RECEIPT
    reply = template.format(
        number=poll.number, title=poll.title, choices=chosen, closes=_when(ctx, poll.closes_at)
    )
    if poll.unit == HOUSEHOLD_UNIT:
        others = [m for m in cast.household_members if m != ctx.person.id]
        reply += texts.RECEIPT_HOUSEHOLD if others else texts.RECEIPT_HOUSEHOLD_ALONE
    return reply


@router.state(CHOOSING)
def choosing(ctx: Context, state: ConversationState) -> Reply | Pass:
    """Right after `投票 N`, a reply of just letters is the ballot."""
    text = fold(ctx.message.text or "").strip() if ctx.message.kind == "text" else ""
    letters = text.replace(" ", "").replace(",", "").replace("、", "")
    if not letters or not letters.isascii() or not letters.isalpha() or len(letters) > 20:
        return PASS
    drop_state(ctx.db, state)
    poll = poll_by_number(ctx.db, state.values["poll"])
    if poll is None:
        return PASS
    return _cast(ctx, poll, text)


@router.command("结果", help=texts.HELP_RESULT)
def result(ctx: Context, args: str) -> str:
    number = as_number(args)
    if number is None:
        return texts.USAGE
    poll = poll_by_number(ctx.db, number)
    if poll is None:
        return texts.NOT_FOUND.format(number=number)
    if not concerns(ctx.db, poll, ctx.person.id):
        return texts.OTHER_COMMUNITY.format(number=number)
    # Hidden until the close: the deadline itself, not the sweep that records it, decides.
    if poll.hide_results and poll.status in (DRAFT, OPEN) and ctx.now < poll.closes_at:
        return texts.RESULT_HIDDEN.format(number=number, closes=_when(ctx, poll.closes_at))
    counted = tally(ctx.db, poll)
    unit = texts.UNIT_NAMES[poll.unit]
    lines = [
        texts.RESULT_HEADER.format(
            number=number, title=poll.title, state=texts.STATE_NAMES.get(poll.status, "")
        )
    ]
    lines += [
        texts.RESULT_LINE.format(label=label, option=option, count=counted.counts[label])
        for label, option in zip(poll.labels, poll.options, strict=True)
    ]
    if counted.eligible:
        lines.append(
            texts.RESULT_TURNOUT.format(
                ballots=counted.ballots, eligible=counted.eligible, unit=unit
            )
        )
    else:
        lines.append(texts.RESULT_TURNOUT_UNKNOWN.format(ballots=counted.ballots, unit=unit))
    if counted.tie:
        lines.append(texts.RESULT_TIE.format(labels="、".join(counted.leaders)))
    elif counted.leaders:
        label = counted.leaders[0]
        lines.append(
            texts.RESULT_LEADER.format(label=label, option=poll.options[poll.labels.index(label)])
        )
    if poll.quorum and not counted.quorum_met:
        lines.append(texts.RESULT_NO_QUORUM)
    if poll.decision:
        lines.append(texts.RESULT_DECISION.format(decision=poll.decision))
    return "\n".join(lines)

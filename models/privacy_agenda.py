"""A resident's part in the 议 cycle under PIPL: what export shows and what erasure does.

Export: the items they proposed (whole, as written), their backing, meeting invitations and
answers (RSVPs), objections, ratings and 回头看 answers, the timeline lines they caused, and
whether they are a representative (议事代表) — each with the item's or meeting's number.

Erasure keeps the committee's public record and the figures residents saw (decisions):
- an item they proposed stays: it is the committee's record (numbered on meetings, polls, the
  public 公示 page; others backed and voted on it). Who proposed it goes (`proposer_id`
  NULL), and so do their words: the proposal's text becomes ERASED_TEXT; its title too unless
  the committee took the item onto its agenda (立项: the title is then the agenda's name for
  it, on minutes, polls and the public page). It still counts as a resident's proposal in
  the figures (`created_by` stays empty);
- backing and RSVPs stay as rows, so the backing count, its threshold and a meeting's
  invited / attending / excused figures do not change after residents were told them; the
  person they point to is the anonymised person row (as ballots are). A person-unit backing
  key "p<id>" becomes "x<backing id>" (as a ballot's does); a household's stays, it is the
  household's backing;
- objections stay counted, their text becomes ERASED_TEXT; ratings stay (the 满意率), the
  回头看 note goes; timeline lines they caused lose the person and their text;
- pushes about the cycle that quote any of those texts (to admins: an objection, a proposal
  reaching its threshold) have the quoted text replaced;
- their place on the representatives' list is deleted: the list is who represents residents
  now, and invitations already sent stay as they were.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, delete, select, update
from sqlalchemy.orm import Session

from .agenda import AgendaBacking, AgendaEvent, AgendaItem, AgendaObjection, AgendaRating
from .meetings import Meeting, MeetingInvite, Representative
from .outbox import OutboxMessage

# (table, column) pairs referencing person.id that the "agenda" section exports.
AGENDA_COVERED = {
    ("agenda_item", "proposer_id"),
    ("agenda_item", "owner_id"),
    ("agenda_event", "person_id"),
    ("agenda_backing", "person_id"),
    ("agenda_objection", "person_id"),
    ("agenda_rating", "person_id"),
    ("meeting_invite", "person_id"),
    ("representative", "person_id"),
}


def export_agenda(db: Session, pid: int, row: Any) -> dict[str, Any]:
    """The person's part in the cycle, section by section; `row` makes a JSON-ready dict."""

    def with_item(model: Any) -> list[dict[str, Any]]:
        rows = db.execute(
            select(model, AgendaItem.number, AgendaItem.title)
            .join(AgendaItem, AgendaItem.id == model.agenda_id)
            .where(model.person_id == pid)
            .order_by(model.id)
        )
        return [{**row(r), "agenda_number": n, "agenda_title": t} for r, n, t in rows]

    invites = db.execute(
        select(MeetingInvite, Meeting.number, Meeting.title, Meeting.at)
        .join(Meeting, Meeting.id == MeetingInvite.meeting_id)
        .where(MeetingInvite.person_id == pid)
        .order_by(MeetingInvite.id)
    )
    proposed = db.scalars(
        select(AgendaItem).where(AgendaItem.proposer_id == pid).order_by(AgendaItem.id)
    )
    owned = db.execute(
        select(AgendaItem.number, AgendaItem.stage)
        .where(AgendaItem.owner_id == pid)
        .order_by(AgendaItem.id)
    )
    representative = db.get(Representative, pid)
    return {
        "proposals": [row(item) for item in proposed],
        "backing": with_item(AgendaBacking),
        "objections": with_item(AgendaObjection),
        "ratings": with_item(AgendaRating),
        "timeline": with_item(AgendaEvent),
        "meeting_invites": [
            {**row(i), "meeting_number": n, "meeting_title": t, "meeting_at": at.isoformat()}
            for i, n, t, at in invites
        ],
        "representative": row(representative) if representative is not None else None,
        "items_owned": [{"number": n, "stage": s} for n, s in owned],  # staff: numbers only
    }


def erase_agenda(db: Session, pid: int, erased_text: str) -> dict[str, int]:
    """Apply the module's decisions to the person `pid`; counts of rows by what was done."""
    quoted: set[str] = set()
    counts = _erase_texts(db, pid, erased_text, quoted)
    backing = db.execute(
        update(AgendaBacking)
        .where(AgendaBacking.person_id == pid, AgendaBacking.unit_key == f"p{pid}")
        .values(unit_key="x" + AgendaBacking.id.cast(String(24)))
        .execution_options(synchronize_session=False)
    )
    representative = db.execute(delete(Representative).where(Representative.person_id == pid))
    db.flush()
    return {
        **counts,
        "agenda_backing_rekeyed": _rows(backing),
        "representative": _rows(representative),
        "agenda_pushes_redacted": _redact_pushes(db, {q for q in quoted if q}, erased_text),
    }


def _erase_texts(db: Session, pid: int, erased_text: str, quoted: set[str]) -> dict[str, int]:
    """Their proposals, objections, 回头看 notes and timeline lines lose their words (and
    the proposals their proposer); every text replaced goes into `quoted`."""
    proposals = list(db.scalars(select(AgendaItem).where(AgendaItem.proposer_id == pid)))
    for item in proposals:
        quoted.add(item.body)
        item.proposer_id, item.body = None, erased_text
        if item.accepted_at is None:  # not the committee's agenda item: its name is theirs
            quoted.add(item.title)
            item.title = erased_text
    objections = list(db.scalars(select(AgendaObjection).where(AgendaObjection.person_id == pid)))
    for objection in objections:
        quoted.add(objection.text)
        objection.text = erased_text
    ratings = list(db.scalars(select(AgendaRating).where(AgendaRating.person_id == pid)))
    for rating in ratings:
        if rating.review_note:
            quoted.add(rating.review_note)
            rating.review_note = erased_text
    events = list(db.scalars(select(AgendaEvent).where(AgendaEvent.person_id == pid)))
    for event in events:
        quoted.add(event.text)
        event.person_id, event.text = None, erased_text if event.text else ""
    return {
        "agenda_proposals": len(proposals),
        "agenda_objections": len(objections),
        "agenda_ratings": len(ratings),
        "agenda_timeline_lines": len(events),
    }


def _rows(result: Any) -> int:
    return int(result.rowcount or 0)


def _redact_pushes(db: Session, quoted: set[str], erased_text: str) -> int:
    """Pushes to others (admins, backers) that quote one of the erased texts: the quoted
    values are replaced, whatever the push's kind or field calls them. Every push but the
    tickets' (privacy.py redacts those) is read: an erasure is rare, the stage modules name
    their kinds as they like."""
    if not quoted:
        return 0
    redacted = 0
    others = select(OutboxMessage).where(OutboxMessage.kind.not_like("ticket.%"))
    for push in db.scalars(others):
        payload = dict(push.payload or {})
        changed = {k: erased_text for k, v in payload.items() if isinstance(v, str) and v in quoted}
        if changed:
            push.payload = {**payload, **changed}
            redacted += 1
    return redacted

"""工作台: today's and open tickets at a glance, the last 30 days' rates, trend and breakdowns.

Every figure is one aggregate query (models/kpi.py); days are cut in the configured time zone.
A community's account sees its own community's figures, always; a street account sees the
whole street's, or one community's with `?community=<id>` (the street dashboard's drill-down).
The charts' data is embedded in the page as JSON and drawn by static/dashboard.js.
The 议题 pipeline (models/kpi_agenda.py): a community's own items, or the whole street's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import ConsoleRole, Ticket
from models.communities import Community
from models.kpi import Share, breakdown, of_community, per_day
from models.kpi_agenda import ALL, WINDOW_DAYS, pipeline
from models.tickets import OPEN_STATUSES
from words.agenda_report import STAGE_LABELS
from words.channels import CHANNEL_NAMES

from .access import current_scope, guard, requires
from .common import now, reading, small_int, ys
from .filed_by import DAYS as FILED_BY_DAYS
from .filed_by import filed_by

bp = Blueprint("console_dashboard", __name__, url_prefix="/admin")
bp.before_request(guard)

DAYS = 30


@dataclass(frozen=True)
class Today:
    """The counts a person at the console looks at first."""

    new: int
    open: int
    overdue: int
    unassigned: int  # open tickets nobody holds (the triage queue)
    unseen: int  # of those, the ones waiting longer than [tickets] triage_hours
    mine: int | None  # the signed-in staff member's open tickets; None without a person


@bp.route("", strict_slashes=False)
@requires(ConsoleRole.VIEWER)
def index() -> str:
    moment = now()
    tz = ys().settings.tz
    starts = day_starts(moment, tz, DAYS)
    with reading() as db:
        community = shown_community(db)
        cid = community.id if community else None
        today = today_counts(
            db,
            moment,
            starts[-2],
            current_user.person_id,
            ys().settings.tickets.triage_hours,
            cid,
        )
        period = breakdown(db, since=starts[0], until=starts[-1], community_id=cid)
        charts = chart_data(db, starts, period.topics, period.grids, cid)
        agenda = pipeline(db, moment, ALL if cid is None else cid)
        by = filed_by(db, starts[-1 - FILED_BY_DAYS], cid)
        community_name = community.name if community else None
    return render_template(
        "console/dashboard.html",
        title=f"工作台 · {community_name}" if community_name else "工作台",
        community=community_name,
        today=today,
        period=period.rates,
        charts=charts,
        days=DAYS,
        channels=period.channels,
        channel_keys={name: key for key, name in CHANNEL_NAMES.items()},
        sources=period.sources,
        agenda=agenda,
        year=moment.astimezone(tz).year,
        community_id=cid,
        stage_labels=STAGE_LABELS,
        window_days=WINDOW_DAYS,
        filed_by=by,
        filed_by_days=FILED_BY_DAYS,
    )


def shown_community(db: Session) -> Community | None:
    """The community whose figures the page shows (None: the whole street's).

    A community account always sees its own; asking for another is a 403. A street account
    names one with `?community=<id>`: a community that does not exist is a 404."""
    scope = current_scope()
    raw = request.args.get("community", "")
    asked = small_int(raw) if raw else None
    if raw and asked is None:
        abort(404)
    if not scope.street:
        if asked is not None and asked != scope.community_id:
            abort(403)
        asked = scope.community_id
    if asked is None:
        return None
    return db.get(Community, asked) or abort(404)


def day_starts(moment: datetime, tz: ZoneInfo, days: int) -> list[datetime]:
    """The local midnights from `days - 1` days ago to tomorrow: `days + 1` bounds."""
    first = moment.astimezone(tz).date() - timedelta(days=days - 1)
    return [datetime.combine(first + timedelta(days=n), time(), tzinfo=tz) for n in range(days + 1)]


def today_counts(
    db: Session,
    moment: datetime,
    midnight: datetime,
    person_id: int | None,
    triage_hours: float,
    community_id: int | None = None,
) -> Today:
    mine = of_community(community_id)

    def count(*where: Any) -> int:
        return db.scalar(select(func.count()).select_from(Ticket).where(*where, *mine)) or 0

    is_open = Ticket.status.in_(OPEN_STATUSES)
    open_now = count(is_open)
    # Overdue as the open tickets less those not yet due: the due_at index finds the few due
    # from now on, where asking for `due_at < now` visits every open ticket's row. The status
    # is hidden from the planner (`|| ''`) so that it takes that index.
    unsteered = Ticket.status.concat("").in_(OPEN_STATUSES)
    not_due = count(unsteered, or_(Ticket.due_at >= moment, Ticket.due_at.is_(None)))
    return Today(
        new=count(Ticket.created_at >= midnight),
        open=open_now,
        overdue=open_now - not_due,
        unassigned=count(is_open, Ticket.assignee_id.is_(None)),
        unseen=count(
            is_open,
            Ticket.assignee_id.is_(None),
            Ticket.created_at <= moment - timedelta(hours=triage_hours),
        ),
        mine=None if person_id is None else count(is_open, Ticket.assignee_id == person_id),
    )


def chart_data(
    db: Session,
    starts: list[datetime],
    topics: list[Share],
    grids: list[Share],
    community_id: int | None = None,
) -> dict[str, Any]:
    """What dashboard.js draws: the daily trend and the two breakdowns."""
    return {
        "days": [f"{d.month}/{d.day}" for d in starts[:-1]],
        "created": per_day(db, Ticket.created_at, starts, community_id),
        "resolved": per_day(db, Ticket.resolved_at, starts, community_id),
        "topics": _bars(topics, "topic"),
        "grids": _bars(grids, "grid"),
    }


def _bars(shares: list[Share], arg: str) -> list[dict[str, Any]]:
    """One bar per group, with the tickets list it opens (the unnamed group opens none)."""
    return [
        {
            "name": share.name,
            "tickets": share.tickets,
            "open": share.open,
            "url": None if share.id is None else f"/admin/tickets?{arg}={share.id}",
        }
        for share in shares
    ]

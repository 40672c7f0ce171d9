"""Staff management (ADMIN): a staff member's topics, grids and level; staff sign-up codes.

Both call the domain operations the CLI uses (`add_staff`, `issue_code`). Routes are
registered on the people blueprint (people.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole, Grid, Person, Role, Topic
from models.places import mask_openid
from models.staff import (
    CODE_TTL,
    LEVELS,
    StaffError,
    UnknownGrid,
    UnknownTopic,
    add_staff,
    issue_code,
    staff_assignment,
)

from . import people_texts as texts
from .access import current_scope, requires
from .common import now, ok, small_int, writing
from .scope import in_scope, scoped

Page = str | tuple[str, int] | Response


@dataclass
class Assignment:
    """What the staff form sends, read and checked."""

    name: str = ""
    level: int = 1
    topics: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    wecom: str = ""
    days: int = CODE_TTL.days
    errors: list[str] = field(default_factory=list)


def _choices(db: Session) -> tuple[list[tuple[str, bool]], list[str]]:
    """Every topic (name, enabled) and every grid name, for the checkboxes."""
    topics = [
        (t.name, t.enabled) for t in db.scalars(select(Topic).order_by(Topic.sort_order, Topic.id))
    ]
    # The account's community's grids only (a street account: every grid).
    grids = list(db.scalars(scoped(select(Grid.name), Grid.community_id).order_by(Grid.name)))
    return topics, grids


def _read_form(db: Session, *, with_days: bool) -> Assignment:
    form = request.form
    topics, grids = _choices(db)
    known_topics, known_grids = {name for name, _ in topics}, set(grids)
    got = Assignment(
        name=form.get("name", "").strip(),
        topics=form.getlist("topic"),
        grids=form.getlist("grid"),
        wecom=form.get("wecom", "").strip(),
    )
    if not got.name or len(got.name) > 32:
        got.errors.append(texts.NAME_REQUIRED)
    level = form.get("level", "")
    if small_int(level) in LEVELS:
        got.level = int(level)
    else:
        got.errors.append(texts.LEVEL_INVALID)
    got.errors += [texts.TOPIC_UNKNOWN.format(name=t) for t in got.topics if t not in known_topics]
    got.errors += [texts.GRID_UNKNOWN.format(name=g) for g in got.grids if g not in known_grids]
    if len(got.wecom) > 64 or any(c.isspace() for c in got.wecom):
        got.errors.append(texts.WECOM_INVALID)
    if with_days:
        days = form.get("days", "")
        if small_int(days, low=1, high=90) is not None:
            got.days = int(days)
        else:
            got.errors.append(texts.DAYS_INVALID)
    return got


def _form_page(template: str, db: Session, got: Assignment, **extra: object) -> str:
    topics, grids = _choices(db)
    return render_template(
        template, got=got, topics=topics, grids=grids, levels=texts.LEVEL_LABELS, **extra
    )


def _why(exc: StaffError) -> str:
    if isinstance(exc, UnknownTopic):
        return texts.TOPIC_UNKNOWN.format(name=exc.name)
    if isinstance(exc, UnknownGrid):
        return texts.GRID_UNKNOWN.format(name=exc.name)
    return texts.LEVEL_INVALID


def _staff_person(db: Session, person_id: int) -> Person | None:
    person = db.get(Person, person_id)
    if person is None or person.role < Role.STAFF:
        return None
    in_scope(person.community_id)  # another community's (or the street's) staff: 404
    return person


@requires(ConsoleRole.ADMIN)
def edit(person_id: int) -> Page:
    """A staff member's name, level, topics and grids (they replace the old ones)."""
    with writing() as db:
        person = _staff_person(db, person_id)
        if person is None:
            abort(404)
        extra = {"person": person, "masked": mask_openid(person.openid)}
        if request.method == "GET":
            topics, grids = staff_assignment(db, person.id)
            got = Assignment(
                person.name or "",
                person.staff_level or 1,
                topics,
                grids,
                person.wecom_user_id or "",
            )
            return _form_page("console/people_staff.html", db, got, **extra)
        got = _read_form(db, with_days=False)
        if got.errors:
            return _form_page("console/people_staff.html", db, got, **extra), 400
        try:
            add_staff(
                db,
                person.openid,
                got.name,
                got.topics,
                got.grids,
                got.wecom or None,
                got.level,
                now(),
                # An edit keeps them in their community (add_staff sets it).
                community_id=person.community_id,
            )
        except StaffError as exc:  # a topic or grid removed meanwhile
            got.errors.append(_why(exc))
            return _form_page("console/people_staff.html", db, got, **extra), 400
    ok(texts.STAFF_SAVED.format(name=got.name))
    return redirect(url_for(".index"), code=303)


@requires(ConsoleRole.ADMIN)
def issue() -> Page:
    """Issue a one-time code: whoever sends `员工 CODE` becomes this staff member.

    The code is shown once, in the answer to the POST (it is stored hashed).
    """
    with writing() as db:
        if request.method == "GET":
            return _form_page("console/people_code.html", db, Assignment())
        got = _read_form(db, with_days=True)
        if got.errors:
            return _form_page("console/people_code.html", db, got), 400
        try:
            code = issue_code(
                db,
                got.name,
                got.topics,
                got.grids,
                got.level,
                got.wecom or None,
                now(),
                timedelta(days=got.days),
                # A community admin's code makes staff of that community.
                community_id=current_scope().community_id,
            )
        except StaffError as exc:
            got.errors.append(_why(exc))
            return _form_page("console/people_code.html", db, got), 400
        expires = now() + timedelta(days=got.days)
        return _form_page("console/people_code.html", db, got, code=code, expires=expires)

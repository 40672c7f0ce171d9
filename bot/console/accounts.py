"""Console accounts (ADMIN, /admin/people/accounts): list, create, change role, link to staff.

A linked account acts as that staff member's WeChat identity, so what they do in the console
is recorded as theirs, as in chat. Passwords are hashed here (auth.hash_password); hashes are
never shown. Routes are registered on the people blueprint (people.py).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleRole, Person, Role
from models.accounts import (
    USERNAME_MAX,
    AccountError,
    LastAdmin,
    account_by_username,
    accounts_with_people,
    create_account,
    link_person,
    set_role,
)
from models.places import mask_openid
from models.staff import staff_members

from . import people_texts as texts
from .access import requires
from .auth import hash_password
from .common import now, ok, problem, reading, small_int, writing

PASSWORD_MIN = 8
PASSWORD_MAX = 256


def _page(db: Session, errors: list[str] | None = None, form: dict[str, str] | None = None) -> str:
    return render_template(
        "console/accounts.html",
        title="控制台账号",
        accounts=accounts_with_people(db),
        staff=staff_members(db),
        roles=texts.ROLE_LABELS,
        errors=errors or [],
        form=form or {},
        mask_openid=mask_openid,
    )


@requires(ConsoleRole.ADMIN)
def index() -> str:
    with reading() as db:
        return _page(db)


def _role(value: str) -> ConsoleRole | None:
    try:
        return ConsoleRole.parse(value) if value else None
    except ValueError:
        return None


class NotStaff(ValueError):
    """The choice is not a staff member."""


def _staff(db: Session, value: str) -> Person | None:
    """The staff member chosen ('' for none); NotStaff when the choice is not one."""
    if not value:
        return None
    number = small_int(value)
    person = db.get(Person, number) if number is not None else None
    if person is None or person.role < Role.STAFF:
        raise NotStaff(value)
    return person


@requires(ConsoleRole.ADMIN)
def create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in ("username", "role", "person")}
    username, password = form["username"].strip(), request.form.get("password", "")
    errors = []
    with writing() as db:
        if not username or len(username) > USERNAME_MAX or any(c.isspace() for c in username):
            errors.append(texts.USERNAME_INVALID)
        elif account_by_username(db, username) is not None:
            errors.append(texts.USERNAME_TAKEN.format(name=username))
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            errors.append(texts.PASSWORD_SHORT)
        role = _role(form["role"])
        if role is None:
            errors.append(texts.ROLE_INVALID)
        try:
            person = _staff(db, form["person"])
        except NotStaff:
            person = None
            errors.append(texts.STAFF_LINK_INVALID)
        if errors or role is None:
            return _page(db, errors, form), 400
        create_account(db, username, hash_password(password), role, now(), person)
    ok(texts.ACCOUNT_CREATED.format(name=username, role=texts.ROLE_LABELS[role.label]))
    return redirect(url_for(".accounts"), code=303)


@requires(ConsoleRole.ADMIN)
def role(account_id: int) -> Response:
    chosen = _role(request.form.get("role", ""))
    back = redirect(url_for(".accounts"), code=303)
    if chosen is None:
        problem(texts.ROLE_INVALID)
        return back
    try:
        with writing() as db:
            account = set_role(db, account_id, chosen)
            name = account.username
    except LastAdmin:
        problem(texts.LAST_ADMIN)
        return back
    except AccountError:
        problem(texts.ACCOUNT_UNKNOWN)
        return back
    ok(texts.ROLE_CHANGED.format(name=name, role=texts.ROLE_LABELS[chosen.label]))
    return back


@requires(ConsoleRole.ADMIN)
def link(account_id: int) -> Response:
    back = redirect(url_for(".accounts"), code=303)
    with writing() as db:
        try:
            person = _staff(db, request.form.get("person", ""))
        except NotStaff:
            problem(texts.STAFF_LINK_INVALID)
            return back
        try:
            account = link_person(db, account_id, person.id if person else None)
        except AccountError:
            problem(texts.ACCOUNT_UNKNOWN)
            return back
        name = account.username
        who = (person.name or mask_openid(person.openid)) if person else None
    ok(texts.LINKED.format(name=name, person=who) if who else texts.UNLINKED.format(name=name))
    return back

"""Console accounts (ADMIN, /admin/people/accounts): list, create, change role, link to staff,
and (street admins) the community an account works in.

A linked account acts as that staff member's WeChat identity, so what they do in the console
is recorded as theirs, as in chat. Passwords are hashed here (auth.hash_password); hashes are
never shown. A community's admin sees and manages its community's accounts only, and every
account they make is of their community; a street admin makes and changes accounts of any
community, or street accounts (no community: every community). Routes are registered on the
people blueprint (people.py).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from models import ConsoleAccount, ConsoleRole, Person, Role
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
from models.communities import community_names
from models.places import mask_openid

from . import people_texts as texts
from .access import current_scope, requires
from .auth import hash_password
from .common import now, ok, problem, reading, small_int, writing
from .scope import (
    NoCommunity,
    assigned_community,
    communities_shown,
    in_scope,
    staff_in_scope,
    street_only,
)

PASSWORD_MIN = 8
PASSWORD_MAX = 256


def _page(db: Session, errors: list[str] | None = None, form: dict[str, str] | None = None) -> str:
    scope = current_scope()
    accounts = [
        (account, person)
        for account, person in accounts_with_people(db)
        if scope.street or account.community_id == scope.community_id
    ]
    return render_template(
        "console/accounts.html",
        title="控制台账号",
        accounts=accounts,
        staff=staff_in_scope(db),
        roles=texts.ROLE_LABELS,
        # A street admin sees and chooses every account's community; a community's admin
        # works within its own.
        communities=communities_shown(db),
        street_label=texts.STREET_ACCOUNT,
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
    """The staff member chosen ('' for none); NotStaff when the choice is not one (or is
    another community's: a community admin links its own staff only)."""
    if not value:
        return None
    number = small_int(value)
    person = db.get(Person, number) if number is not None else None
    if person is None or person.role < Role.STAFF:
        raise NotStaff(value)
    scope = current_scope()
    if not scope.street and person.community_id != scope.community_id:
        raise NotStaff(value)
    return person


def _account_in_scope(db: Session, account_id: int) -> None:
    """Another community's account (or, for a community admin, a street account): 404."""
    account = db.get(ConsoleAccount, account_id)
    if account is None:
        return  # the domain says "no such account", as before
    in_scope(account.community_id)


@requires(ConsoleRole.ADMIN)
def create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in ("username", "role", "person", "community")}
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
        try:
            community_id = assigned_community(db, form["community"])
        except NoCommunity:
            community_id = None
            errors.append(texts.COMMUNITY_INVALID)
        if errors or role is None:
            return _page(db, errors, form), 400
        password_hash = hash_password(password)
        create_account(db, username, password_hash, role, now(), person, community_id)
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
            _account_in_scope(db, account_id)
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
        _account_in_scope(db, account_id)
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


@requires(ConsoleRole.ADMIN)
@street_only
def community(account_id: int) -> Response:
    """Move an account to a community, or make it a street account (street admins only)."""
    back = redirect(url_for(".accounts"), code=303)
    with writing() as db:
        account = db.get(ConsoleAccount, account_id)
        if account is None:
            problem(texts.ACCOUNT_UNKNOWN)
            return back
        try:
            account.community_id = assigned_community(db, request.form.get("community", ""))
        except NoCommunity:
            problem(texts.COMMUNITY_INVALID)
            return back
        name = account.username
        where = community_names(db).get(account.community_id or 0, texts.STREET_ACCOUNT)
    ok(texts.COMMUNITY_CHANGED.format(name=name, community=where))
    return back

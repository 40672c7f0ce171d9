"""`/admin/login` and `/admin/logout`: passwords hashed with scrypt, failures throttled per
username and per address in the database (so every process counts the same attempts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import ConsoleAccount, ConsoleRole, Person
from models.accounts import (
    account_by_username,
    clear_failures,
    end_session,
    recent_failures,
    record_failure,
    start_session,
)

from ..extension import yishiting
from .access import ConsoleUser, guard, login_manager, public, requires, user_for

bp = Blueprint(
    "console_auth",
    __name__,
    url_prefix="/admin",
    static_folder="static",
    static_url_path="/static",
    template_folder="templates",
)
bp.before_request(guard)

THROTTLE_WINDOW = timedelta(minutes=15)
# Guesses at one account from one address; from one address at any account; and at one account
# from everywhere. The last slows a guesser spread over many addresses to one try from each
# new one, but never refuses an address that has not failed itself: guessing elsewhere
# cannot lock the real admin out.
MAX_FAILURES_PER_PAIR = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_USERNAME = 100
# Checked when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password")


def hash_password(password: str) -> str:
    """A modern KDF (scrypt), salted; what the accounts table stores."""
    return generate_password_hash(password, method="scrypt")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never redirect a person to another host after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console_dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        outcome = _attempt(form.username.data or "", form.password.data or "")
        if isinstance(outcome, ConsoleUser):
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(outcome)
            return redirect(_safe_next(request.args.get("next")), code=303)
        error, status = outcome
    elif request.method == "POST":
        error, status = "请填写用户名和密码。", 400
    return render_template("console/login.html", form=form, error=error), status


def _attempt(username: str, password: str) -> ConsoleUser | tuple[str, int]:
    """Check a login. The attempt is counted as a failure before the password is checked (so
    parallel guesses cannot slip past the limit) and the ~0.1 s scrypt check runs outside any
    transaction: on SQLite a write transaction held across it queues every other writer, the
    webhook's too, behind each guess."""
    ys = yishiting(current_app)
    now = datetime.now(UTC)
    address = request.remote_addr or "-"
    with ys.db.session() as db:
        counts = recent_failures(db, username, address, now - THROTTLE_WINDOW)
        if (
            counts.pair >= MAX_FAILURES_PER_PAIR
            or counts.address >= MAX_FAILURES_PER_ADDRESS
            or (counts.username >= MAX_FAILURES_PER_USERNAME and counts.pair > 0)
        ):
            minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
            return f"登录失败次数过多，请 {minutes} 分钟后再试。", 429
        record_failure(db, username, address, now)
        account = account_by_username(db, username)
        account_id = account.id if account else None
        stored = account.password_hash if account else _DUMMY_HASH
    if not check_password_hash(stored, password) or account_id is None:
        current_app.logger.warning("console: failed login for %r from %s", username, address)
        return "用户名或密码不正确。", 401
    with ys.db.session() as db:
        clear_failures(db, username, address)
        signed_in = db.get(ConsoleAccount, account_id)
        if signed_in is None or signed_in.password_hash != stored:
            return "用户名或密码不正确。", 401  # deleted or given a new password meanwhile
        signed_in.last_login_at = now
        person = db.get(Person, signed_in.person_id) if signed_in.person_id else None
        return user_for(signed_in, person, start_session(db, signed_in.id, now))


@bp.route("/csrf-token")
@public
def csrf_token() -> Response:
    """This session's CSRF token, for a page whose token went stale when a login (in another
    tab) started a new session. Same-origin only: other sites cannot read the answer."""
    return jsonify(token=generate_csrf())


@bp.route("/logout", methods=["POST"])
@requires(ConsoleRole.VIEWER)
def logout() -> Response:
    end_session_of(current_user)
    logout_user()
    session.clear()
    return redirect(url_for("console_auth.login"), code=303)


def end_session_of(user: ConsoleUser) -> None:
    """End the session on the server: its cookie, wherever it was copied to, opens nothing."""
    with yishiting(current_app).db.session() as db:
        end_session(db, user.session_token)


__all__ = ["bp", "hash_password", "login_manager"]

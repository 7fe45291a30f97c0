"""Signing in and out, changing one's password, and the rules that end a session.

A session cookie carries the user's id, the account's ``session_version``, when the user
signed in and when they were last seen. It stops working when:
- the user logs out, changes their password, or is deactivated: each bumps the version, so
  every copy of every cookie issued before (a stolen one too) stops working at once;
- it has been idle longer than ``web.session_idle_minutes``;
- it is older than ``web.session_max_hours``, however active.
Failed sign-ins get one answer whether or not the address belongs to a user, and are slowed
by growing delays per e-mail address typed and network address together, with a looser limit
per network address (:mod:`scheduler.accounts.login_throttle`): never a lockout of the
account from everywhere. The failures are
rows in the database, committed although the sign-in fails, so every worker process counts
the same ones and a restart forgets none; their keys are HMACs under the app's secret key.
The network address is ``request.remote_addr``: the connection's, or, with ``web.proxy_hops``
set, the client's as the reverse proxy reports it (see :func:`web.create_app`).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from werkzeug.wrappers import Response

from scheduler import audit, clock, models, records
from scheduler.accounts import login_throttle, totp
from scheduler.accounts.passwords import hash_password, needs_rehash, verify_password
from scheduler.accounts.users import find_user
from scheduler.records.validation import ValidationError
from web import offline
from web.database import audit_db, db, runtime
from web.redirects import on_site_path

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

BAD_LOGIN = "That e-mail address and password do not match an active account."


class User(UserMixin):
    """The signed-in therapist, as Flask-Login sees them."""

    def __init__(self, therapist: models.Therapist) -> None:
        self.therapist = therapist
        self.id = therapist.id

    @property
    def is_admin(self) -> bool:
        return self.therapist.role == models.Role.ADMIN

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.therapist.id, "web")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    settings = runtime_settings(app)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=settings.web.session_max_hours)
    app.before_request(_enforce_session_limits)
    app.before_request(_enforce_two_factor_enrolment)


def runtime_settings(app: Flask) -> Any:
    return app.extensions["rounds"].settings


def _load_user(user_id: str) -> User | None:
    try:
        therapist = db().get(models.Therapist, int(user_id))
    except ValueError:
        return None
    if therapist is None or not therapist.active:
        return None
    if session.get("sv") != therapist.session_version:
        return None  # logged out elsewhere, password changed, or deactivated since
    return User(therapist)


def _enforce_session_limits() -> None:
    """End a session that has been idle or alive too long; note activity otherwise."""
    if "_user_id" not in session:
        return
    web = runtime().settings.web
    now = int(time.time())
    signed_in, seen = session.get("iat", 0), session.get("seen", 0)
    if now - seen > web.session_idle_minutes * 60 or now - signed_in > web.session_max_hours * 3600:
        session.clear()
        flash("Your session ended; please sign in again.", "info")
        return
    if now - seen >= 30:  # write the cookie at most twice a minute
        session["seen"] = now


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the login form cannot redirect to another site."""
    return on_site_path(target) or url_for("day.home")


def _throttle_limits() -> login_throttle.Limits:
    web = runtime().settings.web
    return login_throttle.Limits(free=web.login_failures_before_delay,
                                 max_delay=timedelta(seconds=web.login_max_delay_seconds),
                                 per_address=web.login_failures_per_address,
                                 window=timedelta(minutes=web.login_window_minutes))


def _throttle_keys() -> login_throttle.Keys:
    """Keyed by the app's secret key as resolved at start-up (the demo's generated one too)."""
    secret = current_app.secret_key
    if not secret:  # the app factory refuses to start without one
        raise RuntimeError("the app has no secret key")
    return login_throttle.Keys(secret)


def start_session(therapist: models.Therapist) -> None:
    session.clear()  # a fresh session: nothing from before sign-in survives (fixation)
    session.permanent = True
    login_user(User(therapist))
    now = int(time.time())
    session["sv"] = therapist.session_version
    session["iat"] = now
    session["seen"] = now


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("auth/login.html", email="", error=None)
    email = request.form.get("email", "").strip().lower()[:254]
    password = request.form.get("password", "")[:1024]
    address = request.remote_addr or "?"
    now, keys, limits = clock.utcnow(), _throttle_keys(), _throttle_limits()
    wait = login_throttle.retry_after(db(), keys, email, address, now, limits)
    if wait:
        return _throttled("auth/login.html", wait, email=email)
    therapist = find_user(db(), email) if email else None
    ok = verify_password(therapist.password_hash if therapist else None, password)
    if not ok or therapist is None or not therapist.active:
        # Both rows must outlive the 401 (whose transaction rolls back): commit them here.
        login_throttle.record_failure(audit_db(), keys, email, address, now, limits)
        audit.record(audit_db(), audit.Actor(None, "login"), "login_failed", "therapist",
                     therapist.id if therapist else None)
        audit_db().commit()
        return render_template("auth/login.html", email=email, error=BAD_LOGIN), 401
    if therapist.password_hash and needs_rehash(therapist.password_hash):
        therapist.password_hash = hash_password(password)
    if therapist.totp_enabled:
        # Half signed in: the code comes next. The pair's failures are cleared only then, and
        # wrong codes count as failures, so the code cannot be guessed faster than a password.
        session.clear()
        session[PENDING] = {"id": therapist.id, "sv": therapist.session_version,
                            "at": int(now.timestamp()),
                            "next": _safe_next(request.args.get("next"))}
        return redirect(url_for("auth.code"))
    login_throttle.record_success(db(), keys, email, address, now, limits)
    return _signed_in(therapist, _safe_next(request.args.get("next")))


def _signed_in(therapist: models.Therapist, target: str) -> Response:
    start_session(therapist)
    audit.record(audit_db(), audit.Actor(therapist.id, "web"), "login", "therapist", therapist.id)
    if totp.must_enrol(therapist, runtime().settings.web.totp_required_for_admins):
        flash("The practice requires two-factor sign-in for admins: set it up to go on.",
              "info")
        return redirect(url_for("account.account"))
    return redirect(target)


PENDING = "pending_2fa"
PENDING_SECONDS = 300  # the code must follow the password within five minutes

BAD_CODE = "That code is not right, or it has been used already. Type the code your app shows now."


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> Any:
    """The second step of a two-factor sign-in: the code from the authenticator app."""
    now = clock.utcnow()
    therapist = _pending_therapist(now)
    if therapist is None:
        session.pop(PENDING, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/code.html", error=None)
    address = request.remote_addr or "?"
    keys, limits = _throttle_keys(), _throttle_limits()
    wait = login_throttle.retry_after(db(), keys, therapist.email, address, now, limits)
    if wait:
        return _throttled("auth/code.html", wait)
    if not totp.accept_code(therapist, request.form.get("code", "")[:32], now):
        login_throttle.record_failure(audit_db(), keys, therapist.email, address, now, limits)
        audit.record(audit_db(), audit.Actor(None, "login"), "login_failed", "therapist",
                     therapist.id)
        audit_db().commit()
        return render_template("auth/code.html", error=BAD_CODE), 401
    login_throttle.record_success(db(), keys, therapist.email, address, now, limits)
    target = session[PENDING]["next"]
    return _signed_in(therapist, _safe_next(target))


def _pending_therapist(now: datetime) -> models.Therapist | None:
    """The user whose password was right a moment ago, if still active and unchanged."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or now.timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    therapist = db().get(models.Therapist, pending.get("id", -1))
    if (therapist is None or not therapist.active or not therapist.totp_enabled
            or therapist.session_version != pending.get("sv")):
        return None
    return therapist


# Where an admin who must set up two-factor sign-in may still go.
ENROLMENT_ENDPOINTS = frozenset({
    "account.account", "account.two_factor_begin", "account.two_factor_confirm",
    "auth.logout", "auth.login", "auth.code", "static", "assets.leaflet_file", "health.healthz",
    "offline.manifest", "offline.service_worker",
})


def _enforce_two_factor_enrolment() -> Response | None:
    """An admin of a practice that requires two-factor sign-in, signed in without it, is sent
    to set it up (pages only: the API ignores cookies and takes tokens)."""
    if "_user_id" not in session or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.blueprint and request.blueprint.startswith("api"):
        return None
    if not current_user.is_authenticated:
        return None
    if totp.must_enrol(current_user.therapist, runtime().settings.web.totp_required_for_admins):
        flash("The practice requires two-factor sign-in for admins: set it up to go on.",
              "info")
        return redirect(url_for("account.account"))
    return None


def _throttled(template: str, wait: int, **context: Any) -> Any:
    """The answer to an attempt made before its delay is over: 429, with the wait in words
    and in ``Retry-After``."""
    error = f"Too many failed attempts. Try again in {wait_in_words(wait)}."
    response = make_response(render_template(template, error=error, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def wait_in_words(seconds: int) -> str:
    """"1 second", "45 seconds", "3 minutes" (rounded up past two minutes)."""
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{(seconds + 59) // 60} minutes"


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out: every session of this account ends, copies of the cookie included, and the
    phone drops the day pages it kept for use offline (:func:`web.offline.clear_site_data`)."""
    therapist = current_user.therapist
    records.end_sessions(therapist)
    audit.record(audit_db(), current_user.actor, "logout", "therapist", therapist.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return offline.clear_site_data(redirect(url_for("auth.login")))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's own password; other sessions of the account end, this one goes on."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    therapist = current_user.therapist
    errors: dict[str, list[str]] = {}
    if not verify_password(therapist.password_hash, request.form.get("current", "")):
        errors["current"] = ["is not your current password"]
    new = request.form.get("new", "")
    if new != request.form.get("confirm", ""):
        errors["confirm"] = ["does not match the new password"]
    if not errors:
        try:
            records.change_password(db(), current_user.actor, therapist, new)
        except ValidationError as error:
            errors = {"new": error.by_field().get("password", [str(error)])}
    if errors:
        db().rollback()
        return render_template("auth/password.html", errors=errors), 422
    start_session(therapist)
    flash("Your password is changed. Other devices must sign in again.", "info")
    return redirect(url_for("account.account"))


def admin_required() -> None:
    """Abort with 403 unless an admin is signed in (call inside a login_required view)."""
    if not current_user.is_admin:
        abort(403)


def current_therapist() -> models.Therapist:
    return g.get("api_user_therapist") or current_user.therapist

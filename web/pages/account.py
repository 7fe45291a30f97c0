"""The signed-in user's own account: password, two-factor sign-in, calendar feed address, API
tokens."""

from __future__ import annotations

import secrets
from typing import Any

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler import audit, clock
from scheduler.accounts import totp
from scheduler.accounts.tokens import issue_token, revoke_token, token_of, tokens_of
from web.access import found
from web.database import audit_db, db, runtime
from web.pages import actor, me, signed_in

bp = Blueprint("account", __name__)
signed_in(bp)


@bp.route("/account")
def account() -> str:
    """Who I am, my calendar feed and my API tokens."""
    return _account_page(new_token=None)


def _account_page(new_token: str | None, errors: dict[str, list[str]] | None = None) -> str:
    therapist = me()
    tokens = tokens_of(db(), therapist.id)
    feed_url = (url_for("feeds.calendar", token=therapist.calendar_token, _external=True)
                if therapist.calendar_token else None)
    required = _required_for_admins()
    return render_template("pages/account.html", therapist=therapist, tokens=tokens,
                           feed_url=feed_url, new_token=new_token,
                           must_enrol=totp.must_enrol(therapist, required),
                           may_disable=totp.may_disable(therapist, required),
                           errors=errors or {})


def _required_for_admins() -> bool:
    return bool(runtime().settings.web.totp_required_for_admins)


@bp.route("/account/two-factor", methods=["POST"])
def two_factor_begin() -> Any:
    """Start setting up two-factor sign-in: a new secret, shown in this answer (like a new
    token, never through the session), with the code to confirm it."""
    therapist = me()
    if therapist.totp_enabled:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("account.account"))
    totp.begin_enrolment(therapist)
    audit.record(audit_db(), actor(), "update", "therapist", therapist.id, ("totp_secret",))
    return _two_factor_page(error=None)


@bp.route("/account/two-factor/confirm", methods=["POST"])
def two_factor_confirm() -> Any:
    """Turn two-factor sign-in on with the first code the app shows."""
    therapist = me()
    if therapist.totp_enabled or not therapist.totp_secret:
        return redirect(url_for("account.account"))
    if not totp.confirm_enrolment(therapist, request.form.get("code", "")[:32], clock.utcnow()):
        return _two_factor_page(error="is not the code your app shows now; try the next one"), 422
    audit.record(audit_db(), actor(), "update", "therapist", therapist.id, ("totp_enabled",))
    flash("Two-factor sign-in is on: sign-in will ask for a code from your app.", "success")
    return redirect(url_for("account.account"))


@bp.route("/account/two-factor/disable", methods=["POST"])
def two_factor_disable() -> Any:
    """Turn two-factor sign-in off, with a current code (not allowed for admins when the
    practice requires it)."""
    therapist = me()
    if not therapist.totp_enabled:
        return redirect(url_for("account.account"))
    if not totp.may_disable(therapist, _required_for_admins()):
        return _account_page(None, {"code": [
            "two-factor sign-in is required for admins in this practice"]}), 422
    if not totp.accept_code(therapist, request.form.get("code", "")[:32], clock.utcnow()):
        return _account_page(None, {"code": ["is not the code your app shows now"]}), 422
    totp.disable(therapist)
    audit.record(audit_db(), actor(), "update", "therapist", therapist.id, ("totp_enabled",))
    flash("Two-factor sign-in is off.", "success")
    return redirect(url_for("account.account"))


def _two_factor_page(error: str | None) -> str:
    therapist = me()
    uri = totp.provisioning_uri(therapist, runtime().settings.practice.name)
    qr = segno.make(uri, error="m").svg_inline(scale=4, title="QR code of the address")
    return render_template("pages/two_factor.html", secret=therapist.totp_secret, uri=uri,
                           qr=qr, errors={"code": [error]} if error else {})


@bp.route("/account/calendar", methods=["POST"])
def calendar_feed() -> Any:
    """Create or replace my calendar feed's secret address, or turn the feed off."""
    therapist = me()
    if request.form.get("action") == "revoke":
        therapist.calendar_token = None
        flash("The calendar feed is off; the old address no longer works.", "success")
    else:
        therapist.calendar_token = secrets.token_urlsafe(32)
        flash("A new calendar feed address is ready; any old address no longer works.",
              "success")
    audit.record(audit_db(), actor(), "update", "therapist", therapist.id, ("calendar_token",))
    return redirect(url_for("account.account"))


@bp.route("/account/tokens", methods=["POST"])
def token_new() -> Any:
    """Issue an API token; its secret is shown once, in this very response.

    Rendered here rather than redirected to, so the secret never rides in the session cookie
    (signed, not encrypted: readable by anything that sees the cookie) or in any later page;
    every page is sent with ``Cache-Control: no-store`` (:mod:`web.security`), so no cache
    keeps it either. Reloading would re-post the form and make another token, not show this one.
    """
    name = request.form.get("name", "").strip() or "API token"
    row, secret = issue_token(db(), me(), name, clock.utcnow())
    audit.record(audit_db(), actor(), "create", "api_token", row.id)
    db().flush()
    return _account_page(new_token=secret)


@bp.route("/account/tokens/<id:token_id>/revoke", methods=["POST"])
def token_revoke(token_id: int) -> Any:
    """Revoke one of my API tokens."""
    row = found(token_of(db(), me().id, token_id))
    revoke_token(row, clock.utcnow())
    audit.record(audit_db(), actor(), "delete", "api_token", row.id)
    flash("The token is revoked.", "success")
    return redirect(url_for("account.account"))

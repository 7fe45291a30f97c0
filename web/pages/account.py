"""The signed-in user's own account: password, calendar feed address, API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler import audit, clock
from scheduler.accounts.tokens import issue_token, revoke_token, token_of, tokens_of
from web.access import found
from web.database import audit_db, db
from web.pages import actor, me, signed_in

bp = Blueprint("account", __name__)
signed_in(bp)


@bp.route("/account")
def account() -> str:
    """Who I am, my calendar feed and my API tokens."""
    return _account_page(new_token=None)


def _account_page(new_token: str | None) -> str:
    therapist = me()
    tokens = tokens_of(db(), therapist.id)
    feed_url = (url_for("feeds.calendar", token=therapist.calendar_token, _external=True)
                if therapist.calendar_token else None)
    return render_template("pages/account.html", therapist=therapist, tokens=tokens,
                           feed_url=feed_url, new_token=new_token)


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

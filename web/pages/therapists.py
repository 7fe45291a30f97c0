"""Therapists (the practice's users): home base, hours, break, skills, e-mail time (admin)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler import audit, models, records
from scheduler.accounts import totp
from scheduler.records import lists
from web.access import therapist_or_404
from web.auth import admin_required
from web.database import audit_db, db
from web.pages import actor, attempt, me, signed_in
from web.pages import forms as f
from web.pages.conflicts import (
    ConflictView,
    attempt_edit,
    conflicted_form,
    opened,
    version_of,
)
from web.pages.forms import FormState

bp = Blueprint("therapists", __name__)
signed_in(bp)

LABELS = {"name": "Name", "email": "E-mail", "role": "Role", "active": "Active",
          "password": "Password", "home_address": "Home base", "home_lat": "Latitude",
          "home_lon": "Longitude", "skills": "Skills", "shifts": "Working hours",
          "break_start": "Break from", "break_end": "Break by", "break_minutes": "Break length",
          "max_visits_per_day": "Visits a day at most",
          "max_hands_on_minutes": "Hands-on minutes a day at most",
          "email_time": "Itinerary e-mail at", "email_weekdays": "Itinerary e-mail on"}
ROLES = [("therapist", "Therapist"), ("admin", "Admin (sees the whole practice)")]


def _data(form: Any) -> dict[str, Any]:
    data = {
        "name": f.text(form, "name"), "email": f.text(form, "email"),
        "role": f.text(form, "role"), "active": f.flag(form, "active"),
        "home_address": f.text(form, "home_address"),
        "home_lat": f.optional(form, "home_lat"), "home_lon": f.optional(form, "home_lon"),
        "skills": f.words(form, "skills"), "shifts": f.weekly(form, "shifts"),
        "break_start": f.optional(form, "break_start"),
        "break_end": f.optional(form, "break_end"),
        "break_minutes": f.whole(form, "break_minutes") or 0,
        "max_visits_per_day": f.whole(form, "max_visits_per_day"),
        "max_hands_on_minutes": f.whole(form, "max_hands_on_minutes"),
        "email_time": f.optional(form, "email_time"),
        "email_weekdays": form.getlist("email_weekdays"),
    }
    if form.get("password"):
        data["password"] = form.get("password")
    return data


def _values(therapist: models.Therapist) -> dict[str, Any]:
    values = {name: getattr(therapist, name) for name in (
        "name", "email", "active", "home_address", "home_lat", "home_lon", "break_minutes",
        "max_visits_per_day", "max_hands_on_minutes")}
    values.update(role=therapist.role.value, skills=", ".join(therapist.skills),
                  break_start=f.hhmm(therapist.break_start),
                  break_end=f.hhmm(therapist.break_end),
                  email_time=f.hhmm(therapist.email_time),
                  email_weekdays=list(therapist.email_weekdays))
    values.update(f.weekly_values(therapist.shifts, "shifts", "start", "end"))
    return {k: ("" if v is None else v) for k, v in values.items()}


def _form(form: FormState, therapist: models.Therapist | None, status: int = 200,
          conflict: ConflictView | None = None) -> Any:
    return render_template("records/therapist_form.html", form=form, therapist=therapist,
                           roles=ROLES, conflict=conflict), status


@bp.route("/therapists")
def therapists() -> str:
    """Every therapist (admin)."""
    admin_required()
    rows = lists.therapists(db())
    return render_template("records/therapists.html", therapists=rows)


@bp.route("/therapists/<id:therapist_id>")
def therapist(therapist_id: int) -> Any:
    """One therapist (admin, or the therapist themself)."""
    from web.pages.time_off import therapist_page

    return therapist_page(therapist_or_404(db(), me(), therapist_id))


@bp.route("/therapists/<id:therapist_id>/two-factor/reset", methods=["POST"])
def two_factor_reset(therapist_id: int) -> Any:
    """Turn off a user's two-factor sign-in, for one who lost their phone (admin). Their
    sessions end; they sign in with the password alone and may set it up again (an admin of a
    practice that requires it is sent to do so)."""
    admin_required()
    therapist = therapist_or_404(db(), me(), therapist_id)
    totp.disable(therapist)
    records.end_sessions(therapist)
    audit.record(audit_db(), actor(), "update", "therapist", therapist.id, ("totp_enabled",))
    flash(f"Two-factor sign-in is off for {therapist.name}.", "success")
    return redirect(url_for("therapists.therapist", therapist_id=therapist.id))


@bp.route("/therapists/new", methods=["GET", "POST"])
def therapist_new() -> Any:
    """Add a therapist, who can sign in once given a password (admin)."""
    admin_required()
    if request.method == "GET":
        return _form(FormState({"role": "therapist", "active": True, "break_minutes": 30},
                               labels=LABELS), None)
    saved, error = attempt(lambda: records.create_therapist(db(), actor(), _data(request.form)))
    if error:
        return _form(FormState.rejected(_without_password(request.form), error, LABELS),
                     None, 422)
    assert saved is not None
    flash("Therapist added.", "success")
    return redirect(url_for("therapists.therapist", therapist_id=saved.id))


@bp.route("/therapists/<id:therapist_id>/edit", methods=["GET", "POST"])
def therapist_edit(therapist_id: int) -> Any:
    """Change a therapist (admin). A new password, role or deactivation ends their sessions."""
    admin_required()
    record = therapist_or_404(db(), me(), therapist_id)
    if request.method == "GET":
        return _form(FormState(opened(_values(record), record.version), labels=LABELS),
                     record)
    data = {**_data(request.form), **version_of(request.form)}
    _, error, conflict = attempt_edit(lambda: records.update_therapist(db(), actor(), record,
                                                                       data))
    if conflict:
        record = therapist_or_404(db(), me(), therapist_id)
        form, box = conflicted_form(_without_password(request.form), record, _values(record),
                                    conflict, LABELS, {"role": ROLES})
        return _form(form, record, 409, box)
    if error:
        return _form(FormState.rejected(_without_password(request.form), error, LABELS),
                     therapist_or_404(db(), me(), therapist_id), 422)
    flash("Therapist saved.", "success")
    return redirect(url_for("therapists.therapist", therapist_id=therapist_id))


def _without_password(form: Any) -> Any:
    """A rejected form is shown again with everything typed except the password."""
    copy = form.copy()
    copy.pop("password", None)
    return copy

"""Time off on the therapist's page, and the practice's closures (admin).

A therapist manages their own time off; an admin anyone's, and the closures. Someone else's
time off answers 404, as the rest of a therapist's record does (see :mod:`web.access`).
Saving goes through :mod:`scheduler.time_off`; a rejected form is shown again with what was
typed and each message beside its field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from scheduler import models
from scheduler.calendar import time_off
from scheduler.records import time_off as time_off_records
from web.access import found, is_admin, therapist_or_404
from web.auth import admin_required
from web.database import db
from web.pages import actor, attempt, me, signed_in
from web.pages import forms as f
from web.pages.forms import FormState

bp = Blueprint("time_off", __name__)
signed_in(bp)

LABELS = {"first_day": "First day", "last_day": "Last day", "reason": "Reason",
          "therapist_id": "Therapist"}


def _data(form: Any) -> dict[str, Any]:
    return {name: f.text(form, name) for name in time_off_records.FIELDS}


def therapist_page(record: models.Therapist, form: FormState | None = None,
                   status: int = 200) -> Any:
    """The therapist's record page with their time off and the form to add some."""
    return render_template(
        "records/therapist.html", therapist=record,
        time_off=time_off.listed(db(), record.id),
        time_off_form=form or FormState(labels=LABELS),
    ), status


@bp.route("/therapists/<id:therapist_id>/time-off", methods=["POST"])
def time_off_add(therapist_id: int) -> Any:
    """Add time off for a therapist (admin, or the therapist themself)."""
    record = therapist_or_404(db(), me(), therapist_id)
    _, error = attempt(lambda: time_off_records.add(db(), actor(), record.id, _data(request.form)))
    if error:
        form = FormState.rejected(request.form, error, LABELS)
        return therapist_page(therapist_or_404(db(), me(), therapist_id), form, 422)
    flash("Time off added. Re-plan the days it covers if they were planned.", "success")
    return redirect(url_for("therapists.therapist", therapist_id=therapist_id) + "#time-off")


@bp.route("/time-off/<id:entry_id>/delete", methods=["POST"])
def time_off_delete(entry_id: int) -> Any:
    """Remove time off (the therapist's own, or any and the closures for an admin)."""
    entry = found(db().get(models.TimeOff, entry_id))
    if entry.therapist_id is None:
        if not is_admin(me()):
            abort(404)
        back = url_for("time_off.closures")
    else:
        therapist_or_404(db(), me(), entry.therapist_id)
        back = url_for("therapists.therapist", therapist_id=entry.therapist_id) + "#time-off"
    time_off_records.remove(db(), actor(), entry)
    flash("Time off removed.", "success")
    return redirect(back)


def _closures_page(form: FormState | None = None, status: int = 200) -> Any:
    return render_template("records/closures.html", closures=time_off.listed(db(), None),
                           form=form or FormState(labels=LABELS)), status


@bp.route("/closures", methods=["GET", "POST"])
def closures() -> Any:
    """Days the whole practice is closed (admin): nobody works, no itinerary goes out."""
    admin_required()
    if request.method == "GET":
        return _closures_page()
    _, error = attempt(lambda: time_off_records.add(db(), actor(), None, _data(request.form)))
    if error:
        return _closures_page(FormState.rejected(request.form, error, LABELS), 422)
    flash("Closure added. Re-plan the days it covers if they were planned.", "success")
    return redirect(url_for("time_off.closures"))

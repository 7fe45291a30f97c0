"""Facilities: hospitals, nursing homes, clinics and homes, with hours, overhead and notes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from scheduler import models, records
from scheduler.records import lists
from scheduler.travel.geocoding import GeocodingError, geocode_facility, make_geocoder
from web.access import facility_or_404
from web.auth import admin_required
from web.database import db, runtime
from web.pages import actor, attempt, signed_in
from web.pages import forms as f
from web.pages.conflicts import attempt_edit, conflicted_form, opened, version_of
from web.pages.forms import FormState

bp = Blueprint("facilities", __name__)
signed_in(bp)

LABELS = {"name": "Name", "kind": "Kind", "address": "Address", "lat": "Latitude",
          "lon": "Longitude", "overhead_minutes": "Arrival overhead", "hours": "Visiting hours",
          "parking_notes": "Parking", "infection_control": "Infection control",
          "notes": "Notes"}
KINDS = [(kind.value, kind.value.replace("_", " ").capitalize()) for kind in models.FacilityKind]


def _data(form: Any) -> dict[str, Any]:
    return {
        "name": f.text(form, "name"), "kind": f.text(form, "kind"),
        "address": f.text(form, "address"),
        "lat": f.optional(form, "lat"), "lon": f.optional(form, "lon"),
        "overhead_minutes": f.whole(form, "overhead_minutes") or 0,
        "parking_notes": f.text(form, "parking_notes"),
        "infection_control": f.text(form, "infection_control"),
        "notes": f.text(form, "notes"),
        "hours": f.weekly(form, "hours"),
    }


def _values(facility: models.Facility) -> dict[str, Any]:
    values = {name: getattr(facility, name) for name in (
        "name", "address", "lat", "lon", "overhead_minutes", "parking_notes",
        "infection_control", "notes")}
    values["kind"] = facility.kind.value
    values.update(f.weekly_values(facility.hours, "hours", "open", "close"))
    return values


@bp.route("/facilities")
def facilities() -> str:
    """All facilities."""
    rows = lists.facilities(db())
    return render_template("records/facilities.html", facilities=rows)


@bp.route("/facilities/<id:facility_id>")
def facility(facility_id: int) -> str:
    """One facility."""
    return render_template("records/facility.html", facility=facility_or_404(db(), facility_id))


@bp.route("/facilities/new", methods=["GET", "POST"])
def facility_new() -> Any:
    """Add a facility (admin)."""
    admin_required()
    if request.method == "GET":
        form = FormState({"kind": "hospital", "overhead_minutes": 10}, labels=LABELS)
        return render_template("records/facility_form.html", form=form, facility=None, kinds=KINDS)
    saved, error = attempt(lambda: records.create_facility(db(), actor(), _data(request.form)))
    if error:
        form = FormState.rejected(request.form, error, LABELS)
        return render_template("records/facility_form.html", form=form, facility=None,
                               kinds=KINDS), 422
    assert saved is not None
    flash("Facility added.", "success")
    return redirect(url_for("facilities.facility", facility_id=saved.id))


@bp.route("/facilities/<id:facility_id>/edit", methods=["GET", "POST"])
def facility_edit(facility_id: int) -> Any:
    """Change a facility (admin)."""
    admin_required()
    facility = facility_or_404(db(), facility_id)
    if request.method == "GET":
        form = FormState(opened(_values(facility), facility.version), labels=LABELS)
        return render_template("records/facility_form.html", form=form, facility=facility,
                               kinds=KINDS)
    data = {**_data(request.form), **version_of(request.form)}
    _, error, conflict = attempt_edit(lambda: records.update_facility(db(), actor(), facility,
                                                                      data))
    if conflict:
        facility = facility_or_404(db(), facility_id)
        form, box = conflicted_form(request.form, facility, _values(facility), conflict,
                                    LABELS, {"kind": KINDS})
        return render_template("records/facility_form.html", form=form, facility=facility,
                               kinds=KINDS, conflict=box), 409
    if error:
        form = FormState.rejected(request.form, error, LABELS)
        return render_template("records/facility_form.html", form=form,
                               facility=db().get(models.Facility, facility_id), kinds=KINDS), 422
    flash("Facility saved.", "success")
    return redirect(url_for("facilities.facility", facility_id=facility_id))


@bp.route("/facilities/<id:facility_id>/geocode", methods=["POST"])
def facility_geocode(facility_id: int) -> Any:
    """Look the facility's address up (replacing coordinates typed by hand) (admin)."""
    admin_required()
    facility = facility_or_404(db(), facility_id)
    facility.coordinate_source = None  # pressing the button asks for the address's answer
    try:
        outcome = geocode_facility(db(), facility, _geocoder())
    except GeocodingError as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for("facilities.facility", facility_id=facility_id))
    records.set_facility_coordinates(db(), actor(), facility, outcome.latitude,
                                     outcome.longitude, outcome.source)
    flash(f"Coordinates found: {outcome.latitude:.5f}, {outcome.longitude:.5f}.", "success")
    return redirect(url_for("facilities.facility", facility_id=facility_id))


@bp.route("/facilities/<id:facility_id>/delete", methods=["POST"])
def facility_delete(facility_id: int) -> Any:
    """Delete a facility nobody refers to (admin)."""
    admin_required()
    facility = facility_or_404(db(), facility_id)
    try:
        records.delete_facility(db(), actor(), facility)
    except records.InUse as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for("facilities.facility", facility_id=facility_id))
    flash("Facility deleted.", "success")
    return redirect(url_for("facilities.facilities"))


def _geocoder() -> Any:
    """One geocoder per app (it holds the service's rate limit); tests may put a fake here."""
    geocoder = current_app.extensions.get("rounds_geocoder")
    if geocoder is None:
        geocoder = make_geocoder(runtime().settings)
        current_app.extensions["rounds_geocoder"] = geocoder
    return geocoder

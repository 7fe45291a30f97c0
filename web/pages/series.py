"""Appointment series: the recurrence editor, and cancelling or moving one occurrence."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler import audit, clock, models, records
from scheduler.calendar.expand import occurrence_dates
from scheduler.calendar.words import describe_rule
from scheduler.planning.refresh import replan_day_now
from scheduler.records import lists
from web.access import exception_or_404, series_or_404
from web.auth import admin_required
from web.database import audit_db, db, runtime
from web.pages import actor, attempt, me, options, signed_in
from web.pages import forms as f
from web.pages.conflicts import (
    ConflictView,
    attempt_edit,
    conflicted_form,
    opened,
    version_of,
)
from web.pages.forms import FormState
from web.params import id_or_none
from web.redirects import on_site_path

bp = Blueprint("series", __name__)
signed_in(bp)

LABELS = {"client_id": "Client", "therapist_id": "Therapist", "required_skills": "Skills",
          "rule": "Repeats", "first_date": "First date", "last_date": "Last date",
          "duration_minutes": "Length", "preferred_windows": "Preferred times",
          "priority": "Priority", "during_treatment_id": "During treatment", "notes": "Notes",
          "active": "Active", "original_date": "Occurrence", "new_date": "New date",
          "new_start_time": "New start time", "action": "Change", "reason": "Reason"}
OCCURRENCE_WEEKS = 8


def _data(form: Any) -> dict[str, Any]:
    return {
        "client_id": f.reference(form, "client_id"),
        "therapist_id": f.reference(form, "therapist_id"),
        "required_skills": f.words(form, "required_skills"),
        "rule": f.rule_from_form(form, allow_once=True),
        "first_date": f.text(form, "first_date"), "last_date": f.optional(form, "last_date"),
        "duration_minutes": f.whole(form, "duration_minutes"),
        "preferred_windows": f.windows(form, "preferred_windows"),
        "priority": f.whole(form, "priority") if f.text(form, "priority") else 50,
        "during_treatment_id": f.reference(form, "during_treatment_id"),
        "notes": f.text(form, "notes"), "active": f.flag(form, "active"),
    }


def _values(series: models.AppointmentSeries) -> dict[str, Any]:
    values: dict[str, Any] = {
        "client_id": series.client_id, "therapist_id": series.therapist_id or "",
        "required_skills": ", ".join(series.required_skills),
        "first_date": series.first_date.isoformat(),
        "last_date": series.last_date.isoformat() if series.last_date else "",
        "duration_minutes": series.duration_minutes,
        "preferred_windows": f.windows_text(series.preferred_windows),
        "priority": series.priority, "during_treatment_id": series.during_treatment_id or "",
        "notes": series.notes, "active": series.active,
    }
    values.update(f.rule_values(series.rule))
    return values


def _choices(client_id: str) -> dict[str, list[Any]]:
    clients = lists.clients(db(), me())
    therapists = lists.therapists(db(), active_only=True)
    client = id_or_none(client_id)
    treatments = lists.during_treatments(db(), client) if client is not None else []
    return {
        "client_id": options(clients, lambda c: f"{c.last_name}, {c.first_name}",
                             empty="Choose…"),
        "therapist_id": options(therapists, lambda t: t.name,
                                empty="Any therapist with the skills"),
        "during_treatment_id": options(treatments, lambda t: f"{t.kind} {t.start_time:%H:%M}",
                                       empty="None"),
    }


def _form(form: FormState, series: models.AppointmentSeries | None, status: int = 200,
          conflict: ConflictView | None = None) -> Any:
    choices = _choices(form.value("client_id"))
    return render_template(
        "records/series_form.html", form=form, series=series, conflict=conflict,
        clients=choices["client_id"], therapists=choices["therapist_id"],
        treatments=choices["during_treatment_id"],
    ), status


@bp.route("/series")
def series_list() -> str:
    """The visit series this user may see."""
    rows = lists.series(db(), me())
    audit.record_reads(audit_db(), actor(), "series", [row.id for row in rows], context="list")
    return render_template("records/series_list.html", series=rows, describe_rule=describe_rule)


@bp.route("/series/<id:series_id>")
def series_detail(series_id: int) -> str:
    """One series with its coming occurrences, each of which can be cancelled or moved."""
    series = series_or_404(db(), me(), series_id)
    audit.record(audit_db(), actor(), "read", "series", series.id)
    zone = runtime().settings.zone
    start = max(clock.utcnow().astimezone(zone).date() - timedelta(days=7), series.first_date)
    if request.args.get("from"):
        start = f_date(request.args["from"])
    end = start + timedelta(weeks=OCCURRENCE_WEEKS)
    changes = {e.original_date: e for e in series.exceptions}
    dates = occurrence_dates(series.rule, series.first_date, (start, end), series.last_date,
                             zone=zone)
    rows = [(day, changes.get(day)) for day in dates]
    return render_template("records/series.html", series=series, rows=rows, start=start,
                           end=end, describe_rule=describe_rule,
                           later=end + timedelta(days=1))


@bp.route("/series/new", methods=["GET", "POST"])
def series_new() -> Any:
    """Book a new series or one-off visit (admin)."""
    admin_required()
    if request.method == "GET":
        values = {"client_id": request.args.get("client", ""), "rule_mode": "weekly",
                  "rule_interval": "1", "duration_minutes": 60, "priority": 50,
                  "active": True, "first_date": clock.utcnow().astimezone(
                      runtime().settings.zone).date().isoformat()}
        return _form(FormState(values, labels=LABELS), None)
    saved, error = attempt(lambda: records.create_series(db(), actor(), _data(request.form)))
    if error:
        return _form(FormState.rejected(request.form, error, LABELS), None, 422)
    assert saved is not None
    flash("Visits booked.", "success")
    return redirect(url_for("series.series_detail", series_id=saved.id))


@bp.route("/series/<id:series_id>/edit", methods=["GET", "POST"])
def series_edit(series_id: int) -> Any:
    """Change a series (admin)."""
    admin_required()
    series = series_or_404(db(), me(), series_id)
    if request.method == "GET":
        return _form(FormState(opened(_values(series), series.version), labels=LABELS),
                     series)
    data = {**_data(request.form), **version_of(request.form)}
    _, error, conflict = attempt_edit(lambda: records.update_series(db(), actor(), series, data))
    if conflict:
        series = series_or_404(db(), me(), series_id)
        form, box = conflicted_form(request.form, series, _values(series), conflict, LABELS,
                                    _choices(str(series.client_id)))
        return _form(form, series, 409, box)
    if error:
        return _form(FormState.rejected(request.form, error, LABELS),
                     series_or_404(db(), me(), series_id), 422)
    flash("Series saved.", "success")
    return redirect(url_for("series.series_detail", series_id=series_id))


@bp.route("/series/<id:series_id>/delete", methods=["POST"])
def series_delete(series_id: int) -> Any:
    """Delete a series that no plan refers to (admin)."""
    admin_required()
    series = series_or_404(db(), me(), series_id)
    client_id = series.client_id
    try:
        records.delete_series(db(), actor(), series)
    except records.InUse as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for("series.series_detail", series_id=series_id))
    flash("Series deleted.", "success")
    return redirect(url_for("clients.client", client_id=client_id))


@bp.route("/series/<id:series_id>/occurrences/<day>/cancel", methods=["POST"])
def occurrence_cancel(series_id: int, day: str) -> Any:
    """Cancel one occurrence (admin, or the therapist who sees the series)."""
    series = series_or_404(db(), me(), series_id)
    occurrence = f_date(day)
    saved, error = attempt(lambda: records.cancel_occurrence(
        db(), actor(), series, occurrence, request.form.get("reason", "").strip()[:255]))
    if error:
        flash("; ".join(m for ms in error.by_field().values() for m in ms), "error")
    else:
        planned = replan_day_now(db(), runtime().settings, occurrence, clock.utcnow())
        flash(f"The visit of {occurrence:%a %d %b} is cancelled"
              + (": the day is planned again without it." if planned else "."), "success")
    return redirect(_back(url_for("series.series_detail", series_id=series_id)))


@bp.route("/series/<id:series_id>/occurrences/<day>/move", methods=["POST"])
def occurrence_move(series_id: int, day: str) -> Any:
    """Move one occurrence to another date and/or a fixed start time."""
    series = series_or_404(db(), me(), series_id)
    occurrence = f_date(day)
    existing = next((e for e in series.exceptions if e.original_date == occurrence), None)
    data = {"original_date": occurrence.isoformat(), "action": "move",
            "new_date": f.optional(request.form, "new_date"),
            "new_start_time": f.optional(request.form, "new_start_time"),
            "reason": f.text(request.form, "reason")}
    if existing is not None:
        save = lambda: records.update_exception(db(), actor(), existing, data)  # noqa: E731
    else:
        save = lambda: records.create_exception(db(), actor(), series, data)  # noqa: E731
    _, error = attempt(save)
    if error:
        series = series_or_404(db(), me(), series_id)
        form = FormState.rejected(request.form, error, LABELS)
        return render_template("records/occurrence_move.html", series=series, day=occurrence,
                               form=form), 422
    flash(f"The visit of {occurrence:%a %d %b} is moved.", "success")
    return redirect(url_for("series.series_detail", series_id=series_id))


@bp.route("/series/<id:series_id>/occurrences/<day>/move", methods=["GET"])
def occurrence_move_form(series_id: int, day: str) -> str:
    """The form to move one occurrence."""
    series = series_or_404(db(), me(), series_id)
    occurrence = f_date(day)
    return render_template("records/occurrence_move.html", series=series, day=occurrence,
                           form=FormState({"new_date": occurrence.isoformat()}, labels=LABELS))


@bp.route("/exceptions/<id:exception_id>/delete", methods=["POST"])
def exception_delete(exception_id: int) -> Any:
    """Undo a cancellation or move: the occurrence is as the rule says again."""
    exception = exception_or_404(db(), me(), exception_id)
    series_id = exception.series_id
    records.delete_exception(db(), actor(), exception)
    flash("The occurrence is restored.", "success")
    return redirect(_back(url_for("series.series_detail", series_id=series_id)))


def f_date(raw: str) -> date:
    from web.pages.day import parse_day

    return parse_day(raw)


def _back(default: str) -> str:
    """Return to the page the button was on (the day page cancels occurrences too)."""
    return on_site_path(request.form.get("next")) or default

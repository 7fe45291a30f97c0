"""Clients (patient records), their treatments, and one occurrence of a treatment cancelled or
moved. Every read and change is audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from scheduler import audit, clock, models, records
from scheduler.calendar.words import describe_rule
from scheduler.records import lists
from scheduler.records.precautions import FLAGS
from web.access import client_or_404, treatment_exception_or_404, treatment_or_404
from web.auth import admin_required
from web.database import audit_db, db, end_transaction, runtime
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

bp = Blueprint("clients", __name__)
signed_in(bp)

CLIENT_LABELS = {"first_name": "First name", "last_name": "Last name",
                 "facility_id": "Facility", "room": "Room", "active": "Active",
                 "precaution_flags": "Precautions", "precaution_notes": "Precaution notes",
                 "diagnosis": "Diagnosis", "care_contact": "Care-team contact",
                 "primary_therapist_id": "Primary therapist"}
TREATMENT_LABELS = {"kind": "Kind", "label": "Label", "facility_id": "Where", "rule": "Repeats",
                    "first_date": "First date", "last_date": "Last date",
                    "start_time": "Start time",
                    "duration_minutes": "Length", "buffer_before_minutes": "Buffer before",
                    "buffer_after_minutes": "Buffer after", "policy": "Visits"}
INFECTION_WORDS = {"protect": "Protect: seen before the others on a therapist's day",
                   "isolation": "Isolation: seen after the others on a therapist's day"}
POLICIES = [("avoid", "must not overlap it (nor its buffers)"),
            ("during", "may take place during it (chair-side)")]
CHANGE_LABELS = {"original_date": "Occurrence", "action": "Change", "new_date": "New date",
                 "new_start_time": "New start time", "new_duration_minutes": "New length",
                 "reason": "Reason"}
CHANGE_ACTIONS = [("move", "Move it: a new date, start time and/or length"),
                  ("cancel", "Cancel it")]
CHANGES_SHOWN_FROM_DAYS = 7  # the client page lists changes from a week ago on


def _client_data(form: Any) -> dict[str, Any]:
    return {
        "first_name": f.text(form, "first_name"), "last_name": f.text(form, "last_name"),
        "facility_id": f.reference(form, "facility_id"), "room": f.text(form, "room"),
        "active": f.flag(form, "active"),
        "precaution_flags": f.words(form, "precaution_flags"),
        "precaution_notes": f.text(form, "precaution_notes"),
        "diagnosis": f.text(form, "diagnosis"), "care_contact": f.text(form, "care_contact"),
        "primary_therapist_id": f.reference(form, "primary_therapist_id"),
    }


def _client_values(client: models.Client) -> dict[str, Any]:
    values = {name: getattr(client, name) for name in CLIENT_LABELS}
    values["precaution_flags"] = list(client.precaution_flags)
    values["primary_therapist_id"] = client.primary_therapist_id or ""
    return values


def _client_choices() -> dict[str, list[Any]]:
    flags = sorted(FLAGS.values(), key=lambda p: (p.severity != "alert", p.label))
    return {"facility_id": options(lists.facilities(db()), lambda x: x.name, empty="Choose…"),
            "primary_therapist_id": options(lists.therapists(db()), lambda x: x.name,
                                            empty="None"),
            "precaution_flags": [(p.code, p.label) for p in flags]}


def _client_form(form: FormState, client: models.Client | None, status: int = 200,
                 conflict: ConflictView | None = None) -> Any:
    choices = _client_choices()
    return render_template(
        "records/client_form.html", form=form, client=client, conflict=conflict,
        facilities=choices["facility_id"], therapists=choices["primary_therapist_id"],
        flags=choices["precaution_flags"],
    ), status


@bp.route("/clients")
def clients() -> str:
    """The clients this user may see (all, for an admin)."""
    show_inactive = request.args.get("all") == "1"
    rows = lists.clients(db(), me(), include_inactive=show_inactive)
    audit.record_reads(audit_db(), actor(), "client", [row.id for row in rows], context="list")
    return render_template("records/clients.html", clients=rows, show_inactive=show_inactive)


@bp.route("/clients/<id:client_id>")
def client(client_id: int) -> str:
    """One client: precautions, treatments and their changed occurrences (from a week ago
    on; ``?changes=all``: every one), series."""
    record = client_or_404(db(), me(), client_id)
    audit.record(audit_db(), actor(), "read", "client", record.id)
    series = lists.series(db(), me(), client_id=record.id)
    infection = runtime().settings.infection_control.rule().class_of(record.precaution_flags)
    every_change = request.args.get("changes") == "all"
    since = date.min if every_change else _today() - timedelta(days=CHANGES_SHOWN_FROM_DAYS)
    changes = {t.id: [e for e in t.exceptions if max(e.original_date, e.new_date or date.min)
                      >= since] for t in record.treatments}
    earlier = sum(len(t.exceptions) - len(changes[t.id]) for t in record.treatments)
    return render_template("records/client.html", client=record, series=series,
                           describe_rule=describe_rule, flags=FLAGS, changes=changes,
                           earlier_changes=earlier,
                           infection=INFECTION_WORDS.get(infection.word))


def _today() -> date:
    return clock.utcnow().astimezone(runtime().settings.zone).date()


@bp.route("/clients/new", methods=["GET", "POST"])
def client_new() -> Any:
    """Add a client (admin)."""
    admin_required()
    if request.method == "GET":
        return _client_form(FormState({"active": True}, labels=CLIENT_LABELS), None)
    saved, error = attempt(lambda: records.create_client(db(), actor(),
                                                         _client_data(request.form)))
    if error:
        return _client_form(FormState.rejected(request.form, error, CLIENT_LABELS), None, 422)
    assert saved is not None
    flash("Client added.", "success")
    return redirect(url_for("clients.client", client_id=saved.id))


@bp.route("/clients/<id:client_id>/edit", methods=["GET", "POST"])
def client_edit(client_id: int) -> Any:
    """Change a client's record (admin, or the client's own therapist)."""
    record = client_or_404(db(), me(), client_id)
    if request.method == "GET":
        audit.record(audit_db(), actor(), "read", "client", record.id, context="edit form")
        values = opened(_client_values(record), record.version)
        return _client_form(FormState(values, labels=CLIENT_LABELS), record)
    data = {**_client_data(request.form), **version_of(request.form)}
    _, error, conflict = attempt_edit(lambda: records.update_client(db(), actor(), record, data))
    if conflict:
        record = client_or_404(db(), me(), client_id)
        audit.record(audit_db(), actor(), "read", "client", record.id, context="edit conflict")
        end_transaction()  # the answer is a 409: without this the read's row is rolled back
        form, box = conflicted_form(request.form, record, _client_values(record), conflict,
                                    CLIENT_LABELS, _client_choices())
        return _client_form(form, record, 409, box)
    if error:
        record = client_or_404(db(), me(), client_id)
        return _client_form(FormState.rejected(request.form, error, CLIENT_LABELS), record, 422)
    flash("Client saved.", "success")
    return redirect(url_for("clients.client", client_id=client_id))


@bp.route("/clients/<id:client_id>/delete", methods=["POST"])
def client_delete(client_id: int) -> Any:
    """Delete a client with no visits (admin)."""
    admin_required()
    record = client_or_404(db(), me(), client_id)
    try:
        records.delete_client(db(), actor(), record)
    except records.InUse as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for("clients.client", client_id=client_id))
    flash("Client deleted.", "success")
    return redirect(url_for("clients.clients"))


# ---------------------------------------------------------------------------------------------
# Treatments


def _treatment_data(form: Any) -> dict[str, Any]:
    return {
        "kind": f.text(form, "kind"), "label": f.text(form, "label"),
        "facility_id": f.reference(form, "facility_id"),
        "rule": f.rule_from_form(form, allow_once=False),
        "first_date": f.text(form, "first_date"), "last_date": f.optional(form, "last_date"),
        "start_time": f.text(form, "start_time"),
        "duration_minutes": f.whole(form, "duration_minutes"),
        "buffer_before_minutes": f.whole(form, "buffer_before_minutes") or 0,
        "buffer_after_minutes": f.whole(form, "buffer_after_minutes") or 0,
        "policy": f.text(form, "policy"),
    }


def _treatment_values(treatment: models.Treatment) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": treatment.kind, "label": treatment.label,
        "facility_id": treatment.facility_id or "",
        "first_date": treatment.first_date.isoformat(),
        "last_date": treatment.last_date.isoformat() if treatment.last_date else "",
        "start_time": f.hhmm(treatment.start_time),
        "duration_minutes": treatment.duration_minutes,
        "buffer_before_minutes": treatment.buffer_before_minutes,
        "buffer_after_minutes": treatment.buffer_after_minutes,
        "policy": treatment.policy.value,
    }
    values.update(f.rule_values(treatment.rule))
    return values


def _treatment_form(form: FormState, client: models.Client,
                    treatment: models.Treatment | None, status: int = 200,
                    conflict: ConflictView | None = None) -> Any:
    facilities = lists.facilities(db())
    return render_template(
        "records/treatment_form.html", form=form, client=client, treatment=treatment,
        conflict=conflict,
        facilities=options(facilities, lambda x: x.name, empty="At the client's facility"),
        policies=POLICIES,
    ), status


@bp.route("/clients/<id:client_id>/treatments/new", methods=["GET", "POST"])
def treatment_new(client_id: int) -> Any:
    """Add a treatment to a client (admin, or the client's therapist)."""
    client = client_or_404(db(), me(), client_id)
    if request.method == "GET":
        form = FormState({"policy": "avoid", "rule_mode": "weekly", "rule_interval": "1",
                          "buffer_before_minutes": 0, "buffer_after_minutes": 0},
                         labels=TREATMENT_LABELS)
        return _treatment_form(form, client, None)
    saved, error = attempt(lambda: records.create_treatment(db(), actor(), client,
                                                            _treatment_data(request.form)))
    if error:
        client = client_or_404(db(), me(), client_id)
        form = FormState.rejected(request.form, error, TREATMENT_LABELS)
        return _treatment_form(form, client, None, 422)
    flash("Treatment added.", "success")
    return redirect(url_for("clients.client", client_id=client_id))


@bp.route("/treatments/<id:treatment_id>/edit", methods=["GET", "POST"])
def treatment_edit(treatment_id: int) -> Any:
    """Change a treatment (admin, or the client's therapist)."""
    treatment = treatment_or_404(db(), me(), treatment_id)
    client = treatment.client
    if request.method == "GET":
        audit.record(audit_db(), actor(), "read", "treatment", treatment.id, context="edit form")
        form = FormState(opened(_treatment_values(treatment), treatment.version),
                         labels=TREATMENT_LABELS)
        return _treatment_form(form, client, treatment)
    data = {**_treatment_data(request.form), **version_of(request.form)}
    _, error, conflict = attempt_edit(lambda: records.update_treatment(db(), actor(), treatment,
                                                                       data))
    if conflict:
        treatment = treatment_or_404(db(), me(), treatment_id)
        audit.record(audit_db(), actor(), "read", "treatment", treatment.id,
                     context="edit conflict")
        end_transaction()  # the answer is a 409: without this the read's row is rolled back
        form, box = conflicted_form(
            request.form, treatment, _treatment_values(treatment), conflict, TREATMENT_LABELS,
            {"facility_id": options(lists.facilities(db()), lambda x: x.name,
                                    empty="At the client's facility"), "policy": POLICIES})
        return _treatment_form(form, treatment.client, treatment, 409, box)
    if error:
        treatment = treatment_or_404(db(), me(), treatment_id)
        form = FormState.rejected(request.form, error, TREATMENT_LABELS)
        return _treatment_form(form, treatment.client, treatment, 422)
    flash("Treatment saved.", "success")
    return redirect(url_for("clients.client", client_id=client.id))


@bp.route("/treatments/<id:treatment_id>/delete", methods=["POST"])
def treatment_delete(treatment_id: int) -> Any:
    """Delete a treatment (admin)."""
    admin_required()
    treatment = treatment_or_404(db(), me(), treatment_id)
    client_id = treatment.client_id
    try:
        records.delete_treatment(db(), actor(), treatment)
    except records.InUse as error:
        db().rollback()
        flash(str(error), "error")
        return redirect(url_for("clients.client", client_id=client_id))
    flash("Treatment deleted.", "success")
    return redirect(url_for("clients.client", client_id=client_id))


# ---------------------------------------------------------------------------------------------
# One occurrence of a treatment cancelled or moved (the chair time moved for one day)


def _change_data(form: Any) -> dict[str, Any]:
    return {
        "original_date": f.text(form, "original_date"), "action": f.text(form, "action"),
        "new_date": f.optional(form, "new_date"),
        "new_start_time": f.optional(form, "new_start_time"),
        "new_duration_minutes": f.whole(form, "new_duration_minutes"),
        "reason": f.text(form, "reason"),
    }


def _change_values(change: models.TreatmentException) -> dict[str, Any]:
    return {
        "original_date": change.original_date.isoformat(), "action": change.action.value,
        "new_date": change.new_date.isoformat() if change.new_date else "",
        "new_start_time": f.hhmm(change.new_start_time),
        "new_duration_minutes": change.new_duration_minutes or "", "reason": change.reason,
    }


def _change_form(form: FormState, treatment: models.Treatment, status: int = 200,
                 conflict: ConflictView | None = None) -> Any:
    return render_template("records/treatment_occurrence.html", form=form, treatment=treatment,
                           client=treatment.client, actions=CHANGE_ACTIONS,
                           describe_rule=describe_rule, conflict=conflict), status


@bp.route("/treatments/<id:treatment_id>/occurrences/change", methods=["GET"])
def treatment_occurrence_form(treatment_id: int) -> Any:
    """Change one occurrence (admin, or the client's therapist); ``?day=`` opens the change
    already made to that day's occurrence, if any."""
    treatment = treatment_or_404(db(), me(), treatment_id)
    audit.record(audit_db(), actor(), "read", "treatment", treatment.id, context="change form")
    day = request.args.get("day", "")
    existing = next((e for e in treatment.exceptions if e.original_date.isoformat() == day),
                    None)
    values = (opened(_change_values(existing), existing.version) if existing is not None
              else {"original_date": day, "action": "move"})
    return _change_form(FormState(values, labels=CHANGE_LABELS), treatment)


@bp.route("/treatments/<id:treatment_id>/occurrences/change", methods=["POST"])
def treatment_occurrence_change(treatment_id: int) -> Any:
    """Save the change: a new one, or in place of the change already made to that
    occurrence (one change per occurrence)."""
    treatment = treatment_or_404(db(), me(), treatment_id)
    data = _change_data(request.form)
    existing = next((e for e in treatment.exceptions
                     if e.original_date.isoformat() == data["original_date"]), None)
    if existing is not None:
        # The version the form was opened at: a change made meanwhile is not undone.
        data.update(version_of(request.form))
        save = lambda: records.update_treatment_exception(  # noqa: E731
            db(), actor(), existing, data)
    else:
        save = lambda: records.create_treatment_exception(  # noqa: E731
            db(), actor(), treatment, data)
    saved, error, conflict = attempt_edit(save)
    if conflict:
        treatment = treatment_or_404(db(), me(), treatment_id)
        audit.record(audit_db(), actor(), "read", "treatment", treatment.id,
                     context="change conflict")
        end_transaction()  # the answer is a 409: without this the read's row is rolled back
        current = next(e for e in treatment.exceptions if e.id == conflict.record_id)
        form, box = conflicted_form(request.form, current, _change_values(current), conflict,
                                    CHANGE_LABELS, {"action": CHANGE_ACTIONS})
        return _change_form(form, treatment, 409, box)
    if error:
        treatment = treatment_or_404(db(), me(), treatment_id)
        return _change_form(FormState.rejected(request.form, error, CHANGE_LABELS), treatment,
                            422)
    assert saved is not None
    done = "cancelled" if saved.action == models.ExceptionAction.CANCEL else "moved"
    flash(f"The {treatment.kind} of {saved.original_date:%a %d %b} is {done}; the planned "
          "days it touches are marked to be planned again.", "success")
    return redirect(url_for("clients.client", client_id=treatment.client_id))


@bp.route("/treatment-exceptions/<id:exception_id>/delete", methods=["POST"])
def treatment_exception_delete(exception_id: int) -> Any:
    """Undo a change: the occurrence is as the treatment's rule says again."""
    change = treatment_exception_or_404(db(), me(), exception_id)
    client_id = change.treatment.client_id
    records.delete_treatment_exception(db(), actor(), change)
    flash("The treatment's occurrence is as usual again.", "success")
    return redirect(url_for("clients.client", client_id=client_id))

"""Edits that cannot be lost, on the pages: two people open the same edit form; the first
saves; the second saves the form they opened before. The second save is refused (409) with
the form holding what they typed and a box with what the first saved; nothing is lost, and
a deliberate second save goes through. On both backends.
"""

from __future__ import annotations

import html
from datetime import time

import pytest
from flask import Flask
from form_fields import form_fields
from sqlalchemy import select
from web_support import PLAN_DAY, login, make_practice

from scheduler import models
from web import create_app

DVT = "NEW: no pressure on left leg (DVT)"


@pytest.fixture
def two_sessions(both_runtime):
    """The app on each backend, the practice, and Ada (admin) and Theo (therapist) signed in
    in two separate sessions (two browsers)."""
    practice = make_practice(both_runtime)
    app: Flask = create_app(runtime=both_runtime, test_config={"TESTING": True})
    ada, theo = app.test_client(), app.test_client()
    assert login(ada, "ada@example.org").status_code == 302
    assert login(theo, "theo@example.org").status_code == 302
    return both_runtime, practice, ada, theo


def _open(client, path):
    page = client.get(path)
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_dvt_note_survives_an_admin_saving_an_old_client_form(two_sessions):
    runtime, practice, ada, theo = two_sessions
    client_id = practice.theo_clients[0]
    path = f"/clients/{client_id}/edit"
    admins_form = _open(ada, path)  # the admin opens the form ...
    therapists_form = _open(theo, path)  # ... and the therapist opens it too
    assert admins_form["version"] == ["1"] == therapists_form["version"]

    therapists_form["precaution_notes"] = [DVT]
    assert theo.post(path, data=therapists_form).status_code == 302

    admins_form["room"] = ["6E-01"]  # the admin changes only the room, on the old form
    refused = ada.post(path, data=admins_form)
    assert refused.status_code == 409
    page = _text(refused)
    box = page[page.index('class="conflict-box"'):page.index("</table>")]
    assert "Someone else saved this record at " in box and "(by Theo Therapist, therapist)" in box
    assert "Precaution notes" in box and DVT in box and "Tires quickly" in box
    assert "5W-12" in box and "6E-01" in box  # the room: theirs beside what was typed
    assert "First name" not in box and "Diagnosis" not in box  # the same on both sides
    assert "theirs (you had not changed it)" in box and "yours (you changed it)" in box
    shown = form_fields(refused.get_data(as_text=True))
    assert shown["room"] == ["6E-01"]  # what the admin typed is still in the form
    # the note the admin never touched now holds the therapist's: sending the form again
    # cannot undo it
    assert shown["precaution_notes"] == [DVT]
    assert shown["version"] == ["2"]  # the current version: a second save is deliberate

    with runtime.session() as s:
        client = s.get(models.Client, client_id)
        assert (client.precaution_notes, client.room, client.version) == (DVT, "5W-12", 2)
        shown_to_admin = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.actor_id == practice.admin_id,
            models.AuditEvent.detail == "edit conflict")).one()
        assert (shown_to_admin.action, shown_to_admin.entity_id) == ("read", client_id)

    # The admin checks the form and saves it as shown: accepted, with both changes.
    assert ada.post(path, data=shown).status_code == 302
    with runtime.session() as s:
        client = s.get(models.Client, client_id)
        assert (client.precaution_notes, client.room, client.version) == (DVT, "6E-01", 3)


def test_series_notes_and_priority_survive_an_old_series_form(two_sessions):
    runtime, practice, ada, _ = two_sessions
    with runtime.session() as s:  # series are an admin's: a second admin, in her own session
        s.get(models.Therapist, practice.tess_id).role = models.Role.ADMIN
    tess = ada.application.test_client()
    assert login(tess, "tess@example.org").status_code == 302
    series_id = practice.theo_series[0]
    path = f"/series/{series_id}/edit"
    adas_form, tess_form = _open(ada, path), _open(tess, path)

    tess_form["notes"] = ["Bring the wedge pillow; DVT left leg"]
    tess_form["priority"] = ["90"]
    assert tess.post(path, data=tess_form).status_code == 302

    adas_form["duration_minutes"] = ["45"]
    refused = ada.post(path, data=adas_form)
    assert refused.status_code == 409
    page = _text(refused)
    box = page[page.index('class="conflict-box"'):page.index("</table>")]
    assert "(by Tess Therapist, admin)" in box
    assert "Bring the wedge pillow; DVT left leg" in box and "Priority" in box and "90" in box
    assert "Skills" not in box and "First date" not in box
    shown = form_fields(refused.get_data(as_text=True))
    assert shown["duration_minutes"] == ["45"] and shown["version"] == ["2"]
    assert shown["notes"] == ["Bring the wedge pillow; DVT left leg"]
    assert shown["priority"] == ["90"]
    with runtime.session() as s:
        series = s.get(models.AppointmentSeries, series_id)
        assert (series.notes, series.priority, series.duration_minutes) == (
            "Bring the wedge pillow; DVT left leg", 90, 60)


def test_a_form_saved_twice_in_a_row_by_one_person_is_refused_the_second_time(two_sessions):
    """The back button: the same old form posted again after it was saved."""
    runtime, practice, _, theo = two_sessions
    path = f"/clients/{practice.theo_clients[1]}/edit"
    form = _open(theo, path)
    form["room"] = ["119"]
    assert theo.post(path, data=form).status_code == 302
    form["room"] = ["120"]
    refused = theo.post(path, data=form)
    assert refused.status_code == 409
    assert "by Theo Therapist, therapist" in _text(refused)


def test_a_form_without_a_version_is_saved_as_before(two_sessions):
    runtime, practice, _, theo = two_sessions
    path = f"/clients/{practice.theo_clients[1]}/edit"
    form = _open(theo, path)
    del form["version"]
    form["room"] = ["121"]
    assert theo.post(path, data=form).status_code == 302
    with runtime.session() as s:
        assert s.get(models.Client, practice.theo_clients[1]).room == "121"


def test_a_version_that_is_no_number_is_named_beside_the_form(two_sessions):
    _, practice, _, theo = two_sessions
    path = f"/clients/{practice.theo_clients[1]}/edit"
    form = _open(theo, path)
    form["version"] = ["two"]
    refused = theo.post(path, data=form)
    assert refused.status_code == 422
    assert "version" in _text(refused)


@pytest.mark.parametrize("path, change", [
    ("/therapists/{theo_id}/edit", {"break_minutes": ["45"]}),
    ("/facilities/{home_id}/edit", {"parking_notes": ["Lot C only"]}),
    ("/treatments/{treatment_id}/edit", {"buffer_before_minutes": ["15"]}),
])
def test_every_edit_form_refuses_a_stale_save(two_sessions, path, change):
    runtime, practice, ada, _ = two_sessions
    path = path.format(theo_id=practice.theo_id, home_id=practice.home_id,
                       treatment_id=practice.treatment_id)
    first, second = _open(ada, path), _open(ada, path)
    assert first["version"] == ["1"]
    assert ada.post(path, data={**first, **change}).status_code == 302
    refused = ada.post(path, data=second)
    assert refused.status_code == 409
    page = _text(refused)
    assert "Someone else saved this record" in page and "Ada Admin, admin" in page
    assert form_fields(refused.get_data(as_text=True))["version"] == ["2"]


def test_a_field_both_changed_keeps_what_you_typed_and_says_so(two_sessions):
    runtime, practice, ada, theo = two_sessions
    path = f"/clients/{practice.theo_clients[0]}/edit"
    admins_form, therapists_form = _open(ada, path), _open(theo, path)
    therapists_form["precaution_notes"] = [DVT]
    therapists_form["precaution_flags"] = [*therapists_form["precaution_flags"], "dvt_risk"]
    assert theo.post(path, data=therapists_form).status_code == 302
    admins_form["precaution_notes"] = ["Tires quickly\r\nAsk about the left leg"]
    del admins_form["active"]  # the admin unticks "Active"
    refused = ada.post(path, data=admins_form)
    assert refused.status_code == 409
    box = _text(refused)
    rows = {label: row for label, row in (
        (part.split("</th>")[0], part) for part in box.split('<th scope="row">')[1:])}
    assert "yours (you changed it)" in rows["Precaution notes"]
    assert DVT in rows["Precaution notes"]
    assert "theirs (you had not changed it)" in rows["Precautions"]
    assert "DVT risk" in rows["Precautions"]  # the flag's words, not its code
    assert "yours (you changed it)" in rows["Active"]
    shown = form_fields(refused.get_data(as_text=True))
    assert shown["precaution_notes"] == ["Tires quickly\r\nAsk about the left leg"]  # as typed
    assert "dvt_risk" in shown["precaution_flags"]
    assert "active" not in shown
    with runtime.session() as s:
        client = s.get(models.Client, practice.theo_clients[0])
        assert (client.precaution_notes, client.active) == (DVT, True)
        assert "dvt_risk" in client.precaution_flags


def test_a_changed_occurrence_edited_in_two_sessions_loses_nothing(two_sessions):
    """The radiation of Monday 9 March moved to 11:00 by the therapist; the admin, on the form
    opened before, gives a reason: refused, the form keeps the new start and their reason."""
    runtime, practice, ada, theo = two_sessions
    with runtime.session() as s:
        treatment = s.get(models.Treatment, practice.treatment_id)
        s.add(models.TreatmentException(treatment=treatment, original_date=PLAN_DAY,
                                        action=models.ExceptionAction.MOVE,
                                        new_start_time=time(10, 0), reason=""))
    path = f"/treatments/{practice.treatment_id}/occurrences/change"
    opened_path = f"{path}?day={PLAN_DAY.isoformat()}"
    admins_form, therapists_form = _open(ada, opened_path), _open(theo, opened_path)
    assert admins_form["version"] == ["1"]
    therapists_form["new_start_time"] = ["11:00"]
    assert theo.post(path, data=therapists_form).status_code == 302
    admins_form["reason"] = ["chair moved"]
    refused = ada.post(path, data=admins_form)
    assert refused.status_code == 409
    assert "(by Theo Therapist, therapist)" in _text(refused)
    shown = form_fields(refused.get_data(as_text=True))
    assert (shown["new_start_time"], shown["reason"]) == (["11:00"], ["chair moved"])
    assert ada.post(path, data=shown).status_code == 302
    with runtime.session() as s:
        moved = s.scalars(select(models.TreatmentException)).one()
        assert (moved.new_start_time, moved.reason, moved.version) == (
            time(11, 0), "chair moved", 3)

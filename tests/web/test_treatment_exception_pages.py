"""Pages for a treatment's last date and its changed occurrences: the treatment form's last
date, the client page listing each change, the form to change one occurrence (keeping what
was typed, each problem beside its field), removing a change; behind the login, audited,
CSRF-protected, a therapist only for their own clients.

The practice's radiation (Theo's client) is every Monday at 09:00 for 30 minutes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select
from web_support import PLAN_DAY, post

from scheduler import models

DAY = PLAN_DAY.isoformat()  # a Monday


@pytest.fixture(autouse=True)
def _before_the_day(monkeypatch):
    """The client page lists changes from a week before "today" on: today is 2026-03-05."""
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 3, 5, 15, tzinfo=UTC))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _changes(runtime, treatment_id: int) -> list[models.TreatmentException]:
    with runtime.session() as s:
        return list(s.scalars(select(models.TreatmentException).where(
            models.TreatmentException.treatment_id == treatment_id)))


def test_the_treatment_form_takes_a_last_date(web_runtime, theo_client, practice):
    path = f"/treatments/{practice.treatment_id}/edit"
    assert 'name="last_date"' in _text(theo_client.get(path))
    form = {"kind": "radiation", "rule_mode": "weekly", "rule_interval": "1",
            "rule_days": "MO", "first_date": "2026-01-05", "start_time": "09:00",
            "duration_minutes": "30", "buffer_after_minutes": "60", "policy": "avoid"}
    bad = post(theo_client, path, {**form, "last_date": "2025-12-01", "label": "Typed"},
               page=path)
    assert bad.status_code == 422
    text = _text(bad)
    assert 'id="last_date-errors"' in text and "before it starts" in text
    assert 'value="2025-12-01"' in text and 'value="Typed"' in text
    assert post(theo_client, path, {**form, "last_date": "2026-06-29"},
                page=path).status_code == 302
    with web_runtime.session() as s:
        assert s.get(models.Treatment, practice.treatment_id).last_date == date(2026, 6, 29)
    page = _text(theo_client.get(f"/clients/{practice.theo_clients[0]}"))
    assert "until Monday 29 June 2026" in page


def test_move_one_occurrence_list_it_and_remove_it(web_runtime, theo_client, practice):
    path = f"/treatments/{practice.treatment_id}/occurrences/change"
    client_page = f"/clients/{practice.theo_clients[0]}"
    assert path in _text(theo_client.get(client_page))  # "Change one occurrence"
    form = theo_client.get(f"{path}?day={DAY}")
    assert form.status_code == 200 and f'value="{DAY}"' in _text(form)
    saved = post(theo_client, path, {"original_date": DAY, "action": "move",
                                     "new_start_time": "11:00", "new_duration_minutes": "45",
                                     "reason": "machine serviced"}, page=path)
    assert saved.status_code == 302 and saved.headers["Location"] == client_page
    (change,) = _changes(web_runtime, practice.treatment_id)
    assert (change.action, change.new_start_time, change.new_duration_minutes) == (
        models.ExceptionAction.MOVE, time(11), 45)
    page = _text(theo_client.get(client_page))
    assert "Monday 9 March 2026" in page and "at 11:00 for 45 min" in page
    assert "machine serviced" in page
    # Opening that day again shows the change; saving replaces it (one per occurrence).
    assert 'value="11:00"' in _text(theo_client.get(f"{path}?day={DAY}"))
    again = post(theo_client, path, {"original_date": DAY, "action": "cancel",
                                     "reason": "unit closed"}, page=path)
    assert again.status_code == 302
    (change,) = _changes(web_runtime, practice.treatment_id)
    assert change.action == models.ExceptionAction.CANCEL
    assert "cancelled" in _text(theo_client.get(client_page))
    removed = post(theo_client, f"/treatment-exceptions/{change.id}/delete", page=client_page)
    assert removed.status_code == 302
    assert _changes(web_runtime, practice.treatment_id) == []


def test_the_change_form_keeps_what_was_typed_and_names_each_problem(web_runtime,
                                                                      theo_client, practice):
    path = f"/treatments/{practice.treatment_id}/occurrences/change"
    bad = post(theo_client, path, {"original_date": "2026-03-10", "action": "cancel",
                                   "new_date": "2026-03-12", "new_start_time": "25:00",
                                   "new_duration_minutes": "0", "reason": "typed reason"},
               page=path)
    assert bad.status_code == 422
    text = _text(bad)
    for field in ("original_date", "new_date", "new_start_time", "new_duration_minutes"):
        assert f'id="{field}-errors"' in text, field
    assert "no occurrence on Tue 2026-03-10" in text
    assert 'value="2026-03-12"' in text and 'value="typed reason"' in text
    assert 'class="error-summary"' in text and 'aria-invalid="true"' in text
    empty = post(theo_client, path, {"original_date": DAY, "action": "move"}, page=path)
    assert empty.status_code == 422 and "a move needs a new date, start time or length" in \
        _text(empty)
    assert _changes(web_runtime, practice.treatment_id) == []


def test_reads_and_changes_are_audited(web_runtime, theo_client, practice):
    path = f"/treatments/{practice.treatment_id}/occurrences/change"
    theo_client.get(path)
    post(theo_client, path, {"original_date": DAY, "action": "cancel"}, page=path)
    with web_runtime.session() as s:
        events = [(e.action, e.entity, e.detail) for e in s.scalars(
            select(models.AuditEvent).where(models.AuditEvent.actor_id == practice.theo_id))]
    assert ("read", "treatment", "change form") in events
    assert any(action == "create" and entity == "treatment_exception"
               and detail.startswith(f"treatment {practice.treatment_id}")
               for action, entity, detail in events)


def test_only_the_clients_own_therapist_and_the_admin_reach_it(web_runtime, app, theo_client,
                                                               admin_client, practice):
    with web_runtime.session() as s:
        tess_treatment = models.Treatment(
            client_id=practice.tess_client, kind="dialysis", rule="FREQ=WEEKLY;BYDAY=MO",
            first_date=date(2026, 1, 5), start_time=time(6), duration_minutes=240)
        tess_treatment.exceptions.append(models.TreatmentException(
            original_date=PLAN_DAY, action=models.ExceptionAction.CANCEL))
        s.add(tess_treatment)
        s.commit()
        treatment_id, change_id = tess_treatment.id, tess_treatment.exceptions[0].id
    path = f"/treatments/{treatment_id}/occurrences/change"
    assert theo_client.get(path).status_code == 404
    assert post(theo_client, path, {"original_date": DAY, "action": "cancel"}).status_code == 404
    assert post(theo_client, f"/treatment-exceptions/{change_id}/delete").status_code == 404
    assert admin_client.get(path).status_code == 200
    assert "cancelled" in _text(admin_client.get(f"/clients/{practice.tess_client}"))
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 302  # to the sign-in page
    for form in (path, f"/treatment-exceptions/{change_id}/delete"):
        refused = admin_client.post(form, data={"original_date": DAY, "action": "cancel"})
        assert refused.status_code == 400 and "Form expired" in _text(refused), form
    assert len(_changes(web_runtime, treatment_id)) == 1


def test_changes_long_past_are_listed_on_asking(monkeypatch, web_runtime, theo_client,
                                               practice):
    path = f"/treatments/{practice.treatment_id}/occurrences/change"
    post(theo_client, path, {"original_date": DAY, "action": "cancel"}, page=path)
    monkeypatch.setattr("scheduler.clock.utcnow", lambda: datetime(2026, 4, 1, tzinfo=UTC))
    client_page = f"/clients/{practice.theo_clients[0]}"
    page = _text(theo_client.get(client_page))
    assert "Monday 9 March 2026" not in page and "Show 1 earlier changed occurrence" in page
    assert "Monday 9 March 2026" in _text(theo_client.get(f"{client_page}?changes=all"))

"""scheduler.records: a treatment's last date, and its changed occurrences (cancel, move)
through the one change path: each problem names its field, every change is audited with
its treatment, and a refused change leaves nothing behind.

The practice's treatment (see web_support.make_practice) is radiation every Monday at 09:00
for 30 minutes from 2026-01-05; PLAN_DAY, 2026-03-09, is one of its Mondays.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from sqlalchemy import select
from web_support import PLAN_DAY, make_practice

from scheduler import models, records
from scheduler.audit import Actor
from scheduler.records.validation import ValidationError

ACTOR = Actor(None, "test")
TUESDAY = date(2026, 3, 10)


def _treatment(session: Any, runtime: Any) -> models.Treatment:
    practice = make_practice(runtime)
    return session.get(models.Treatment, practice.treatment_id)


def _audit(session: Any, entity: str) -> list[tuple[str, int | None, str]]:
    rows = session.scalars(select(models.AuditEvent).where(models.AuditEvent.entity == entity)
                           .order_by(models.AuditEvent.id))
    return [(row.action, row.entity_id, row.detail) for row in rows]


def test_cancel_then_move_one_occurrence_audited_with_its_treatment(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        treatment = s.get(models.Treatment, practice.treatment_id)
        cancel = records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY, "machine down")
        assert (cancel.action, cancel.reason) == (models.ExceptionAction.CANCEL, "machine down")
        moved = records.move_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY,
                                                  new_date=TUESDAY, new_start_time=time(11),
                                                  new_duration_minutes=45, reason="rebooked")
        assert moved.id == cancel.id  # the same occurrence's change, replaced
        records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY)
        with pytest.raises(ValidationError, match="original_date: the radiation of Mon 9 Mar "
                                                  "is already cancelled"):
            records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY)
        moved = records.move_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY,
                                                  new_date=TUESDAY, new_start_time=time(11),
                                                  new_duration_minutes=45, reason="rebooked")
        exception_id = moved.id
    with both_runtime.session() as s:
        exception = s.get(models.TreatmentException, exception_id)
        assert (exception.action, exception.new_date, exception.new_start_time,
                exception.new_duration_minutes) == (models.ExceptionAction.MOVE, TUESDAY,
                                                    time(11), 45)
        context = f"treatment {practice.treatment_id}"
        assert _audit(s, "treatment_exception") == [
            ("create", exception_id, f"{context}; action,original_date,reason"),
            ("update", exception_id, f"{context}; action,new_date,new_duration_minutes,"
                                     "new_start_time,reason"),
            ("update", exception_id, f"{context}; action,new_date,new_duration_minutes,"
                                     "new_start_time,reason"),
            ("update", exception_id, f"{context}; action,new_date,new_duration_minutes,"
                                     "new_start_time,reason"),
        ]


def test_a_move_may_keep_the_date_and_change_only_the_length(web_runtime):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        moved = records.create_treatment_exception(s, ACTOR, treatment, {
            "original_date": PLAN_DAY.isoformat(), "action": "move",
            "new_duration_minutes": 60})
        assert (moved.new_date, moved.new_start_time, moved.new_duration_minutes) == (
            None, None, 60)
        updated = records.update_treatment_exception(s, ACTOR, moved, {"new_start_time": "10:15"})
        assert updated.new_start_time == time(10, 15)


MONDAY = PLAN_DAY.isoformat()


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"original_date": "2026-03-10", "action": "cancel"}, "original_date",
     "no occurrence on Tue 2026-03-10 (every Mon from 2026-01-05)"),
    ({"original_date": "2025-12-29", "action": "cancel"}, "original_date", "no occurrence"),
    ({"original_date": MONDAY, "action": "move"}, "new_date",
     "a move needs a new date, start time or length"),
    ({"original_date": MONDAY, "action": "cancel", "new_date": "2026-03-10"}, "new_date",
     "a cancelled occurrence takes no new value"),
    ({"original_date": MONDAY, "action": "cancel", "new_start_time": "10:00"},
     "new_start_time", "a cancelled occurrence takes no new value"),
    ({"original_date": MONDAY, "action": "cancel", "new_duration_minutes": 20},
     "new_duration_minutes", "a cancelled occurrence takes no new value"),
    ({"original_date": MONDAY, "action": "move", "new_duration_minutes": 0},
     "new_duration_minutes", "must be at least 1"),
    ({"original_date": MONDAY, "action": "move", "new_duration_minutes": 1441},
     "new_duration_minutes", "must be at most 1440"),
    ({"original_date": MONDAY, "action": "resize", "new_duration_minutes": 20}, "action",
     "must be one of cancel, move"),
    ({"original_date": MONDAY, "action": "move", "new_start_time": "25:00"}, "new_start_time",
     "expected a time as HH:MM"),
    ({"original_date": MONDAY, "action": "move", "new_date": "2026-02-30"}, "new_date",
     "2026-02-30 is not a date: February 2026 has 28 days"),
    ({"original_date": MONDAY}, "action", "is required"),
    ({"action": "cancel"}, "original_date", "is required"),
    ({"original_date": MONDAY, "action": "cancel", "colour": "red"}, "colour", "unknown field"),
])
def test_each_problem_names_its_field(web_runtime, data, field, words):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        with pytest.raises(ValidationError) as raised:
            records.create_treatment_exception(s, ACTOR, treatment, data)
        problems = raised.value.by_field()
        assert field in problems, problems
        assert any(words in message for message in problems[field]), problems
        assert treatment.exceptions == []  # taken out again


def test_every_problem_is_named_at_once(web_runtime):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        with pytest.raises(ValidationError) as raised:
            records.create_treatment_exception(s, ACTOR, treatment, {
                "original_date": "2026-03-10", "action": "cancel", "new_date": "2026-03-11",
                "reason": 7})
        assert set(raised.value.by_field()) == {"original_date", "new_date", "reason"}


def test_one_change_per_occurrence(web_runtime):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        first = records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY)
        with pytest.raises(ValidationError) as raised:
            records.create_treatment_exception(s, ACTOR, treatment, {
                "original_date": MONDAY, "action": "move", "new_start_time": "12:00"})
        assert "already has a change" in raised.value.by_field()["original_date"][0]
        other = records.cancel_treatment_occurrence(s, ACTOR, treatment, date(2026, 3, 16))
        with pytest.raises(ValidationError) as raised:  # moved onto another's occurrence
            records.update_treatment_exception(s, ACTOR, other, {"original_date": MONDAY})
        assert "original_date" in raised.value.by_field()
        assert [e.id for e in treatment.exceptions] == [first.id, other.id]


def test_a_refused_change_keeps_what_was_saved(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        treatment = s.get(models.Treatment, practice.treatment_id)
        saved = records.move_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY,
                                                  new_start_time=time(12))
        with pytest.raises(ValidationError):
            records.update_treatment_exception(s, ACTOR, saved, {"new_start_time": None,
                                                                 "new_duration_minutes": 0})
        s.commit()
        saved_id = saved.id
    with both_runtime.session() as s:
        assert s.get(models.TreatmentException, saved_id).new_start_time == time(12)
        assert len(_audit(s, "treatment_exception")) == 1


def test_delete_restores_the_occurrence_and_is_audited(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        treatment = s.get(models.Treatment, practice.treatment_id)
        exception = records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY)
        exception_id = exception.id
        records.delete_treatment_exception(s, ACTOR, exception)
        assert treatment.exceptions == []
    with both_runtime.session() as s:
        assert s.get(models.TreatmentException, exception_id) is None
        assert _audit(s, "treatment_exception")[-1] == (
            "delete", exception_id, f"treatment {practice.treatment_id}")


def test_deleting_a_treatment_deletes_its_changes(web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s:
        treatment = s.get(models.Treatment, practice.treatment_id)
        exception_id = records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY).id
        records.delete_treatment(s, ACTOR, treatment)
    with web_runtime.session() as s:
        assert s.get(models.TreatmentException, exception_id) is None


# ---------------------------------------------------------------------------------------------
# A treatment's last date


@pytest.mark.parametrize(("data", "words"), [
    ({"last_date": "2025-12-31"}, "ends (2025-12-31) before it starts (2026-01-05)"),
    ({"last_date": "2026-01-09"}, "every Mon gives no date from 2026-01-06 to 2026-01-09"),
    ({"last_date": "soon"}, "expected a date as YYYY-MM-DD"),
    ({"last_date": 20260301}, "expected a date as YYYY-MM-DD"),
])
def test_a_last_date_is_checked_by_name(web_runtime, data, words):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        if "2026-01-06" in words:
            data = {**data, "first_date": "2026-01-06"}
        with pytest.raises(ValidationError) as raised:
            records.update_treatment(s, ACTOR, treatment, data)
        assert any(words in m for m in raised.value.by_field()["last_date"]), \
            raised.value.by_field()


def test_a_last_date_is_saved_and_cleared(web_runtime):
    with web_runtime.session() as s:
        treatment = _treatment(s, web_runtime)
        records.update_treatment(s, ACTOR, treatment, {"last_date": "2026-03-30"})
        assert treatment.last_date == date(2026, 3, 30)
        records.update_treatment(s, ACTOR, treatment, {"last_date": None})
        assert treatment.last_date is None
        with pytest.raises(ValidationError) as raised:  # after the course, no occurrence
            records.update_treatment(s, ACTOR, treatment, {"last_date": "2026-03-02"})
            records.cancel_treatment_occurrence(s, ACTOR, treatment, PLAN_DAY)
        assert "to 2026-03-02" in raised.value.by_field()["original_date"][0]

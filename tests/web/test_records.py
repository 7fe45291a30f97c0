"""scheduler.records: parsing by field, whole-record checks, audit rows, and roll-back safety.

These run on both backends: what is saved and rolled back is the database's business.
"""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select
from web_support import make_practice

from scheduler import models, records
from scheduler.audit import Actor
from scheduler.records.validation import ValidationError

ACTOR = Actor(None, "test")

FACILITY = {"name": "Research Medical Center", "kind": "hospital",
            "address": "2316 E Meyer Blvd, Kansas City, MO", "lat": 39.0,
            "lon": -94.55, "overhead_minutes": 15,
            "hours": {"MO": ["08:00", "20:00"], "TU": ["08:00", "20:00"]}}


def test_create_facility_saves_hours_and_audits_field_names(both_runtime):
    with both_runtime.session() as s:
        facility = records.create_facility(s, ACTOR, FACILITY)
        facility_id = facility.id
    with both_runtime.session() as s:
        facility = s.get(models.Facility, facility_id)
        assert [(h.weekday, h.open, h.close) for h in facility.hours] == [
            (0, time(8), time(20)), (1, time(8), time(20))]
        assert facility.coordinate_source == models.CoordinateSource.MANUAL
        event = s.scalars(select(models.AuditEvent)).one()
        assert (event.action, event.entity, event.entity_id) == ("create", "facility",
                                                                 facility_id)
        assert "name" in event.detail and "Research" not in event.detail


@pytest.mark.parametrize(("change", "field"), [
    ({"name": ""}, "name"),
    ({"name": 42}, "name"),
    ({"kind": "castle"}, "kind"),
    ({"lat": 91}, "lat"),
    ({"lat": None, "lon": -94.5}, "lat"),
    ({"overhead_minutes": -5}, "overhead_minutes"),
    ({"hours": {"MO": ["20:00", "08:00"]}}, "hours.MO"),
    ({"hours": {"XX": ["08:00", "09:00"]}}, "hours.XX"),
    ({"colour": "blue"}, "colour"),
    ({"notes": "a\x00b"}, "notes"),
])
def test_facility_problems_name_the_field(sqlite_session, change, field):
    with pytest.raises(ValidationError) as raised:
        records.create_facility(sqlite_session, ACTOR, {**FACILITY, **change})
    assert field in raised.value.by_field(), raised.value.by_field()


def test_every_problem_is_reported_at_once(sqlite_session):
    with pytest.raises(ValidationError) as raised:
        records.create_facility(sqlite_session, ACTOR,
                                {**FACILITY, "name": "", "kind": "castle", "lat": 200})
    assert {"name", "kind", "lat"} <= set(raised.value.by_field())


def test_rejected_update_rolled_back_keeps_what_was_saved(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s, pytest.raises(ValidationError):
        facility = s.get(models.Facility, practice.hospital_id)
        records.update_facility(s, ACTOR, facility,
                                {"name": "Renamed", "hours": {"MO": ["09:00", "08:00"]}})
    with both_runtime.session() as s:
        facility = s.get(models.Facility, practice.hospital_id)
        assert facility.name == "Saint Luke's Hospital"
        assert len(facility.hours) == 7


def test_update_audits_only_changed_fields(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        client = s.get(models.Client, practice.theo_clients[0])
        records.update_client(s, Actor(practice.admin_id, "test"), client,
                              {"room": "6E-01", "first_name": client.first_name})
    with both_runtime.session() as s:
        event = s.scalars(select(models.AuditEvent).where(
            models.AuditEvent.entity == "client")).one()
        assert event.detail == "room"
        assert event.actor_id == practice.admin_id


def test_unknown_precaution_flag_is_refused(sqlite_session, web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s:
        client = s.get(models.Client, practice.tess_client)
        with pytest.raises(ValidationError) as raised:
            records.update_client(s, ACTOR, client, {"precaution_flags": ["made_up_flag"]})
        assert "precaution_flags" in raised.value.by_field()


def test_delete_in_use_is_refused(web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s:
        with pytest.raises(records.InUse):
            records.delete_facility(s, ACTOR, s.get(models.Facility, practice.hospital_id))
        with pytest.raises(records.InUse):
            records.delete_client(s, ACTOR, s.get(models.Client, practice.tess_client))
        with pytest.raises(records.InUse):
            records.delete_series(s, ACTOR, s.get(models.AppointmentSeries,
                                                  practice.theo_series[0]))


def test_the_last_admin_cannot_be_demoted_or_deactivated(web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s:
        admin = s.get(models.Therapist, practice.admin_id)
        with pytest.raises(ValidationError) as raised:
            records.update_therapist(s, ACTOR, admin, {"role": "therapist"})
        assert "role" in raised.value.by_field()
        s.rollback()
        admin = s.get(models.Therapist, practice.admin_id)
        with pytest.raises(ValidationError) as raised:
            records.update_therapist(s, ACTOR, admin, {"active": False})
        assert "active" in raised.value.by_field()


def test_password_change_and_deactivation_end_sessions(web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s:
        theo = s.get(models.Therapist, practice.theo_id)
        before = theo.session_version
        records.update_therapist(s, ACTOR, theo, {"password": "another long password"})
        assert theo.session_version == before + 1
        records.update_therapist(s, ACTOR, theo, {"active": False})
        assert theo.session_version == before + 2
        records.update_therapist(s, ACTOR, theo, {"name": "Theo T."})
        assert theo.session_version == before + 2


def test_email_must_be_unique_ignoring_case(web_runtime):
    make_practice(web_runtime)
    with web_runtime.session() as s, pytest.raises(ValidationError) as raised:
        records.create_therapist(s, ACTOR, {"name": "Other", "email": "THEO@example.org",
                                            "home_lat": 39.0, "home_lon": -94.5})
    assert "email" in raised.value.by_field()


def test_cancel_occurrence_then_replace_with_move(web_runtime):
    practice = make_practice(web_runtime)
    from web_support import PLAN_DAY

    with web_runtime.session() as s:
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        cancel = records.cancel_occurrence(s, ACTOR, series, PLAN_DAY, "discharged")
        assert cancel.action == models.ExceptionAction.CANCEL
        with pytest.raises(ValidationError) as raised:
            records.create_exception(s, ACTOR, series, {"original_date": PLAN_DAY.isoformat(),
                                                        "action": "move"})
        assert "original_date" in raised.value.by_field()
        s.rollback()
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        with pytest.raises(ValidationError) as raised:  # not an occurrence: a Tuesday
            records.create_exception(s, ACTOR, series, {"original_date": "2026-03-10",
                                                        "action": "cancel"})
        assert "original_date" in raised.value.by_field()


def test_series_needs_a_therapist_or_skills(web_runtime):
    practice = make_practice(web_runtime)
    with web_runtime.session() as s, pytest.raises(ValidationError) as raised:
        records.create_series(s, ACTOR, {"client_id": practice.tess_client,
                                         "first_date": "2026-03-02", "duration_minutes": 45,
                                         "rule": "FREQ=WEEKLY;BYDAY=TU"})
    assert "required_skills" in raised.value.by_field()

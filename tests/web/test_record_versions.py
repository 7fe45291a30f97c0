"""scheduler.records.versions: a save from an older version is refused with the current
values, the version grows once per save that changes something, and two saves racing from
the same version cannot both land. On both backends: the race is the database's business.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from web_support import make_practice

from scheduler import clock, models, records
from scheduler.audit import Actor
from scheduler.records import versions
from scheduler.records.validation import ValidationError

ACTOR = Actor(None, "test")
DVT = "NEW: no pressure on left leg (DVT)"


def _client(runtime, client_id):
    with runtime.session() as s:
        client = s.get(models.Client, client_id)
        return client.version, client.precaution_notes, client.room


def test_a_record_starts_at_1_and_each_changing_save_adds_one(both_runtime):
    practice = make_practice(both_runtime)
    client_id = practice.theo_clients[0]
    assert _client(both_runtime, client_id)[0] == 1
    with both_runtime.session() as s:
        client = s.get(models.Client, client_id)
        records.update_client(s, ACTOR, client, {"precaution_notes": DVT, "room": "6E-01",
                                                 "version": 1})
    assert _client(both_runtime, client_id) == (2, DVT, "6E-01")
    with both_runtime.session() as s:  # the same values again: nothing to save, no new version
        client = s.get(models.Client, client_id)
        records.update_client(s, ACTOR, client, {"precaution_notes": DVT, "version": 2})
    assert _client(both_runtime, client_id)[0] == 2


def test_a_stale_save_is_refused_with_the_current_values_and_changes_nothing(both_runtime):
    practice = make_practice(both_runtime)
    client_id = practice.theo_clients[0]
    with both_runtime.session() as s:  # the therapist saves first, from version 1
        records.update_client(s, Actor(practice.theo_id, "test"), s.get(models.Client, client_id),
                              {"precaution_notes": DVT, "version": 1})
    with both_runtime.session() as s, pytest.raises(versions.Conflict) as raised:
        records.update_client(s, ACTOR, s.get(models.Client, client_id),
                              {"room": "9Z-99", "precaution_notes": "Tires quickly",
                               "version": 1})
    conflict = raised.value
    assert (conflict.kind, conflict.record_id) == ("client", client_id)
    assert (conflict.expected, conflict.current) == (1, 2)
    assert conflict.values["precaution_notes"] == DVT
    assert "password_hash" not in conflict.values and DVT not in str(conflict)
    assert _client(both_runtime, client_id) == (2, DVT, "5W-12")
    with both_runtime.session() as s:
        saved = versions.last_saved(s, "client", client_id)
    assert saved is not None and saved.who == "Theo Therapist, therapist"


def test_a_save_that_names_no_version_is_accepted_as_before(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        records.update_series(s, ACTOR, series, {"priority": 80})
        records.update_series(s, ACTOR, series, {"notes": "Bring the wedge pillow"})
    with both_runtime.session() as s:
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        assert (series.version, series.priority, series.notes) == (
            3, 80, "Bring the wedge pillow")


@pytest.mark.parametrize("raw", ["2", 0, -1, 1.5, True, [1]])
def test_a_version_that_is_not_a_whole_number_names_the_field(both_runtime, raw):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s, pytest.raises(ValidationError) as raised:
        records.update_client(s, ACTOR, s.get(models.Client, practice.tess_client),
                              {"room": "1", "version": raw})
    assert set(raised.value.by_field()) == {"version"}


def test_rows_edited_inside_the_parents_form_bump_the_parent(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        therapist = s.get(models.Therapist, practice.theo_id)
        records.update_therapist(s, ACTOR, therapist, {"shifts": {"MO": ["09:00", "15:00"]},
                                                       "version": 1})
        facility = s.get(models.Facility, practice.home_id)
        records.update_facility(s, ACTOR, facility, {"hours": {"TU": ["10:00", "16:00"]}})
    with both_runtime.session() as s:
        assert s.get(models.Therapist, practice.theo_id).version == 2
        assert s.get(models.Facility, practice.home_id).version == 2
        with pytest.raises(versions.Conflict):  # a therapist form opened before the change
            records.update_therapist(s, ACTOR, s.get(models.Therapist, practice.theo_id),
                                     {"break_minutes": 45, "version": 1})


def test_geocoded_coordinates_are_a_new_version(both_runtime):
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        records.set_facility_coordinates(s, ACTOR, s.get(models.Facility, practice.home_id),
                                         39.02, -94.59, models.CoordinateSource.GEOCODED)
    with both_runtime.session() as s:
        assert s.get(models.Facility, practice.home_id).version == 2


def test_two_saves_racing_from_the_same_version_cannot_both_land(both_runtime):
    """The second editor read version 1 and saves after the first committed version 2,
    without saying which version it started from: the UPDATE's WHERE version = 1 matches no
    row, and the save is refused as a conflict, not written over the first."""
    practice = make_practice(both_runtime)
    client_id = practice.theo_clients[0]
    late = both_runtime.sessions()
    try:
        stale_copy = late.get(models.Client, client_id)
        late.commit()  # the read ends; the loaded values stay (expire_on_commit=False)
        with both_runtime.session() as s:
            records.update_client(s, ACTOR, s.get(models.Client, client_id),
                                  {"precaution_notes": DVT})
        with pytest.raises(versions.Conflict) as raised:
            records.update_client(late, ACTOR, stale_copy, {"room": "9Z-99"})
        assert (raised.value.expected, raised.value.current) == (1, None)
        late.rollback()
    finally:
        late.close()
    assert _client(both_runtime, client_id) == (2, DVT, "5W-12")


def test_a_saved_change_still_marks_planned_days_stale(both_runtime, monkeypatch):
    """The version check sits before the change path's stale marking, not instead of it."""
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2026, 3, 8, 12, 0, tzinfo=UTC))
    practice = make_practice(both_runtime)
    with both_runtime.session() as s:
        series = s.get(models.AppointmentSeries, practice.theo_series[0])
        records.update_series(s, ACTOR, series, {"duration_minutes": 45, "version": 1})
    with both_runtime.session() as s:
        days = s.scalars(select(models.StaleDay.day).where(
            models.StaleDay.therapist_id == practice.theo_id)).all()
    assert date(2026, 3, 9) in days

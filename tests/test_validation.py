"""Bad input gets a message naming the field and the problem, and loses nothing saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time

import pytest
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.records import validation
from scheduler.records.validation import ValidationError


def _facility(**changes: object) -> models.Facility:
    facility = models.Facility(
        name="Villa St. Francis", kind=models.FacilityKind.NURSING_HOME,
        address="16600 W 126th St, Olathe, KS 66062", lat=38.89, lon=-94.77, overhead_minutes=10,
        hours=[models.VisitingHours(weekday=d, open=time(9), close=time(17)) for d in range(7)],
    )
    for name, value in changes.items():
        setattr(facility, name, value)
    return facility


def _client(facility: models.Facility, **changes: object) -> models.Client:
    client = models.Client(first_name="Ada", last_name="Quill", facility=facility, room="12",
                           precaution_flags=[], active=True)
    for name, value in changes.items():
        setattr(client, name, value)
    return client


def _series(client: models.Client, **changes: object) -> models.AppointmentSeries:
    series = models.AppointmentSeries(
        client=client, therapist_id=1, rule="FREQ=WEEKLY;BYDAY=TU,TH",
        first_date=date(2026, 11, 30), duration_minutes=45, priority=50,
        preferred_windows=[["09:00", "12:00"]], required_skills=[],
    )
    for name, value in changes.items():
        setattr(series, name, value)
    return series


def _fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {problem.field for problem in error.value.problems}


# --- parsers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda: validation.parse_time("start", "25:00"), "start", "HH:MM"),
        (lambda: validation.parse_date("first_date", "2026-02-30"), "first_date",
         "2026-02-30 is not a date: February 2026 has 28 days"),
        (lambda: validation.parse_date("first_date", "30.02.2026"), "first_date", "YYYY-MM-DD"),
        (lambda: validation.parse_int("priority", "high"), "priority", "whole number"),
        (lambda: validation.parse_int("priority", 101, maximum=100), "priority", "at most 100"),
        (lambda: validation.parse_float("lat", 91, minimum=-90, maximum=90), "lat", "between"),
        (lambda: validation.parse_weekday("weekday", "XX"), "weekday", "unknown weekday code"),
        (lambda: validation.parse_time_range("window", ["12:00", "09:00"]), "window",
         "before it starts"),
        (lambda: validation.parse_weekly_hours("hours", {"MO": ["09:00", "17:00"],
                                                         "XY": ["09:00", "17:00"]}),
         "hours.XY", "unknown weekday code"),
    ],
)
def test_parsers_name_the_field_and_the_problem(call, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        call()
    assert field in _fields(error)
    assert words in str(error.value)


@pytest.mark.parametrize(("text", "why"), [
    ("2026-02-30", "2026-02-30 is not a date: February 2026 has 28 days"),
    ("2028-02-30", "2028-02-30 is not a date: February 2028 has 29 days"),
    ("2026-04-31", "2026-04-31 is not a date: April 2026 has 30 days"),
    ("2026-13-01", "2026-13-01 is not a date: months go from 01 to 12"),
    ("2026-00-05", "2026-00-05 is not a date: months go from 01 to 12"),
    ("2026-05-00", "2026-05-00 is not a date: days start at 01"),
    ("0000-05-01", "0000-05-01 is not a date: years start at 0001"),
    # a real day, or not written as YYYY-MM-DD: nothing to say about the calendar
    ("2028-02-29", None), ("2026-12-31", None), ("20260230", None), ("2026-2-30", None),
])
def test_a_date_that_does_not_exist_says_why(text: str, why: str | None) -> None:
    assert validation.not_a_date(text) == why


def test_a_date_in_the_wrong_format_still_asks_for_the_format() -> None:
    with pytest.raises(ValidationError) as error:
        validation.parse_date("first_date", "next tuesday")
    assert "expected a date as YYYY-MM-DD, got 'next tuesday'" in str(error.value)


# --- record checks ---------------------------------------------------------------------------


def _problem_fields(check: Callable[[], None]) -> list[str]:
    try:
        check()
    except ValidationError as error:
        return [problem.field for problem in error.problems]
    return []


def test_a_good_facility_passes() -> None:
    # the baseline the cases below each break in one field
    assert _problem_fields(lambda: validation.check_facility(_facility())) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lat": 95.0}, "lat"),
        ({"lon": -200.0}, "lon"),
        ({"overhead_minutes": -5}, "overhead_minutes"),
        ({"name": "  "}, "name"),
        ({"hours": [models.VisitingHours(weekday=0, open=time(17), close=time(9))]}, "hours.MO"),
    ],
)
def test_bad_facilities_are_refused(changes: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        validation.check_facility(_facility(**changes))
    assert field in _fields(error)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"rule": "FREQ=WEEKLY;BYDAY=XX"}, "rule", "XX"),
        ({"rule": "every tuesday"}, "rule", ""),
        ({"duration_minutes": -30}, "duration_minutes", "positive"),
        ({"buffer_after_minutes": -10}, "buffer_after_minutes", "negative"),
    ],
)
def test_bad_treatments_are_refused(changes: dict, field: str, words: str) -> None:
    treatment = models.Treatment(kind="dialysis", rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
                                 first_date=date(2026, 11, 2), start_time=time(6),
                                 duration_minutes=240, buffer_before_minutes=0,
                                 buffer_after_minutes=60, policy=models.TreatmentPolicy.AVOID)
    for name, value in changes.items():
        setattr(treatment, name, value)
    with pytest.raises(ValidationError) as error:
        validation.check_treatment(treatment)
    assert field in _fields(error)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"last_date": date(2026, 11, 1)}, "last_date", "before it starts"),
        ({"duration_minutes": 0}, "duration_minutes", "positive"),
        ({"priority": 120}, "priority", "between 0 and 100"),
        ({"preferred_windows": [["12:00", "09:00"]]}, "preferred_windows[0]", "before it starts"),
        ({"rule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"}, "rule", ""),
        ({"duration_minutes": 200}, "duration_minutes", "longer than any window"),
        ({"therapist_id": None, "required_skills": []}, "required_skills", "skills"),
    ],
)
def test_bad_series_are_refused(sqlite_session: Session, changes: dict, field: str,
                                words: str) -> None:
    series = _series(_client(_facility()), **changes)
    with pytest.raises(ValidationError) as error:
        validation.check_series(sqlite_session, series)
    assert field in _fields(error)
    assert words in str(error.value)


def test_a_visit_longer_than_visiting_hours_is_refused_naming_them(sqlite_session: Session) -> None:
    series = _series(_client(_facility()), preferred_windows=[], duration_minutes=9 * 60)
    with pytest.raises(ValidationError, match="visiting hours 09:00–17:00"):
        validation.check_series(sqlite_session, series)


def test_a_series_for_an_inactive_client_is_refused(sqlite_session: Session) -> None:
    series = _series(_client(_facility(), active=False))
    with pytest.raises(ValidationError, match="inactive"):
        validation.check_series(sqlite_session, series)


def test_every_problem_is_reported_not_just_the_first(sqlite_session: Session) -> None:
    series = _series(_client(_facility()), priority=-1, duration_minutes=-5,
                     last_date=date(2020, 1, 1))
    with pytest.raises(ValidationError) as error:
        validation.check_series(sqlite_session, series)
    assert {"priority", "duration_minutes", "last_date"} <= _fields(error)


def test_a_rejected_change_loses_nothing_already_saved(session: Session) -> None:
    facility = _facility()
    session.add(facility)
    session.commit()
    facility.lat = 123.0
    facility.name = "Renamed"
    with pytest.raises(ValidationError):
        validation.check_facility(facility)
    session.rollback()
    session.expire_all()
    saved = session.get(models.Facility, facility.id)
    assert (saved.name, saved.lat) == ("Villa St. Francis", 38.89)

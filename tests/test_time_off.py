"""Time off in the calendar: a therapist who is off, or a closed practice, has no working time,
their own visits say why, open visits go to whoever works; and what may be saved."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.calendar.day import calendar_as_data, day_calendar, load_practice
from scheduler.records import time_off as time_off_records
from scheduler.records.validation import ValidationError
from web.cli import cli

ZONE = ZoneInfo("America/Chicago")
WEDNESDAY = date(2026, 12, 2)
DST_SUNDAY = date(2026, 11, 1)  # the clocks go back: a 25-hour day in Chicago
ACTOR = audit.Actor(None, "test")


@pytest.fixture
def practice(session: Session) -> dict[str, models.Base]:
    """Dana (oncology, every day) with a weekly visit, Eli (oncology, Wednesdays), and an open
    oncology visit on Wednesdays."""
    home = models.Facility(
        name="Test Home", kind=models.FacilityKind.NURSING_HOME, address="1 Main St",
        lat=39.05, lon=-94.59,
        hours=[models.VisitingHours(weekday=d, open=time(9), close=time(17)) for d in range(7)])
    dana = models.Therapist(name="Dana Reyes", email="dana@example.org", home_lat=39.0,
                            home_lon=-94.6, skills=["oncology"],
                            shifts=[models.Shift(weekday=d, start=time(8), end=time(16, 30))
                                    for d in range(7)])
    eli = models.Therapist(name="Eli Stone", email="eli@example.org", home_lat=39.1,
                           home_lon=-94.5, skills=["oncology"],
                           shifts=[models.Shift(weekday=2, start=time(8), end=time(12))])
    client = models.Client(first_name="Ada", last_name="Quill", facility=home, room="12")
    weekly = models.AppointmentSeries(client=client, therapist=dana, rule="FREQ=DAILY",
                                      first_date=date(2026, 10, 1), duration_minutes=60)
    open_series = models.AppointmentSeries(client=client, therapist=None,
                                           required_skills=["oncology"],
                                           rule="FREQ=WEEKLY;BYDAY=WE",
                                           first_date=date(2026, 11, 30), duration_minutes=30)
    session.add_all([home, dana, eli, client, weekly, open_series])
    session.commit()
    return {"dana": dana, "eli": eli, "weekly": weekly}


def _off(session: Session, therapist: models.Therapist | None, first: date, last: date,
         reason: str) -> models.TimeOff:
    entry = time_off_records.add(session, ACTOR, therapist.id if therapist else None,
                         {"first_day": first.isoformat(), "last_day": last.isoformat(),
                          "reason": reason})
    session.commit()
    return entry


def _days(session: Session, day: date) -> dict[str, object]:
    calendar = day_calendar(load_practice(session), day, ZONE)
    return {"calendar": calendar, **{d.therapist.name.split()[0]: d for d in calendar.therapists}}


def test_a_therapist_off_has_no_working_time_and_their_visits_say_why(
    session: Session, practice: dict
) -> None:
    before = _days(session, WEDNESDAY)
    assert before["Dana"].works and before["Dana"].visits[0].availability.windows
    _off(session, practice["dana"], date(2026, 12, 1), date(2026, 12, 3), "Vacation")
    days = _days(session, WEDNESDAY)
    dana = days["Dana"]
    assert not dana.works and dana.off == "Dana is off: Vacation (Dec 1–Dec 3)"
    (visit,) = dana.visits
    assert visit.availability.is_empty
    assert any(r.startswith("Dana is off: Vacation (Dec 1–Dec 3)")
               for r in visit.availability.reasons)
    # Eli still works, and the open visit may go to Eli (not to Dana)
    (open_visit,) = days["calendar"].open_visits
    assert days["Eli"].works and days["Eli"].off is None
    assert [t.name for t in days["calendar"].eligible_therapists(open_visit)] == ["Eli Stone"]


def test_the_days_around_the_time_off_are_ordinary(session: Session, practice: dict) -> None:
    _off(session, practice["dana"], date(2026, 12, 1), date(2026, 12, 3), "Vacation")
    for day in (date(2026, 11, 30), date(2026, 12, 4)):
        dana = _days(session, day)["Dana"]
        assert dana.works and dana.off is None and dana.visits[0].availability.windows


def test_someone_elses_time_off_changes_nothing_for_dana(session: Session,
                                                         practice: dict) -> None:
    _off(session, practice["eli"], WEDNESDAY, WEDNESDAY, "Conference")
    days = _days(session, WEDNESDAY)
    assert days["Dana"].works and not days["Eli"].works
    assert days["Eli"].off == "Eli is off: Conference (Dec 2)"
    (open_visit,) = days["calendar"].open_visits
    assert [t.name for t in days["calendar"].eligible_therapists(open_visit)] == ["Dana Reyes"]


def test_a_practice_closure_takes_everyone_off(session: Session, practice: dict) -> None:
    _off(session, None, WEDNESDAY, WEDNESDAY, "Staff day")
    days = _days(session, WEDNESDAY)
    calendar = days["calendar"]
    assert calendar.closed == "practice closed: Staff day"
    assert all(not d.works and d.off == "practice closed: Staff day"
               for d in calendar.therapists)
    assert calendar.eligible_therapists(calendar.open_visits[0]) == []
    assert _days(session, WEDNESDAY + timedelta(days=1))["calendar"].closed is None


def test_a_closure_is_named_before_a_vacation_on_the_same_day(session: Session,
                                                             practice: dict) -> None:
    _off(session, practice["dana"], date(2026, 11, 20), date(2026, 11, 30), "Vacation")
    _off(session, None, date(2026, 11, 26), date(2026, 11, 26), "Thanksgiving")
    assert _days(session, date(2026, 11, 26))["Dana"].off == "practice closed: Thanksgiving"
    assert _days(session, date(2026, 11, 27))["Dana"].off.startswith("Dana is off: Vacation")


def test_the_day_the_clocks_change_is_untouched_by_other_time_off_and_wholly_taken_by_its_own(
    session: Session, practice: dict
) -> None:
    def span(day_off: object) -> int:
        return sum(f.end - f.start for f in day_off.shift.free)

    assert span(_days(session, DST_SUNDAY)["Dana"]) == 8.5 * 3600
    _off(session, practice["dana"], date(2026, 10, 30), date(2026, 10, 31), "Sick")
    assert span(_days(session, DST_SUNDAY)["Dana"]) == 8.5 * 3600
    _off(session, practice["dana"], DST_SUNDAY, DST_SUNDAY, "Sick")
    dana = _days(session, DST_SUNDAY)["Dana"]
    assert not dana.works and dana.visits[0].availability.is_empty
    # the whole 25-hour day is taken, with the time off as the reason
    (removed,) = dana.visits[0].availability.removed
    assert removed.end - removed.start == 25 * 3600
    assert removed.why == "Dana is off: Sick (Nov 1)"


def test_as_data_and_rounds_visits_say_who_is_off(session: Session, practice: dict) -> None:
    _off(session, practice["dana"], WEDNESDAY, WEDNESDAY, "Vacation")
    data = calendar_as_data(day_calendar(load_practice(session), WEDNESDAY, ZONE))
    by_name = {t["name"]: t for t in data["therapists"]}
    assert by_name["Dana Reyes"]["off"] == "Dana is off: Vacation (Dec 2)"
    assert by_name["Dana Reyes"]["shift"] == [] and by_name["Eli Stone"]["off"] is None
    assert data["closed"] is None


def test_rounds_visits_shows_a_closed_practice(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ROUNDS_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(cli, ["demo", "--anchor", "2026-11-30"], env=env).exit_code == 0
    result = runner.invoke(cli, ["visits", "--date", "2026-12-25"], env=env)
    assert result.exit_code == 0, result.output
    assert "Practice closed: Christmas Day" in result.output
    assert "off (practice closed: Christmas Day)" in result.output


# ---------------------------------------------------------------------------------------------
# What may be saved


def _problems(session: Session, therapist_id: int | None, data: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        time_off_records.add(session, ACTOR, therapist_id, data)
    assert session.scalars(select(models.TimeOff)).all() == []
    return raised.value.by_field()


def test_the_last_day_before_the_first_is_refused_naming_the_field(
    session: Session, practice: dict
) -> None:
    problems = _problems(session, practice["dana"].id,
                         {"first_day": "2026-12-24", "last_day": "2026-12-20"})
    assert list(problems) == ["last_day"] and "before the first day" in problems["last_day"][0]


def test_more_than_a_year_is_refused(session: Session, practice: dict) -> None:
    problems = _problems(session, practice["dana"].id,
                         {"first_day": "2026-12-24", "last_day": "2027-12-26"})
    assert "at most 366" in problems["last_day"][0]
    ok = time_off_records.add(session, ACTOR, practice["dana"].id,
                      {"first_day": "2026-01-01", "last_day": "2026-12-31"})
    assert (ok.last_day - ok.first_day).days == 364


def test_unknown_therapist_missing_and_malformed_fields(session: Session, practice: dict) -> None:
    assert "no therapist with id 999" in _problems(
        session, 999, {"first_day": "2026-12-24", "last_day": "2026-12-24"})["therapist_id"][0]
    problems = _problems(session, None, {"first_day": "24/12/2026", "reason": "x" * 81,
                                         "color": "red"})
    assert "YYYY-MM-DD" in problems["first_day"][0]
    assert problems["last_day"] == ["is required"]
    assert "at most 80" in problems["reason"][0]
    assert problems["color"] == ["unknown field"]


def test_adding_and_removing_leaves_audit_rows_without_the_reason(
    session: Session, practice: dict
) -> None:
    entry = _off(session, practice["dana"], WEDNESDAY, WEDNESDAY, "Dentist")
    time_off_records.remove(session, ACTOR, entry)
    session.commit()
    assert session.scalars(select(models.TimeOff)).all() == []
    events = session.scalars(select(models.AuditEvent).where(
        models.AuditEvent.entity == "time_off")).all()
    assert [e.action for e in events] == ["create", "delete"]
    assert all("Dentist" not in e.detail for e in events)

"""The calendar glue: from records in the database to a day's visits with their windows."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.calendar.day import calendar_as_data, day_calendar, load_practice
from web.cli import cli

ZONE_NAME = "America/Chicago"
WEDNESDAY = date(2026, 12, 2)


@pytest.fixture
def practice(session: Session) -> dict[str, object]:
    """One nursing home, two therapists, a dialysis client with three series."""
    home = models.Facility(
        name="Test Home", kind=models.FacilityKind.NURSING_HOME, address="1 Main St",
        lat=39.05, lon=-94.59, overhead_minutes=10,
        hours=[models.VisitingHours(weekday=d, open=time(9), close=time(17)) for d in range(7)])
    dana = models.Therapist(name="Dana", email="dana@example.org", home_lat=39.0,
                            home_lon=-94.6, skills=["oncology"],
                            shifts=[models.Shift(weekday=d, start=time(8), end=time(16, 30))
                                    for d in range(5)])
    eli = models.Therapist(name="Eli", email="eli@example.org", home_lat=39.1, home_lon=-94.5,
                           skills=[], shifts=[models.Shift(weekday=2, start=time(8),
                                                           end=time(12))])
    client = models.Client(first_name="Ada", last_name="Quill", facility=home, room="12")
    dialysis = models.Treatment(client=client, kind="dialysis", label="dialysis",
                                rule="FREQ=WEEKLY;BYDAY=MO,WE,FR", first_date=date(2026, 11, 2),
                                start_time=time(6), duration_minutes=240,
                                buffer_after_minutes=60)
    weekly = models.AppointmentSeries(client=client, therapist=dana,
                                      rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
                                      first_date=date(2026, 11, 30), duration_minutes=60)
    open_series = models.AppointmentSeries(client=client, therapist=None,
                                           required_skills=["oncology"],
                                           rule="FREQ=WEEKLY;BYDAY=WE",
                                           first_date=date(2026, 11, 30), duration_minutes=30)
    moved = models.AppointmentSeries(
        client=client, therapist=eli, rule="FREQ=WEEKLY;BYDAY=TH", first_date=date(2026, 11, 30),
        duration_minutes=45,
        exceptions=[models.SeriesException(original_date=date(2026, 12, 3),
                                           action=models.ExceptionAction.MOVE,
                                           new_date=WEDNESDAY, new_start_time=time(11, 15))])
    session.add_all([home, dana, eli, client, dialysis, weekly, open_series, moved])
    session.commit()
    return {"dana": dana, "eli": eli, "client": client, "weekly": weekly,
            "open": open_series, "moved": moved}


def test_a_day_gives_each_therapist_their_visits_and_the_open_ones(
    session: Session, practice: dict
) -> None:
    calendar = day_calendar(load_practice(session), WEDNESDAY, ZoneInfo(ZONE_NAME))
    by_name = {d.therapist.name: d for d in calendar.therapists}
    (dana_visit,) = by_name["Dana"].visits
    (eli_visit,) = by_name["Eli"].visits
    (open_visit,) = calendar.open_visits
    assert dana_visit.series.id == practice["weekly"].id
    # dialysis 06:00-10:00 + 60 min after, visiting hours 09:00-17:00, shift to 16:30, 60 min
    windows = [(w.start_from, w.start_until) for w in dana_visit.availability.windows]
    assert [(dana_visit.availability.clock(a), dana_visit.availability.clock(b))
            for a, b in windows] == [("11:00", "15:30")]
    assert eli_visit.occurrence.moved and eli_visit.occurrence.original_date == date(2026, 12, 3)
    assert [eli_visit.availability.clock(w.start_from)
            for w in eli_visit.availability.windows] == ["11:15"]
    assert [t.name for t in calendar.eligible_therapists(open_visit)] == ["Dana"]


def test_inactive_clients_and_series_have_no_visits(session: Session, practice: dict) -> None:
    practice["weekly"].active = False
    session.commit()
    calendar = day_calendar(load_practice(session), WEDNESDAY, ZoneInfo(ZONE_NAME))
    assert not {d.therapist.name: d for d in calendar.therapists}["Dana"].visits
    practice["client"].active = False
    session.commit()
    calendar = day_calendar(load_practice(session), WEDNESDAY, ZoneInfo(ZONE_NAME))
    assert not calendar.open_visits and not any(d.visits for d in calendar.therapists)


def test_as_data_names_what_took_time_away_and_no_patient_name(
    session: Session, practice: dict
) -> None:
    data = calendar_as_data(day_calendar(load_practice(session), WEDNESDAY, ZoneInfo(ZONE_NAME)))
    text = json.dumps(data)
    assert "Quill" not in text and "Ada" not in text
    dana = next(t for t in data["therapists"] if t["name"] == "Dana")
    whys = [r["why"] for r in dana["visits"][0]["removed"]]
    assert "shift starts 08:00" in whys and "shift ends 16:30" in whys
    assert any(w.startswith("dialysis Mon/Wed/Fri 06:00–10:00 + 60 min after") for w in whys)
    assert "visiting hours open 09:00" in whys


def test_rounds_visits_on_the_demo(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"ROUNDS_INSTANCE_PATH": str(tmp_path), "DATABASE_URL": ""}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    assert runner.invoke(cli, ["demo", "--anchor", "2026-11-30"], env=env).exit_code == 0
    result = runner.invoke(cli, ["visits", "--date", "2026-12-02", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    visits = [v for t in data["therapists"] for v in t["visits"]] + data["open_visits"]
    assert len(visits) >= 12
    assert all(v["windows"] or v["reasons"] for v in visits)
    text = runner.invoke(cli, ["visits", "--date", "2026-12-02", "--therapist", "1"], env=env)
    assert text.exit_code == 0 and "may start" in text.output and "shift ends" in text.output
    bad = runner.invoke(cli, ["visits", "--date", "2026-13-02"], env=env)
    assert bad.exit_code == 2 and "2026-13-02 is not a date: months go from 01 to 12" in bad.output
    missing = runner.invoke(cli, ["visits", "--date", "2026-12-02", "--therapist", "999"], env=env)
    assert missing.exit_code == 2 and "no active therapist" in missing.output

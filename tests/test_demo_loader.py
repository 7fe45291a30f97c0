"""The demo loader: the data file becomes a practice, on both backends, and never overwrites a
practice that is not the demo."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import clock, database_start, models
from scheduler.accounts.passwords import verify_password
from scheduler.calendar import time_off
from scheduler.db import make_engine, make_session_factory
from scheduler.demo.first_week import days_to_plan
from scheduler.demo.loader import (
    DEMO_PASSWORD,
    DemoRefused,
    demo_anchor,
    is_demo_database,
    load_demo,
    read_demo_file,
)
from scheduler.plans import record
from scheduler.records.validation import ValidationError
from scheduler.settings import load_settings
from web.cli import cli

ANCHOR = date(2026, 11, 30)  # a Monday


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_the_demo_file_becomes_the_practice(session: Session) -> None:
    data = read_demo_file()
    summary = load_demo(session, anchor=ANCHOR)
    session.commit()
    assert _count(session, models.Facility) == len(data["facilities"]) == summary.facilities
    assert _count(session, models.Therapist) == len(data["therapists"])
    assert _count(session, models.Client) == len(data["clients"])
    assert _count(session, models.AppointmentSeries) == len(data["series"])
    assert _count(session, models.Treatment) == sum(len(c.get("treatments", []))
                                                    for c in data["clients"])
    assert is_demo_database(session) and demo_anchor(session) == ANCHOR
    therapist = session.scalars(select(models.Therapist)).first()
    assert verify_password(therapist.password_hash, DEMO_PASSWORD)
    assert not verify_password(therapist.password_hash, "wrong")
    first = min(s.first_date for s in session.scalars(select(models.AppointmentSeries)))
    assert first == ANCHOR


def test_loading_again_replaces_the_demo(session: Session) -> None:
    load_demo(session, anchor=ANCHOR)
    session.commit()
    load_demo(session, anchor=date(2026, 12, 7))
    session.commit()
    assert _count(session, models.Therapist) == len(read_demo_file()["therapists"])
    assert demo_anchor(session) == date(2026, 12, 7)


def test_a_practice_that_is_not_the_demo_is_kept_unless_reset(session: Session) -> None:
    session.add(models.Therapist(name="Real Person", email="real@example.org",
                                 home_lat=39.1, home_lon=-94.6))
    session.commit()
    with pytest.raises(DemoRefused, match="--reset"):
        load_demo(session, anchor=ANCHOR)
    session.rollback()
    assert session.scalar(select(models.Therapist.name)) == "Real Person"
    load_demo(session, anchor=ANCHOR, reset=True)
    session.commit()
    assert "Real Person" not in set(session.scalars(select(models.Therapist.name)))


def test_a_mistake_in_the_file_names_its_place_and_writes_nothing(session: Session) -> None:
    data = read_demo_file()
    data["facilities"][3]["lat"] = 123.0
    with pytest.raises(ValidationError, match=r"facilities\[3\]\.lat"):
        load_demo(session, anchor=ANCHOR, data=data)
    session.rollback()
    assert _count(session, models.Facility) == 0


def _cli_env(tmp_path: Path) -> dict[str, str]:
    """A new instance folder; a small optimizer budget, since `rounds demo` plans a week."""
    return {"ROUNDS_INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": "",
            "ROUNDS_PLANNING_TIME_LIMIT_SECONDS": "0.15"}


def test_the_commands_on_a_new_instance(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _cli_env(tmp_path)
    result = runner.invoke(cli, ["demo"], env=env)
    assert result.exit_code != 0 and "rounds db upgrade" in result.output
    result = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "rounds.sqlite3").exists()
    result = runner.invoke(cli, ["demo", "--anchor", "2026-12-02"], env=env)
    assert result.exit_code == 0, result.output
    assert "eight weeks from 2026-11-30" in result.output
    result = runner.invoke(cli, ["demo", "--if-needed", "--anchor", "2026-12-03"], env=env)
    assert result.exit_code == 0 and "is loaded" in result.output


def test_a_first_run_opens_on_published_routes_of_the_current_week(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rounds db upgrade` then `rounds demo` (what scripts/start does), on a Thursday: every
    therapist who works a day of that week has a published plan for it, and the database
    knows when it began (so its first worker records no e-mail missed from before)."""
    now = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # Thursday 11:30 in Kansas City
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    env = _cli_env(tmp_path)
    runner = CliRunner()
    for command in (["db", "upgrade"], ["demo"]):
        result = runner.invoke(cli, command, env=env)
        assert result.exit_code == 0, result.output
    assert "Planned and published 2026-11-30 to 2026-12-10" in result.output
    # the CLI's text about the demo's day is in words: no skill or field codes
    visits = runner.invoke(cli, ["visits", "--date", "2026-12-02"], env=env)
    assert visits.exit_code == 0, visits.output
    assert "needs dialysis chairside" in visits.output
    assert not re.search(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\[\d+\]", visits.output)

    settings = load_settings(environ=env)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            assert database_start.started_at(session) == now
            therapists = session.scalars(select(models.Therapist)).all()
            working = [(t, day) for t in therapists if t.active
                       for day in (ANCHOR + timedelta(days=d) for d in range(7))
                       if any(s.weekday == day.weekday() for s in t.shifts)
                       and time_off.off_on(session, t, day) is None]
            assert len(working) > 10
            for therapist, day in working:
                plan = record.current_plan(session, therapist.id, day)
                assert plan is not None, f"no plan for therapist {therapist.id} on {day}"
                assert plan.status == models.PlanStatus.PUBLISHED
            today = [record.current_plan(session, t.id, now.date()) for t, day in working
                     if day == now.date()]
            assert today and all(plan is not None and plan.stops for plan in today)
    finally:
        engine.dispose()


def test_the_days_planned_are_todays_week_and_a_week_ahead() -> None:
    assert days_to_plan(ANCHOR, date(2026, 12, 1)) == (ANCHOR, date(2026, 12, 8))
    # on a Saturday the coming week is planned too: the next working day has its route
    assert days_to_plan(ANCHOR, date(2026, 12, 5)) == (ANCHOR, date(2026, 12, 12))
    assert days_to_plan(ANCHOR, date(2026, 12, 9)) == (date(2026, 12, 7), date(2026, 12, 16))
    # never past the demo's eight weeks
    assert days_to_plan(ANCHOR, date(2027, 1, 23)) == (date(2027, 1, 18), date(2027, 1, 24))
    # today outside the demo's weeks: its first week
    assert days_to_plan(ANCHOR, date(2026, 11, 27)) == (ANCHOR, date(2026, 12, 6))
    assert days_to_plan(ANCHOR, ANCHOR + timedelta(weeks=8)) == (ANCHOR, date(2026, 12, 6))


def test_db_upgrade_records_when_a_new_database_began_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, later = datetime(2026, 12, 3, 12, tzinfo=UTC), datetime(2026, 12, 4, 12, tzinfo=UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: first)
    env = _cli_env(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0  # already current
    engine = make_engine(load_settings(environ=env).database_url)
    try:
        with make_session_factory(engine)() as session:
            assert database_start.started_at(session) == first
    finally:
        engine.dispose()

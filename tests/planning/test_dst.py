"""The days the clocks change plan like any other, in wall-clock time.

The demo is anchored on the Monday before each change (2026-03-08 spring forward, 2026-11-01
fall back, both Sundays). Nobody works Sundays in the demo, so Devon gets a Sunday shift
(07:00-15:30) and every series that visits on Saturdays gets a Sunday twin: the DST Sunday
then has real visits. Saturday, Sunday and Monday are planned and checked against the rules
recomputed with zoneinfo (plan_checks), and the Sunday's times are read on the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from conftest import TIME_LIMIT, demo_engine
from plan_checks import check_plan, local
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.db import make_session_factory
from scheduler.planning import plan_range
from scheduler.settings import Settings

CHANGES = {date(2026, 3, 8): timedelta(hours=23), date(2026, 11, 1): timedelta(hours=25)}


def sunday_work(session: Session) -> None:
    devon = session.scalars(select(models.Therapist)
                            .where(models.Therapist.email.startswith("devon"))).one()
    devon.shifts.append(models.Shift(weekday=6, start=time(7), end=time(15, 30)))
    for series in session.scalars(select(models.AppointmentSeries)).all():
        if series.rule and re.search(r"BYDAY=[A-Z,]*SA", series.rule):
            session.add(models.AppointmentSeries(
                client_id=series.client_id, therapist_id=series.therapist_id,
                required_skills=list(series.required_skills), rule="FREQ=WEEKLY;BYDAY=SU",
                first_date=series.first_date, duration_minutes=series.duration_minutes,
                preferred_windows=[list(p) for p in series.preferred_windows],
                priority=series.priority, during_treatment_id=series.during_treatment_id))


@pytest.fixture(scope="module", params=sorted(CHANGES), ids=str)
def dst_plans(request: pytest.FixtureRequest, sqlite_template: Path,
              tmp_path_factory: pytest.TempPathFactory,
              module_settings: Settings) -> Iterator[tuple[date, list[models.DayPlan]]]:
    change: date = request.param
    anchor = change - timedelta(days=6)
    engine = demo_engine(sqlite_template, tmp_path_factory.mktemp("dst"), anchor, sunday_work)
    with make_session_factory(engine)() as session:
        plans = plan_range(session, module_settings, change - timedelta(days=1),
                           change + timedelta(days=1), time_limit=TIME_LIMIT)
        yield change, plans
        session.rollback()
    engine.dispose()


def test_the_day_really_has_23_or_25_hours(dst_plans, module_settings) -> None:
    change, _ = dst_plans
    length = local(change + timedelta(days=1), time(), module_settings.zone) - \
        local(change, time(), module_settings.zone)
    assert length == CHANGES[change]


def test_the_days_around_the_change_keep_every_rule(dst_plans, module_settings) -> None:
    change, plans = dst_plans
    assert {p.day for p in plans} == {change - timedelta(days=1), change,
                                      change + timedelta(days=1)}
    problems = [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
                for text in check_plan(p, module_settings.zone)]
    assert problems == []


def test_the_sunday_is_planned_on_the_wall_clock(dst_plans, module_settings) -> None:
    change, plans = dst_plans
    zone = module_settings.zone
    sunday = [p for p in plans if p.day == change]
    assert len(sunday) == 1 and len(sunday[0].stops) >= 4
    plan = sunday[0]
    wall = [(s.start_at.astimezone(zone), s.end_at.astimezone(zone)) for s in plan.stops]
    assert all(a.date() == change and time(7) <= a.time() and b.time() <= time(15, 30)
               for a, b in wall)
    leave = plan.leave_home_at.astimezone(zone)
    assert time(7) <= leave.time() and plan.back_home_at.astimezone(zone).time() <= time(15, 30)
    # the offsets are the ones after the change, for every stop of the working day
    after = {date(2026, 3, 8): -5, date(2026, 11, 1): -6}[change]
    assert {a.utcoffset() for a, _ in wall} == {timedelta(hours=after)}
    lunch = plan.break_start_at.astimezone(zone)
    assert time(11) <= lunch.time() <= time(12, 30)  # Devon's window 11:00-13:00, 30 min

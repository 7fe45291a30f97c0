"""The checks the end-to-end tests rely on do catch broken plans: each test breaks one rule in
a good saved plan and expects the check to name it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import factories as make
from conftest import TIME_LIMIT
from plan_checks import check_plan

from scheduler import models
from scheduler.planning import plan_days

DAY = make.MONDAY


def good_plan(session, settings) -> models.DayPlan:
    therapist = make.therapist(session)
    oak = make.facility(session, "Oak", make.NORTH, overhead=10,
                        hours=(time(8), time(18)))
    bea = make.client(session, oak, "Bea")
    make.treatment(session, bea, time(10), 60, after=30)  # blocks 10:00-11:30
    make.series(session, bea, therapist, minutes=45, windows=[["08:00", "10:00"]])
    cal = make.client(session, oak, "Cal")
    dialysis = make.treatment(session, cal, time(13), 240, policy="during", kind="dialysis")
    make.series(session, cal, therapist, minutes=30, during=dialysis)
    plan = plan_days(session, settings, DAY, time_limit=TIME_LIMIT)[0]
    assert len(plan.stops) == 2 and check_plan(plan, settings.zone) == []
    return plan


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour + 6, minute, tzinfo=UTC)  # CST


def move(stop: models.PlanStop, start: datetime) -> None:
    length = stop.end_at - stop.start_at
    stop.arrive_at = start - timedelta(minutes=stop.overhead_minutes)
    stop.start_at, stop.end_at = start, start + length


def stop_of(plan: models.DayPlan, first_name: str) -> models.PlanStop:
    return next(s for s in plan.stops if s.client.first_name == first_name)


def test_a_visit_in_a_treatment_buffer_is_caught(sqlite_session, module_settings) -> None:
    plan = good_plan(sqlite_session, module_settings)
    move(stop_of(plan, "Bea"), utc(11))  # inside the 30 minutes after radiation
    assert any("overlaps radiation" in p for p in check_plan(plan, module_settings.zone))


def test_a_during_visit_outside_its_treatment_is_caught(sqlite_session, module_settings):
    plan = good_plan(sqlite_session, module_settings)
    move(stop_of(plan, "Cal"), utc(12))
    assert any("not inside its dialysis" in p for p in check_plan(plan, module_settings.zone))


def test_visiting_hours_and_shift_are_caught(sqlite_session, module_settings) -> None:
    plan = good_plan(sqlite_session, module_settings)
    move(stop_of(plan, "Cal"), utc(16, 50))  # Oak closes 18:00 but the shift ends 16:00
    problems = check_plan(plan, module_settings.zone)
    assert any("outside the therapist's shift" in p for p in problems)
    move(stop_of(plan, "Bea"), utc(7, 30))
    assert any("visiting hours" in p for p in check_plan(plan, module_settings.zone))


def test_a_missing_break_or_a_break_over_a_visit_is_caught(sqlite_session, module_settings):
    plan = good_plan(sqlite_session, module_settings)
    start, end = plan.break_start_at, plan.break_end_at
    plan.break_start_at = plan.break_end_at = None
    assert "no break planned although the shift covers the break window" in \
        check_plan(plan, module_settings.zone)
    cal = stop_of(plan, "Cal")
    plan.break_start_at, plan.break_end_at = cal.start_at, cal.start_at + (end - start)
    assert any("the break overlaps" in p for p in check_plan(plan, module_settings.zone))


def test_a_second_check_in_in_one_building_and_overlaps_are_caught(sqlite_session,
                                                                   module_settings):
    plan = good_plan(sqlite_session, module_settings)
    first, second = sorted(plan.stops, key=lambda s: s.position)
    second.overhead_minutes = 10
    problems = check_plan(plan, module_settings.zone)
    assert any("pays a check-in or drives within one building" in p for p in problems)
    move(second, first.start_at + timedelta(minutes=5))
    assert any("arrives before the previous visit ends" in p
               for p in check_plan(plan, module_settings.zone))


def test_an_unplaced_visit_without_words_is_caught(sqlite_session, module_settings) -> None:
    plan = good_plan(sqlite_session, module_settings)
    plan.unplaced = [{"series_id": 1, "reason": "job 3"}]
    assert any("no reason in words" in p for p in check_plan(plan, module_settings.zone))

"""plan_days on small hand-made practices: one check-in per building, reasons in words, pins,
moved occurrences, who may take an open visit. Times are local Chicago (CST in December)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import factories as make
from conftest import TIME_LIMIT
from plan_checks import check_plan
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.planning import pin_visit, plan_days, visit_key
from scheduler.settings import Settings

DAY = make.MONDAY


def at(hour: int, minute: int = 0) -> datetime:
    """A local time on DAY (Chicago is UTC-6 in December) as the UTC datetime plans hold."""
    return datetime(DAY.year, DAY.month, DAY.day, hour + 6, minute, tzinfo=UTC)


def plan_one(session: Session, settings: Settings, **options) -> models.DayPlan:
    plans = plan_days(session, settings, DAY, time_limit=TIME_LIMIT, **options)
    assert len(plans) == 1
    assert check_plan(plans[0], settings.zone) == []
    return plans[0]


def test_two_clients_in_one_building_cost_one_check_in(sqlite_session, module_settings):
    # Both 30 min visits must start 09:00-09:30: with one 20 min check-in the second starts
    # when the first ends, so both fit. Were the second client in another building at the
    # same address (its own check-in), the second visit could only start at 09:50: too late.
    therapist = make.therapist(sqlite_session)
    home = make.facility(sqlite_session, "Maple Court", make.MIDTOWN, overhead=20)
    for first in ("Bea", "Cal"):
        make.series(sqlite_session, make.client(sqlite_session, home, first), therapist,
                    minutes=30, windows=[["09:00", "10:00"]])
    plan = plan_one(sqlite_session, module_settings)
    first, second = sorted(plan.stops, key=lambda s: s.position)
    assert (first.overhead_minutes, second.overhead_minutes) == (20, 0)
    assert first.start_at == at(9) and second.start_at == at(9, 30) == first.end_at
    assert second.drive_minutes == 0 and plan.unplaced == []


def test_a_second_building_at_the_same_address_costs_a_second_check_in(sqlite_session,
                                                                       module_settings):
    therapist = make.therapist(sqlite_session)
    for name, first in (("Maple Court", "Bea"), ("Maple Court Annex", "Cal")):
        place = make.facility(sqlite_session, name, make.MIDTOWN, overhead=20)
        make.series(sqlite_session, make.client(sqlite_session, place, first), therapist,
                    minutes=30, windows=[["09:00", "10:00"]])
    plan = plan_one(sqlite_session, module_settings)
    assert len(plan.stops) == 1 and len(plan.unplaced) == 1
    assert plan.unplaced[0]["reason"].startswith("the day is full: left out for one visit")


def test_a_window_too_short_is_explained_with_its_times(sqlite_session, module_settings):
    # Radiation 08:30-10:15 with 30 min after, then PT 11:15: free 10:45-11:15, 30 minutes,
    # for a 60 minute visit.
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    make.treatment(sqlite_session, person, time(8, 30), 105, after=30)
    make.treatment(sqlite_session, person, time(11, 15), 45, kind="physical therapy")
    make.series(sqlite_session, person, therapist, minutes=60, windows=[["08:00", "12:00"]])
    plan = plan_one(sqlite_session, module_settings)
    assert plan.stops == []
    reason = plan.unplaced[0]["reason"]
    assert "only free between 10:45 and 11:15" in reason
    assert "shorter than the 60-minute visit" in reason


def test_an_open_visit_nobody_at_work_can_take_says_which_skill(sqlite_session,
                                                                module_settings):
    make.therapist(sqlite_session, skills=["oncology"])
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    item = make.series(sqlite_session, person, None, skills=["pediatric_oncology"])
    plan = plan_one(sqlite_session, module_settings)
    assert plan.unplaced == [{
        "series_id": item.id, "date": DAY.isoformat(), "original_date": DAY.isoformat(),
        "client_id": person.id, "facility_id": person.facility_id, "duration_minutes": 45,
        "priority": 50, "open": True,
        "reason": "open visit: no therapist working that day has the skills it needs "
                  "(pediatric oncology)"}]


def test_the_open_visit_goes_to_the_therapist_with_the_skill(sqlite_session, module_settings):
    make.therapist(sqlite_session, "Ada Pine", skills=["oncology"])
    skilled = make.therapist(sqlite_session, "Ben Ash", skills=["dialysis_chairside"])
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    make.series(sqlite_session, person, None, skills=["dialysis_chairside"])
    plans = plan_days(sqlite_session, module_settings, DAY, time_limit=TIME_LIMIT)
    holders = [p.therapist_id for p in plans for _ in p.stops]
    assert holders == [skilled.id]
    # the stop says why in words, not in the skill's code
    [note] = [stop.window_note for p in plans for stop in p.stops]
    assert "open visit (dialysis chairside)" in note and "_" not in note


def test_planning_one_therapist_leaves_the_open_visits_a_colleague_holds(sqlite_session,
                                                                        module_settings):
    ada = make.therapist(sqlite_session, "Ada Pine", skills=["oncology"])
    ben = make.therapist(sqlite_session, "Ben Ash", skills=["oncology"], home=make.NORTH)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    make.series(sqlite_session, person, None, skills=["oncology"])
    both = plan_days(sqlite_session, module_settings, DAY, time_limit=TIME_LIMIT)
    holder = next(p.therapist_id for p in both if p.stops)
    other = ada.id if holder == ben.id else ben.id
    again = plan_days(sqlite_session, module_settings, DAY, [other], time_limit=TIME_LIMIT)
    assert again[0].stops == [] and again[0].unplaced == []
    mine = plan_days(sqlite_session, module_settings, DAY, [holder], time_limit=TIME_LIMIT)
    assert len(mine[0].stops) == 1


def test_a_pin_holds_the_visit_at_its_time_through_later_plans(sqlite_session,
                                                               module_settings):
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    item = make.series(sqlite_session, person, therapist, windows=[["08:00", "16:00"]])
    key = visit_key(item.id, DAY)
    pinned = plan_one(sqlite_session, module_settings, pins={key: at(14, 10)})
    assert [(s.start_at, s.pinned) for s in pinned.stops] == [(at(14, 10), True)]
    assert "pinned to 14:10" in pinned.stops[0].window_note
    again = plan_one(sqlite_session, module_settings)
    assert [(s.start_at, s.pinned) for s in again.stops] == [(at(14, 10), True)]
    unpinned = plan_one(sqlite_session, module_settings, pins={key: None})
    assert [s.pinned for s in unpinned.stops] == [False]
    assert unpinned.stops[0].start_at < at(14, 10)  # the earliest start, once free to move


def test_pin_visit_plans_a_new_version_with_the_pin(sqlite_session, module_settings):
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    item = make.series(sqlite_session, person, therapist)
    first = plan_one(sqlite_session, module_settings)
    pinned = pin_visit(sqlite_session, module_settings, therapist.id, DAY,
                       visit_key(item.id, DAY), at(10, 15), time_limit=TIME_LIMIT)
    assert pinned.version == first.version + 1
    assert [(s.start_at, s.pinned) for s in pinned.stops] == [(at(10, 15), True)]


def test_a_pin_that_is_no_longer_allowed_is_planned_freely_and_says_so(sqlite_session,
                                                                       module_settings):
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    make.treatment(sqlite_session, person, time(14), 60)
    item = make.series(sqlite_session, person, therapist)
    plan = plan_one(sqlite_session, module_settings,
                    pins={visit_key(item.id, DAY): at(14, 10)})
    stop = plan.stops[0]
    assert not stop.pinned and stop.start_at != at(14, 10)
    assert "was pinned to 14:10, which is no longer possible; planned freely" in \
        stop.window_note


def test_a_moved_occurrence_with_a_fixed_start_starts_then(sqlite_session, module_settings):
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    item = make.series(sqlite_session, person, therapist)
    item.exceptions.append(models.SeriesException(
        original_date=DAY, action=models.ExceptionAction.MOVE, new_start_time=time(13, 20)))
    sqlite_session.flush()
    plan = plan_one(sqlite_session, module_settings)
    assert [s.start_at for s in plan.stops] == [at(13, 20)]


def test_a_visit_of_a_therapist_off_that_day_is_left_out_with_the_reason(sqlite_session,
                                                                         module_settings):
    therapist = make.therapist(sqlite_session)
    person = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    make.series(sqlite_session, person, therapist, rule="FREQ=WEEKLY;BYDAY=SU")
    sunday = DAY + timedelta(days=6)
    plans = plan_days(sqlite_session, module_settings, sunday, time_limit=TIME_LIMIT)
    assert [p.stops for p in plans] == [[]]
    assert "no shift on Sundays" in plans[0].unplaced[0]["reason"]


def test_nobody_at_work_and_no_visits_means_no_plans(sqlite_session, module_settings):
    make.therapist(sqlite_session)
    assert plan_days(sqlite_session, module_settings, DAY + timedelta(days=5)) == []

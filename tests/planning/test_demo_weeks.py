"""End to end on the demo practice: every day of its eight weeks planned, then checked.

All 56 days are planned (no sampling) with a small optimizer budget per day (TIME_LIMIT in
conftest): each therapist's route is still solved exactly, so the budget only limits how long
open visits are shuffled between therapists. The plans are made once for the module; each
test checks one family of rules on all of them, recomputed from the records by
``plan_checks`` (dateutil and zoneinfo, not the planner's availability).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest
from conftest import DEMO_ANCHOR, TIME_LIMIT, demo_engine
from plan_checks import (
    check_break,
    check_infection_order,
    check_limits,
    check_plan,
    check_sequence,
    check_stop,
    weekly_spans,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scheduler.calendar.day import day_calendar, load_practice
from scheduler.db import make_session_factory
from scheduler.models import DayPlan
from scheduler.planning import plan_range, visit_key
from scheduler.settings import Settings

DAYS = 56
CHRISTMAS = date(2026, 12, 25)  # a practice closure in the demo file (a Friday)


@pytest.fixture(scope="module")
def weeks(demo_db: Engine, module_settings: Settings) -> Iterator[tuple[Session, list[DayPlan]]]:
    """Every therapist's plan of every day of the demo's eight weeks (kept for the module)."""
    with make_session_factory(demo_db)() as session:
        plans = plan_range(session, module_settings, DEMO_ANCHOR,
                           DEMO_ANCHOR + timedelta(days=DAYS - 1), time_limit=TIME_LIMIT)
        yield session, plans
        session.rollback()


def test_there_is_a_plan_for_every_working_therapist_day(weeks, module_settings) -> None:
    session, plans = weeks
    zone = module_settings.zone
    planned = Counter((p.therapist_id, p.day) for p in plans)
    assert set(planned.values()) == {1}
    for plan in plans:
        shift = weekly_spans(plan.therapist.shifts, plan.day, zone, "start", "end")
        assert shift, f"a plan on {plan.day} for therapist {plan.therapist_id}, who is off"
    working = {(t.id, DEMO_ANCHOR + timedelta(days=d)) for t in {p.therapist for p in plans}
               for d in range(DAYS) if any(s.weekday == d % 7 for s in t.shifts)
               and DEMO_ANCHOR + timedelta(days=d) != CHRISTMAS}
    assert working <= set(planned)
    # Christmas Day the practice is closed: whoever has visits of their own that day gets a
    # plan saying they are left out, and why; nobody drives anywhere
    closed = [p for p in plans if p.day == CHRISTMAS]
    assert {(p.therapist_id, p.day) for p in closed} == set(planned) - working
    assert closed and all(not p.stops and p.unplaced for p in closed)
    assert {u["reason"] for p in closed for u in p.unplaced} == {"practice closed: Christmas Day"}
    assert sum(len(p.stops) for p in plans) > 600  # the demo has ~15 visits a working day


def test_no_stop_touches_an_avoided_treatment_and_during_visits_lie_inside(weeks,
                                                                           module_settings):
    _, plans = weeks
    zone = module_settings.zone
    problems = [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
                for stop in p.stops
                for text in check_stop(stop, p.day, zone,
                                       weekly_spans(p.therapist.shifts, p.day, zone,
                                                    "start", "end"))]
    assert problems == []
    during = [s for p in plans for s in p.stops if s.series.during_treatment is not None]
    assert len(during) > 20  # chair-side dialysis visits are planned, and were checked


def test_stops_follow_each_other_with_time_to_drive_and_one_check_in_per_building(weeks):
    _, plans = weeks
    problems = [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
                for text in check_sequence(p, sorted(p.stops, key=lambda s: s.position),
                                           [(p.leave_home_at, p.back_home_at)]
                                           if p.leave_home_at else [])]
    assert problems == []
    same_building = [s for p in plans for a, s in zip(sorted(p.stops, key=lambda s: s.position),
                                                      sorted(p.stops, key=lambda s: s.position)[1:],
                                                      strict=False)
                     if a.facility_id == s.facility_id]
    assert same_building, "the demo has days with two clients in one building"
    assert all(s.overhead_minutes == 0 and s.drive_minutes == 0 for s in same_building)


def test_the_break_is_taken_inside_its_window_and_the_shift(weeks, module_settings) -> None:
    _, plans = weeks
    zone = module_settings.zone
    problems = [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
                for text in check_break(p, p.stops, zone,
                                        weekly_spans(p.therapist.shifts, p.day, zone,
                                                     "start", "end"))]
    assert problems == []
    assert sum(p.break_start_at is not None for p in plans) > 100


def test_daily_limits_hold(weeks) -> None:
    _, plans = weeks
    assert [text for p in plans for text in check_limits(p, p.stops)] == []


def test_every_visit_is_placed_once_or_left_out_with_a_reason(weeks, module_settings) -> None:
    session, plans = weeks
    snapshot = load_practice(session)
    placed = Counter(visit_key(s.series_id, s.occurrence_date) for p in plans for s in p.stops)
    assert max(placed.values()) == 1
    reasons = {f"{u['series_id']}:{u['original_date']}": u["reason"]
               for p in plans for u in p.unplaced}
    missing = []
    for offset in range(DAYS):
        calendar = day_calendar(snapshot, DEMO_ANCHOR + timedelta(days=offset),
                                module_settings.zone)
        for visit in [v for t in calendar.therapists for v in t.visits] + \
                list(calendar.open_visits):
            if visit.key not in placed and visit.key not in reasons:
                missing.append(visit.key)
    assert missing == []
    assert reasons, "a realistic demo leaves some visits out, and says why"
    assert all(check_plan(p, module_settings.zone) == [] for p in plans)


def test_left_out_reasons_are_in_words(weeks) -> None:
    _, plans = weeks
    reasons = [u["reason"] for p in plans for u in p.unplaced]
    assert all(r.startswith(("the day is full", "cannot be fitted", "only free",
                             "open visit", "its last allowed start", "practice closed",
                             "this visit must come after the protected clients"))
               or "(takes" in r or "(infection-control order)" in r
               for r in reasons), reasons
    full = [r for r in reasons if r.startswith("the day is full: left out for")]
    assert full and all("it may start" in r for r in full)


def test_open_visits_go_to_therapists_with_the_skills(weeks) -> None:
    _, plans = weeks
    open_stops = [(p, s) for p in plans for s in p.stops if s.series.therapist_id is None]
    assert len({p.therapist_id for p, _ in open_stops}) >= 3  # shared across therapists
    assert all(set(s.series.required_skills) <= set(p.therapist.skills) for p, s in open_stops)


def test_solver_figures_are_stored(weeks) -> None:
    _, plans = weeks
    solved = [p.solver for p in plans if p.stops]
    assert len(solved) > 100  # eight weeks of four therapists' working days
    assert all(s["seconds"] >= 0 and s["objective"]["visits"] > 0 for s in solved)
    assert all(s["routes_proved_optimal"] for s in solved)
    assert all(f["proved_optimal"] for s in solved for f in s["routes"])


def test_no_protect_visit_after_an_isolation_visit(weeks) -> None:
    """Infection-control order, re-derived from each stop's client flags (plan_checks)."""
    _, plans = weeks
    assert [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
            for text in check_infection_order(p)] == []
    mixed = [p for p in plans
             if {"neutropenic"} & {f for s in p.stops for f in s.client.precaution_flags}
             and len(p.stops) > 1]
    assert len(mixed) >= 10, "the demo puts protect clients on days with other visits"


def test_the_order_rule_changes_routes(weeks, sqlite_template, tmp_path,
                                       module_settings) -> None:
    """The rule is not a no-op: with it off, the demo's first week is planned differently."""
    _, plans = weeks
    off = replace(module_settings, infection_control=replace(
        module_settings.infection_control, order="off"))
    engine = demo_engine(sqlite_template, tmp_path, DEMO_ANCHOR)
    try:
        with make_session_factory(engine)() as session:
            unordered = plan_range(session, off, DEMO_ANCHOR, DEMO_ANCHOR + timedelta(days=6),
                                   time_limit=TIME_LIMIT)

            def routes(chosen: list[DayPlan]) -> dict[tuple[int, date], list[int]]:
                return {(p.therapist_id, p.day): [s.series_id for s in
                                                  sorted(p.stops, key=lambda s: s.start_at)]
                        for p in chosen if p.day <= DEMO_ANCHOR + timedelta(days=6)}

            ordered, free = routes(plans), routes(unordered)
            assert ordered.keys() == free.keys()
            assert any(ordered[key] != free[key] for key in ordered)
            assert any(check_infection_order(p) for p in unordered), \
                "without the rule some demo route visits an isolation room before a protect client"
    finally:
        engine.dispose()

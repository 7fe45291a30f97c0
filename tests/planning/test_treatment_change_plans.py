"""Planning around a treatment's changed occurrences, on small hand-made practices whose answer
can be worked out by hand, and the plan checks that hold every plan to them.

Hemodialysis is Mon/Wed/Fri 06:00–10:00; on Monday 2026-12-07 the chair time moved to
08:00–12:00 (or was cancelled). The therapist works 07:00–16:00, the building is open
06:00–20:00. Times are local Chicago (CST in December, UTC-6).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import factories as make
import pytest
from conftest import DEMO_ANCHOR, TIME_LIMIT, demo_engine
from dateutil.rrule import rrulestr
from plan_checks import check_plan, treatment_spans
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import models, records
from scheduler.audit import Actor
from scheduler.db import make_session_factory
from scheduler.planning import plan_days, plan_range
from scheduler.settings import Settings

DAY = make.MONDAY  # 2026-12-07
WEDNESDAY = DAY + timedelta(days=2)
ACTOR = Actor(None, "test")


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A local time on ``day`` (Chicago is UTC-6 in December) as the UTC datetime plans hold."""
    return datetime(day.year, day.month, day.day, hour + 6, minute, tzinfo=UTC)


def plan_one(session: Session, settings: Settings, day: date = DAY) -> models.DayPlan:
    plans = plan_days(session, settings, day, time_limit=TIME_LIMIT)
    assert len(plans) == 1
    assert check_plan(plans[0], settings.zone) == []
    return plans[0]


def chair_side(session: Session, minutes: int = 150) -> tuple[models.Treatment,
                                                               models.AppointmentSeries]:
    """A chair-side visit of ``minutes`` during hemodialysis: on a usual Monday it may start
    07:00–07:30 (from the shift's start to 10:00 minus its length); with the chair time moved
    to 08:00–12:00 only 08:00–09:30."""
    therapist = make.therapist(session, shift=(time(7), time(16)))
    oak = make.facility(session, "Oak", make.NORTH, hours=(time(6), time(20)))
    bea = make.client(session, oak)
    dialysis = make.treatment(session, bea, time(6), 240, rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
                              policy="during", kind="hemodialysis")
    return dialysis, make.series(session, bea, therapist, minutes=minutes, during=dialysis)


def test_a_chair_side_visit_follows_the_moved_chair_time(sqlite_session, module_settings):
    dialysis, _ = chair_side(sqlite_session)
    records.move_treatment_occurrence(sqlite_session, ACTOR, dialysis, DAY,
                                      new_start_time=time(8), reason="chair moved")
    (stop,) = plan_one(sqlite_session, module_settings).stops
    assert at(8) <= stop.start_at and stop.end_at <= at(12)
    assert "Hemodialysis Mon/Wed/Fri 06:00–10:00, moved to 08:00–12:00 on this day" in \
        stop.window_note
    # Wednesday's session was not moved: the visit is inside 06:00–10:00 there.
    (usual,) = plan_one(sqlite_session, module_settings, WEDNESDAY).stops
    assert at(7, day=WEDNESDAY) <= usual.start_at and usual.end_at <= at(10, day=WEDNESDAY)


def test_a_chair_side_visit_follows_a_session_moved_to_another_day(sqlite_session,
                                                                   module_settings):
    dialysis, series = chair_side(sqlite_session, minutes=60)
    records.move_treatment_occurrence(sqlite_session, ACTOR, dialysis, DAY,
                                      new_date=DAY + timedelta(days=1), new_start_time=time(12))
    plan = plan_one(sqlite_session, module_settings)
    assert plan.stops == []
    reason = plan.unplaced[0]["reason"]
    assert "is moved from Mon 2026-12-07 to Tue 2026-12-08 12:00–16:00" in reason


def test_on_the_day_the_chair_time_is_cancelled_the_visit_is_left_out_in_words(
        sqlite_session, module_settings):
    dialysis, series = chair_side(sqlite_session)
    records.cancel_treatment_occurrence(sqlite_session, ACTOR, dialysis, DAY, "unit closed")
    plan = plan_one(sqlite_session, module_settings)
    assert plan.stops == []
    (entry,) = plan.unplaced
    assert entry["series_id"] == series.id
    assert ("Hemodialysis Mon/Wed/Fri 06:00–10:00 is cancelled on Mon 2026-12-07, and the "
            "visit must be during it") in entry["reason"]


def test_an_avoid_treatment_moved_into_the_visits_slot_pushes_it_away(sqlite_session,
                                                                      module_settings):
    # The visit prefers 09:00–12:00; radiation is usually 14:00–15:00, so the visit could
    # start anywhere 09:00–11:00. Moved to 09:00 for 120 minutes on the day, it blocks
    # 09:00–11:00: the 60-minute visit can only start at 11:00.
    therapist = make.therapist(sqlite_session, lunch=None)
    bea = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    radiation = make.treatment(sqlite_session, bea, time(14), 60)
    make.series(sqlite_session, bea, therapist, minutes=60, windows=[["09:00", "12:00"]])
    records.move_treatment_occurrence(sqlite_session, ACTOR, radiation, DAY,
                                      new_start_time=time(9), new_duration_minutes=120)
    (stop,) = plan_one(sqlite_session, module_settings).stops
    assert (stop.start_at, stop.end_at) == (at(11), at(12))


def test_a_treatment_course_that_ended_no_longer_blocks(sqlite_session, module_settings):
    therapist = make.therapist(sqlite_session, lunch=None)
    bea = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    radiation = make.treatment(sqlite_session, bea, time(8), 180)  # daily 08:00–11:00
    make.series(sqlite_session, bea, therapist, minutes=60, windows=[["09:00", "12:00"]])
    records.update_treatment(sqlite_session, ACTOR, radiation,
                             {"last_date": (DAY - timedelta(days=1)).isoformat()})
    (stop,) = plan_one(sqlite_session, module_settings).stops
    assert at(9) <= stop.start_at < at(11)  # inside what radiation took until yesterday


# ---------------------------------------------------------------------------------------------
# The plan checks apply the changes too, without the calendar


def test_the_plan_checks_see_a_session_moved_onto_a_planned_visit(sqlite_session,
                                                                  module_settings):
    therapist = make.therapist(sqlite_session, lunch=None)
    bea = make.client(sqlite_session, make.facility(sqlite_session, "Oak", make.NORTH))
    radiation = make.treatment(sqlite_session, bea, time(14), 60)
    make.series(sqlite_session, bea, therapist, minutes=60, windows=[["09:00", "10:00"]])
    plan = plan_one(sqlite_session, module_settings)  # the visit at 09:00–10:00
    records.move_treatment_occurrence(sqlite_session, ACTOR, radiation, DAY,
                                      new_start_time=time(9, 30))
    sqlite_session.refresh(radiation)
    assert treatment_spans(radiation, DAY, module_settings.zone) == [(at(9, 30), at(10, 30))]
    problems = check_plan(plan, module_settings.zone)
    assert len(problems) == 1 and "overlaps radiation 15:30–16:30 UTC" in problems[0]


def test_the_plan_checks_see_a_chair_time_moved_or_cancelled(sqlite_session, module_settings):
    dialysis, _ = chair_side(sqlite_session, minutes=60)
    plan = plan_one(sqlite_session, module_settings)  # inside 07:00–10:00
    records.move_treatment_occurrence(sqlite_session, ACTOR, dialysis, DAY,
                                      new_start_time=time(10))
    sqlite_session.refresh(dialysis)
    assert any("not inside its hemodialysis" in p for p in check_plan(plan,
                                                                      module_settings.zone))
    records.cancel_treatment_occurrence(sqlite_session, ACTOR, dialysis, DAY)
    sqlite_session.refresh(dialysis)
    assert treatment_spans(dialysis, DAY, module_settings.zone, buffers=False) == []
    assert treatment_spans(dialysis, WEDNESDAY, module_settings.zone, buffers=False) == [
        (at(6, day=WEDNESDAY), at(10, day=WEDNESDAY))]


def test_the_plan_checks_ignore_changes_the_rule_does_not_give(sqlite_session,
                                                               module_settings):
    dialysis, _ = chair_side(sqlite_session)
    dialysis.exceptions.append(models.TreatmentException(  # a Tuesday: not a session
        original_date=DAY + timedelta(days=1), action=models.ExceptionAction.MOVE,
        new_date=DAY, new_start_time=time(14)))
    dialysis.last_date = DAY
    dialysis.exceptions.append(models.TreatmentException(  # after the course ends
        original_date=WEDNESDAY, action=models.ExceptionAction.MOVE, new_date=DAY,
        new_start_time=time(16)))
    assert treatment_spans(dialysis, DAY, module_settings.zone) == [(at(6), at(10))]
    assert treatment_spans(dialysis, WEDNESDAY, module_settings.zone) == []


# ---------------------------------------------------------------------------------------------
# The demo's first week with a changed session of every treatment, planned and checked


def change_every_treatment(session: Session) -> None:
    """Through the records, the first session of each demo treatment in its first week:
    moved two hours later, cancelled, or moved to the next day an hour earlier and half an
    hour longer, in turn."""
    treatments = session.scalars(select(models.Treatment).order_by(models.Treatment.id)).all()
    for index, treatment in enumerate(treatments):
        rule = rrulestr(treatment.rule, dtstart=datetime.combine(treatment.first_date,
                                                                 treatment.start_time))
        first = rule.after(datetime.combine(DEMO_ANCHOR, time()), inc=True)
        assert first is not None
        day, start = first.date(), first.time()
        if index % 3 == 0:
            later = (first + timedelta(hours=2)).time()
            records.move_treatment_occurrence(session, ACTOR, treatment, day,
                                              new_start_time=later)
        elif index % 3 == 1:
            records.cancel_treatment_occurrence(session, ACTOR, treatment, day)
        else:
            earlier = (first - timedelta(hours=1)).time() if start >= time(1) else start
            records.move_treatment_occurrence(
                session, ACTOR, treatment, day, new_date=day + timedelta(days=1),
                new_start_time=earlier,
                new_duration_minutes=min(treatment.duration_minutes + 30, 24 * 60))


@pytest.fixture(scope="module")
def changed_week(sqlite_template, tmp_path_factory, module_settings):
    engine = demo_engine(sqlite_template, tmp_path_factory.mktemp("changed"), DEMO_ANCHOR,
                         change_every_treatment)
    with make_session_factory(engine)() as session:
        plans = plan_range(session, module_settings, DEMO_ANCHOR,
                           DEMO_ANCHOR + timedelta(days=6), time_limit=TIME_LIMIT)
        yield session, plans
        session.rollback()
    engine.dispose()


def test_a_week_with_every_treatment_changed_keeps_every_rule(changed_week, module_settings):
    session, plans = changed_week
    changes = session.scalars(select(models.TreatmentException)).all()
    assert len(changes) == len(session.scalars(select(models.Treatment)).all()) >= 10
    problems = [f"{p.day} therapist {p.therapist_id}: {text}" for p in plans
                for text in check_plan(p, module_settings.zone)]
    assert problems == []
    # Not vacuous: visits were planned on the changed days of clients whose treatment changed.
    changed_days = {(c.treatment.client_id, d) for c in changes
                    for d in (c.original_date, c.new_date) if d is not None}
    touched = [s for p in plans for s in p.stops if (s.client_id, p.day) in changed_days]
    assert len(touched) >= 5

"""Marks sent late (a phone without signal): saved where they still mean what the therapist
saw, with the time they were made; refused in words where the day changed under them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factories as make
import pytest
from conftest import TIME_LIMIT

from scheduler import models
from scheduler.models import PlanStatus, StopState
from scheduler.planning import plan_days
from scheduler.planning.marks import Mark, MarkRefused, made_at, mark_stop
from scheduler.plans.record import current_plan
from scheduler.records.validation import ValidationError

DAY = make.MONDAY
PLANNED_AT = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # 07:00 in Kansas City
NOW = PLANNED_AT + timedelta(hours=4)
PRESSED = PLANNED_AT + timedelta(hours=3)  # 10:00 in Kansas City, an hour before it arrives


def planned_day(session, settings) -> models.DayPlan:
    therapist = make.therapist(session)
    oak = make.facility(session, "Oak", make.NORTH)
    maple = make.facility(session, "Maple", make.MIDTOWN)
    make.series(session, make.client(session, oak, "Bea"), therapist, minutes=45)
    make.series(session, make.client(session, maple, "Cal"), therapist, minutes=30)
    plan = plan_days(session, settings, DAY, publish=True, now=PLANNED_AT,
                     time_limit=TIME_LIMIT)[0]
    assert len(plan.stops) == 2
    return plan


def next_version(session, plan: models.DayPlan, *, drop: int | None = None,
                 move: tuple[int, timedelta] | None = None) -> models.DayPlan:
    """The day planned again, as the planner would save it: the same stops, but for the one
    dropped or moved; published, the old version superseded."""
    stops = []
    for index, stop in enumerate(plan.stops):
        if index == drop:
            continue
        shift = move[1] if move and move[0] == index else timedelta(0)
        stops.append(models.PlanStop(
            position=len(stops), series_id=stop.series_id, occurrence_date=stop.occurrence_date,
            client_id=stop.client_id, facility_id=stop.facility_id,
            arrive_at=stop.arrive_at + shift, start_at=stop.start_at + shift,
            end_at=stop.end_at + shift, state=stop.state, state_at=stop.state_at))
    newer = models.DayPlan(therapist_id=plan.therapist_id, day=plan.day,
                           version=plan.version + 1, status=PlanStatus.PUBLISHED,
                           created_at=PLANNED_AT + timedelta(hours=2),
                           published_at=PLANNED_AT + timedelta(hours=2), unplaced=[],
                           stops=stops)
    plan.status = PlanStatus.SUPERSEDED
    session.add(newer)
    session.flush()
    return newer


def test_a_late_mark_keeps_the_time_it_was_made(session, module_settings):
    plan = planned_day(session, module_settings)
    stop = plan.stops[0]
    saved = mark_stop(session, module_settings, stop,
                      Mark(StopState.DONE, PRESSED, StopState.PLANNED, queued=True), NOW)
    assert saved is stop
    assert (stop.state, stop.state_at) == (StopState.DONE, PRESSED)
    # sent twice (the phone lost the answer): the first mark stands, time and all
    again = mark_stop(session, module_settings, stop,
                      Mark(StopState.DONE, NOW, StopState.PLANNED, queued=True), NOW)
    assert (again.state, again.state_at) == (StopState.DONE, PRESSED)


def test_the_age_of_a_mark_is_placed_on_the_servers_clock():
    assert made_at(NOW, "3600") == NOW - timedelta(hours=1)
    assert made_at(NOW, 0) == NOW
    for bad, words in (("-5", "must not be negative"), ("soon", "whole number of seconds"),
                       ("", "whole number of seconds"), ("1.5", "whole number of seconds"),
                       (str(8 * 24 * 3600), "more than 7 days old")):
        with pytest.raises(ValidationError) as error:
            made_at(NOW, bad)
        assert words in str(error.value), bad


def test_a_mark_dated_before_its_plan_or_after_now_is_refused(session, module_settings):
    plan = planned_day(session, module_settings)
    for moment, words in ((PLANNED_AT - timedelta(hours=1), "before the plan"),
                          (NOW + timedelta(hours=1), "after now")):
        with pytest.raises(ValidationError) as error:
            mark_stop(session, module_settings, plan.stops[0],
                      Mark(StopState.DONE, moment, queued=True), NOW)
        assert words in str(error.value)
    assert plan.stops[0].state == StopState.PLANNED


def test_planned_again_with_the_visit_unchanged_the_mark_follows_the_visit(session,
                                                                         module_settings):
    plan = planned_day(session, module_settings)
    old = plan.stops[0]
    newer = next_version(session, plan, drop=1)
    saved = mark_stop(session, module_settings, old,
                      Mark(StopState.SKIPPED, PRESSED, StopState.PLANNED, queued=True), NOW)
    assert saved.plan is newer and saved.series_id == old.series_id
    assert (saved.state, saved.state_at) == (StopState.SKIPPED, PRESSED)
    assert old.state == StopState.PLANNED  # the superseded copy is left as it was
    assert current_plan(session, plan.therapist_id, DAY) is newer


def test_a_visit_moved_by_a_new_plan_refuses_the_mark(session, module_settings):
    plan = planned_day(session, module_settings)
    old = plan.stops[0]
    start = old.start_at
    next_version(session, plan, move=(0, timedelta(minutes=40)))
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, old, Mark(StopState.DONE, PRESSED, queued=True),
                  NOW)
    zone = module_settings.zone
    later = (start + timedelta(minutes=40)).astimezone(zone)
    assert refused.value.reason == (
        f"the day was planned again at 09:00 and this visit is now at {later:%H:%M}, not "
        f"{start.astimezone(zone):%H:%M}: look at the day and mark it again")


def test_a_cancelled_visit_refuses_the_mark_saying_so(session, module_settings):
    plan = planned_day(session, module_settings)
    old = plan.stops[1]
    session.add(models.SeriesException(series_id=old.series_id,
                                       original_date=old.occurrence_date,
                                       action=models.ExceptionAction.CANCEL,
                                       reason="family visiting"))
    next_version(session, plan, drop=1)
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, old, Mark(StopState.DONE, PRESSED, queued=True),
                  NOW)
    assert refused.value.reason == ("the visit was cancelled (family visiting); the day was "
                                    "planned again at 09:00")
    assert all(stop.state == StopState.PLANNED
               for stop in current_plan(session, plan.therapist_id, DAY).stops)


def test_a_visit_gone_without_a_change_of_its_own_says_it_is_no_longer_planned(
        session, module_settings):
    plan = planned_day(session, module_settings)
    old = plan.stops[1]
    newer = next_version(session, plan, drop=1)
    newer.unplaced = [{"series_id": old.series_id, "date": DAY.isoformat(),
                       "client_id": old.client_id, "reason": "no time left in the shift"}]
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, old, Mark(StopState.SKIPPED, PRESSED), NOW)
    assert refused.value.reason.startswith(
        "the visit was left out of the day: no time left in the shift; the day was planned")
    newer.unplaced = []
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, old, Mark(StopState.SKIPPED, PRESSED), NOW)
    assert refused.value.reason.startswith("the visit is no longer in the day's plan;")


def test_a_visit_marked_otherwise_meanwhile_refuses_the_mark(session, module_settings):
    plan = planned_day(session, module_settings)
    stop = plan.stops[0]
    mark_stop(session, module_settings, stop,
              Mark(StopState.SKIPPED, PRESSED - timedelta(minutes=30)), NOW)
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, stop,
                  Mark(StopState.DONE, PRESSED, StopState.PLANNED, queued=True), NOW)
    assert refused.value.reason == "it was marked skipped at 09:30 meanwhile"
    assert stop.state == StopState.SKIPPED
    # the page that showed it skipped may change it: that is what its button meant
    mark_stop(session, module_settings, stop, Mark(StopState.DONE, PRESSED, StopState.SKIPPED),
              NOW)
    assert stop.state == StopState.DONE


@pytest.mark.parametrize("late", [StopState.DONE, StopState.ARRIVED])
def test_a_late_done_on_a_visit_the_records_now_forbid_is_refused(session, module_settings,
                                                                  late):
    """Done or Arrived, sent late from a phone, on a visit the records now forbid."""
    plan = planned_day(session, module_settings)
    stop = plan.stops[0]
    # cancelled in the office while the phone had no signal; the day not planned again yet
    session.add(models.SeriesException(series_id=stop.series_id,
                                       original_date=stop.occurrence_date,
                                       action=models.ExceptionAction.CANCEL, reason=""))
    session.flush()
    session.expire_all()
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, stop,
                  Mark(late, PRESSED, StopState.PLANNED, queued=True), NOW)
    assert refused.value.reason.startswith("do not visit: the visit is no longer on the "
                                           "calendar")
    assert stop.state == StopState.PLANNED
    # skipping it fits what happened; and on the page, where the warning shows, done is
    # the therapist's deliberate word
    mark_stop(session, module_settings, stop, Mark(StopState.SKIPPED, PRESSED, queued=True),
              NOW)
    assert stop.state == StopState.SKIPPED
    mark_stop(session, module_settings, stop, Mark(StopState.DONE, NOW), NOW)
    assert stop.state == StopState.DONE

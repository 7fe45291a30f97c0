"""Arrived: the therapist is at the visit, not done yet. The mark keeps its time, counts only
from planned, survives Done or Skipped after it, goes with Undo; a re-plan keeps the visit
where it is and plans the rest after it; the stale check still warns about it; every output
says it in words with its time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import TIME_LIMIT
from sqlalchemy import inspect, text
from test_marks import DAY, NOW, PLANNED_AT, planned_day

from scheduler import migrate, models
from scheduler.models import StopState
from scheduler.planning import replan_from, set_stop_state
from scheduler.planning.marks import Mark, MarkRefused, mark_stop
from scheduler.plans.check import check_plan
from scheduler.plans.view import build_view, next_stop
from scheduler.present.geojson import map_legend, route_geojson
from scheduler.present.plans_csv import plans_csv
from scheduler.present.text import itinerary_text
from scheduler.present.words import stop_details
from scheduler.records.validation import ValidationError

PRESSED = PLANNED_AT + timedelta(hours=3)  # 10:00 in Kansas City


def first(plan: models.DayPlan) -> models.PlanStop:
    return min(plan.stops, key=lambda s: s.position)


def test_arrived_keeps_its_time_through_done_and_undo_clears_it(session, module_settings):
    stop = first(planned_day(session, module_settings))
    mark_stop(session, module_settings, stop, Mark(StopState.ARRIVED, PRESSED), NOW)
    assert (stop.state, stop.state_at, stop.arrived_at) == (StopState.ARRIVED, PRESSED, PRESSED)
    # pressed again (or sent twice): the first arrival stands
    mark_stop(session, module_settings, stop, Mark(StopState.ARRIVED, NOW), NOW)
    assert stop.arrived_at == PRESSED
    done_at = PRESSED + timedelta(minutes=50)
    mark_stop(session, module_settings, stop,
              Mark(StopState.DONE, done_at, StopState.ARRIVED), NOW)
    assert (stop.state, stop.state_at, stop.arrived_at) == (StopState.DONE, done_at, PRESSED)
    mark_stop(session, module_settings, stop, Mark(StopState.PLANNED, NOW), NOW)
    assert (stop.state, stop.state_at, stop.arrived_at) == (StopState.PLANNED, None, None)
    # Undo straight from arrived goes back to planned too; skipped after arrived keeps it
    set_stop_state(session, stop, StopState.ARRIVED, PRESSED)
    set_stop_state(session, stop, StopState.PLANNED, NOW)
    assert (stop.state, stop.arrived_at) == (StopState.PLANNED, None)
    set_stop_state(session, stop, StopState.ARRIVED, PRESSED)
    set_stop_state(session, stop, StopState.SKIPPED, NOW)
    session.commit()
    session.expire_all()
    assert (stop.state, stop.state_at, stop.arrived_at) == (StopState.SKIPPED, NOW, PRESSED)


def test_arrived_is_only_for_a_visit_still_planned(session, module_settings):
    stop = first(planned_day(session, module_settings))
    set_stop_state(session, stop, StopState.DONE, PRESSED - timedelta(minutes=30))
    with pytest.raises(MarkRefused) as refused:
        mark_stop(session, module_settings, stop, Mark(StopState.ARRIVED, PRESSED), NOW)
    assert refused.value.reason == ("it was marked done at 09:30: only a visit still planned "
                                    "can be marked arrived")
    with pytest.raises(ValidationError) as error:  # the API's way in
        set_stop_state(session, stop, StopState.ARRIVED, PRESSED)
    assert "only a visit still planned can be marked arrived" in str(error.value)
    assert (stop.state, stop.arrived_at) == (StopState.DONE, None)


def test_late_arrived_then_done_from_a_phone_are_saved_in_order(session, module_settings):
    stop = first(planned_day(session, module_settings))
    mark_stop(session, module_settings, stop,
              Mark(StopState.ARRIVED, PRESSED, StopState.PLANNED, queued=True), NOW)
    mark_stop(session, module_settings, stop,
              Mark(StopState.DONE, PRESSED + timedelta(minutes=45), StopState.ARRIVED,
                   queued=True), NOW)
    assert (stop.state, stop.arrived_at) == (StopState.DONE, PRESSED)


def test_the_stale_check_still_warns_about_a_visit_arrived_at(session, module_settings):
    plan = planned_day(session, module_settings)
    stop = first(plan)
    set_stop_state(session, stop, StopState.ARRIVED, PRESSED)
    assert check_plan(session, plan, module_settings) == {}
    session.add(models.SeriesException(series_id=stop.series_id,
                                       original_date=stop.occurrence_date,
                                       action=models.ExceptionAction.CANCEL, reason=""))
    session.flush()
    session.expire_all()
    assert check_plan(session, plan, module_settings)[stop.id].startswith(
        "the visit is no longer on the calendar")
    set_stop_state(session, stop, StopState.DONE, NOW)  # done is past: no longer checked
    assert stop.id not in check_plan(session, plan, module_settings)


def test_a_replan_keeps_an_arrived_visit_and_plans_the_rest_after_it(session,
                                                                     module_settings):
    plan = planned_day(session, module_settings)
    here = first(plan)
    other = next(s for s in plan.stops if s is not here)
    set_stop_state(session, here, StopState.ARRIVED, here.start_at)
    kept = (here.series_id, here.start_at, here.end_at, here.facility_id)
    at = here.start_at + timedelta(minutes=5)  # in the room: running late from here

    new = replan_from(session, module_settings, plan.therapist_id, DAY, at,
                      time_limit=TIME_LIMIT)

    assert new is not plan and new.version == plan.version + 1
    (still,) = [s for s in new.stops if s.series_id == here.series_id]
    assert (still.series_id, still.start_at, still.end_at, still.facility_id) == kept
    assert (still.state, still.arrived_at) == (StopState.ARRIVED, here.start_at)
    assert still.position == 0
    rest = [s for s in new.stops if s.series_id == other.series_id]
    explained = [u for u in new.unplaced if u["series_id"] == other.series_id]
    assert len(rest) + len(explained) == 1
    for stop in rest:  # the rest of the day starts once the visit in progress ends
        assert stop.state == StopState.PLANNED and stop.start_at >= here.end_at
    # "What changed" does not report the visit in progress
    assert not [c for c in new.changes if c.get("key", "").startswith(f"{here.series_id}:")]


def test_every_output_says_arrived_in_words_with_its_time(session, module_settings):
    plan = planned_day(session, module_settings)
    stop, other = sorted(plan.stops, key=lambda s: s.position)
    set_stop_state(session, stop, StopState.ARRIVED, PRESSED)  # 10:00 in Kansas City
    view = build_view(plan, module_settings.zone)
    shown = next(s for s in view.stops if s.id == stop.id)
    assert shown.state_words == "Arrived 10:00"
    assert next_stop(view.stops) is shown  # the card stays on it until done or skipped
    assert "[Arrived 10:00]" in itinerary_text(view)
    assert stop_details(shown)[0] == "Arrived 10:00"
    assert "Arrived 10:00" in plans_csv([view])
    building = next(f for f in route_geojson(view)["features"]
                    if f["properties"]["kind"] == "building"
                    and f["properties"]["stops"][0]["stop_id"] == stop.id)
    assert building["properties"]["stops"][0]["sign"] == "◐"
    assert "arrived" in building["properties"]["title"]
    assert ("arrived", "◐", "arrived (in progress)") in map_legend()

    set_stop_state(session, stop, StopState.DONE, PRESSED + timedelta(minutes=40))
    view = build_view(plan, module_settings.zone)
    shown = next(s for s in view.stops if s.id == stop.id)
    assert shown.state_words == "Done 10:40 (arrived 10:00)"
    assert next_stop(view.stops).id == other.id  # now the card moves on


def test_migration_0011_adds_the_arrival_time_and_its_downgrade_forgets_arrivals(
        engine, session, module_settings):
    stop = first(planned_day(session, module_settings))
    set_stop_state(session, stop, StopState.ARRIVED, PRESSED)
    session.commit()
    stop_id = stop.id
    session.close()

    migrate.downgrade(engine, "0010")  # the code before 0011 knows no "arrived"
    assert "arrived_at" not in {c["name"] for c in inspect(engine).get_columns("plan_stops")}
    with engine.connect() as connection:
        row = connection.execute(text("SELECT state, state_at FROM plan_stops WHERE id = :id"),
                                 {"id": stop_id}).one()
    assert tuple(row) == ("planned", None)

    migrate.upgrade(engine)
    assert migrate.is_up_to_date(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT arrived_at FROM plan_stops WHERE id = :id"),
                                  {"id": stop_id}).scalar_one() is None

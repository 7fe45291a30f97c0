"""Versions, drafts and publishing, saved and read back on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time

import factories as make
from conftest import DEMO_ANCHOR, TIME_LIMIT
from sqlalchemy import select

from scheduler import models
from scheduler.models import PlanStatus, StopState
from scheduler.planning import days as planning_days
from scheduler.planning import plan_days, publish_plan, set_stop_state
from scheduler.plans.record import current_plan

DAY = make.MONDAY
NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)


def small_practice(session) -> models.Therapist:
    therapist = make.therapist(session, max_visits_per_day=6)
    oak = make.facility(session, "Oak", make.NORTH, overhead=10)
    maple = make.facility(session, "Maple", make.MIDTOWN, overhead=5)
    make.series(session, make.client(session, oak, "Bea"), therapist, minutes=45)
    make.series(session, make.client(session, oak, "Cal"), therapist, minutes=30,
                windows=[["13:00", "15:00"]])
    make.series(session, make.client(session, maple, "Dee"), therapist, minutes=60)
    person = make.client(session, maple, "Eli")
    make.treatment(session, person, time(8), 440)  # 08:00-15:20: free 15:20-16:00 only
    make.series(session, person, therapist, minutes=60)
    return therapist


def test_planning_again_adds_a_version_and_publishing_supersedes(session, module_settings):
    therapist = small_practice(session)
    first = plan_days(session, module_settings, DAY, now=NOW, time_limit=TIME_LIMIT)[0]
    # Planning again when nothing changed gives back the same plan: no version nobody could
    # tell from the last one (and no "Updated" e-mail about nothing).
    assert plan_days(session, module_settings, DAY, now=NOW, time_limit=TIME_LIMIT)[0] is first
    new_visit(session, therapist, "Fay")
    second = plan_days(session, module_settings, DAY, now=NOW, time_limit=TIME_LIMIT)[0]
    assert (first.version, second.version) == (1, 2)
    assert [change["kind"] for change in second.changes if change["kind"] == "added"] == [
        "added"]
    assert first.status == second.status == PlanStatus.DRAFT
    assert current_plan(session, therapist.id, DAY) is second

    publish_plan(session, first, NOW)
    assert current_plan(session, therapist.id, DAY) is first  # published beats a newer draft
    publish_plan(session, second, NOW)
    assert (first.status, second.status) == (PlanStatus.SUPERSEDED, PlanStatus.PUBLISHED)
    assert second.published_at == NOW

    # the same plan, published already: kept as it is
    assert plan_days(session, module_settings, DAY, publish=True, now=NOW,
                     time_limit=TIME_LIMIT)[0] is second
    # a draft of the same plan is a new version (a draft is not the published plan)
    draft = plan_days(session, module_settings, DAY, publish=False, now=NOW,
                      time_limit=TIME_LIMIT)[0]
    assert (draft.version, draft.status, second.status) == (3, PlanStatus.DRAFT,
                                                            PlanStatus.PUBLISHED)
    new_visit(session, therapist, "Gus")
    fourth = plan_days(session, module_settings, DAY, publish=True, now=NOW,
                       time_limit=TIME_LIMIT)[0]
    assert (fourth.version, fourth.status, second.status) == (4, PlanStatus.PUBLISHED,
                                                              PlanStatus.SUPERSEDED)
    versions = session.scalars(select(models.DayPlan.version)
                               .where(models.DayPlan.therapist_id == therapist.id)).all()
    assert sorted(versions) == [1, 2, 3, 4]  # earlier versions are kept


def new_visit(session, therapist: models.Therapist, name: str) -> None:
    """A 30-minute visit for a new client at Oak, which the day has room for."""
    oak = session.scalar(select(models.Facility).where(models.Facility.name == "Oak"))
    make.series(session, make.client(session, oak, name), therapist, minutes=30)


def test_a_saved_plan_reads_back_the_same(session, module_settings):
    therapist = small_practice(session)
    plan = plan_days(session, module_settings, DAY, now=NOW, time_limit=TIME_LIMIT)[0]
    set_stop_state(session, plan.stops[0], StopState.DONE)
    session.commit()
    expected = {
        "stops": [(s.position, s.series_id, s.start_at, s.end_at, s.arrive_at, s.drive_km,
                   s.overhead_minutes, s.state, s.window_note)
                  for s in sorted(plan.stops, key=lambda s: s.position)],
        "times": (plan.leave_home_at, plan.back_home_at, plan.break_start_at,
                  plan.break_end_at, plan.created_at),
        "unplaced": plan.unplaced, "solver": plan.solver,
    }
    plan_id = plan.id
    session.expunge_all()

    again = session.get(models.DayPlan, plan_id)
    assert again.therapist_id == therapist.id
    assert [(s.position, s.series_id, s.start_at, s.end_at, s.arrive_at, s.drive_km,
             s.overhead_minutes, s.state, s.window_note)
            for s in sorted(again.stops, key=lambda s: s.position)] == expected["stops"]
    assert (again.leave_home_at, again.back_home_at, again.break_start_at,
            again.break_end_at, again.created_at) == expected["times"]
    assert all(t.tzinfo is not None for t in expected["times"])
    assert again.unplaced == expected["unplaced"] and again.solver == expected["solver"]
    # Eli is free 15:20-16:00 only and the visit lasts 60 minutes
    assert len(again.unplaced) == 1
    assert "shorter than the 60-minute visit" in again.unplaced[0]["reason"]
    assert again.stops[0].state == StopState.DONE
    # clean up what the commit kept (the fixture empties PostgreSQL; SQLite is a fresh file)
    session.delete(again)
    session.commit()


def test_planning_days_in_worker_processes_gives_the_plans_of_planning_them_one_by_one(
        session, module_settings):
    from datetime import timedelta

    from scheduler.planning import plan_range

    small_practice(session)
    last = DAY + timedelta(days=2)

    def routes(processes: int) -> list[tuple]:
        plans = plan_range(session, module_settings, DAY, last, now=NOW, time_limit=TIME_LIMIT,
                           processes=processes)
        return [(p.day, p.therapist_id, [(s.series_id, s.start_at) for s in p.stops],
                 sorted(u["series_id"] for u in p.unplaced)) for p in plans]

    one_by_one = routes(1)
    assert len(one_by_one) == 3 and all(stops for _, _, stops, _ in one_by_one)
    assert routes(2) == one_by_one


def test_two_plannings_of_one_day_at_once_take_consecutive_versions(engine, module_settings,
                                                                      monkeypatch):
    """Two requests planning the same day together (two tabs, the morning job and a re-plan):
    both are saved, one after the other, and the last to publish is the one published."""
    import threading

    from scheduler.db import make_session_factory

    sessions = make_session_factory(engine)
    with sessions() as setup:
        therapist_id = small_practice(setup).id
        setup.commit()
    # Both solve before either saves: each waits (a little) for the other at the barrier.
    # On SQLite the second cannot even start reading until the first commits, so the wait
    # times out there; on PostgreSQL both really are between solving and saving at once.
    barrier = threading.Barrier(2)
    solve_day = planning_days.solve_day

    def solve_then_meet(*args, **kwargs):
        answer = solve_day(*args, **kwargs)
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass
        return answer

    monkeypatch.setattr(planning_days, "solve_day", solve_then_meet)
    # Both plan the same day from the same records; on SQLite the second then finds the
    # first's plan and, as nothing changed, would keep it. What is tested here is the
    # numbering under a race, so every planning counts as a change.
    monkeypatch.setattr(planning_days, "same_plan", lambda base, new: False)
    saved: list[tuple[int, PlanStatus]] = []
    errors: list[BaseException] = []

    def plan_and_publish() -> None:
        try:
            with sessions() as session:
                plan = plan_days(session, module_settings, DAY, [therapist_id], publish=True,
                                 now=NOW, time_limit=TIME_LIMIT)[0]
                session.commit()
                saved.append((plan.version, plan.status))
        except BaseException as error:  # reported below, with the other thread's outcome
            errors.append(error)

    threads = [threading.Thread(target=plan_and_publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(version for version, _ in saved) == [1, 2]
    with sessions() as check:
        statuses = dict(check.execute(
            select(models.DayPlan.version, models.DayPlan.status)
            .where(models.DayPlan.therapist_id == therapist_id, models.DayPlan.day == DAY)).all())
    assert statuses == {1: PlanStatus.SUPERSEDED, 2: PlanStatus.PUBLISHED}


def test_an_unchanged_demo_day_planned_again_keeps_its_version(demo_session, module_settings):
    """Four therapists sharing open visits: the assignment and every route stop on counted
    work (the day's time limit is only a cap, far above what the demo needs), so planning
    the same day again gives the same plans, and no new version."""
    first = plan_days(demo_session, module_settings, DEMO_ANCHOR, publish=True, now=NOW)
    assert len(first) > 1 and sum(len(p.stops) for p in first) > 10
    assert first[0].solver["assign"], "the demo day shares open visits between therapists"
    assign_seconds = max(a["seconds"] for a in first[0].solver["assign"])
    again = plan_days(demo_session, module_settings, DEMO_ANCHOR, publish=True, now=NOW)
    assert [p.id for p in again] == [p.id for p in first], (
        f"planned differently (assignment took {assign_seconds} s of a "
        f"{module_settings.planning.time_limit_seconds / 2} s cap)")
    assert all(p.kept_unchanged for p in again)

"""When itineraries go out: send times, weekdays, DST, catch-up and the stored jobs."""

from __future__ import annotations

import email
import email.policy
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from mail_fixtures import CHICAGO, DST_DAYS, DrivenClock, add_plan, add_practice, local
from sqlalchemy import select

from scheduler import models, planning
from scheduler.db import make_engine, make_session_factory
from scheduler.delivery import itineraries, job_store, send_times, senders, worker
from scheduler.delivery.outbox import Outcome
from scheduler.demo.loader import load_demo
from scheduler.runtime import Runtime
from scheduler.settings import Settings

MONDAY = date(2026, 3, 9)


def _therapist(**values: object) -> models.Therapist:
    shifts = values.pop("shift_days", (0, 1, 2, 3, 4))
    fields: dict[str, object] = {"id": 7, "name": "T", "email": "t@example.org",
                                 "home_lat": 0.0, "home_lon": 0.0, "active": True,
                                 "email_weekdays": [], "email_time": None}
    therapist = models.Therapist(**{**fields, **values})
    therapist.shifts = [models.Shift(weekday=d, start=time(8), end=time(17))
                        for d in shifts]  # type: ignore[attr-defined]
    return therapist


@pytest.mark.parametrize(("value", "refused"), [
    (time(0, 0), True), (time(1, 30), True), (time(2, 59), True),
    (time(3, 0), False), (time(6, 0), False), (time(23, 30), False),
])
def test_send_times_between_midnight_and_three_are_refused(value: time, refused: bool) -> None:
    assert (send_times.send_time_problem(value) is not None) == refused


def test_a_refused_stored_time_falls_back_to_the_default(settings: Settings) -> None:
    assert send_times.send_time(_therapist(email_time=time(2, 30)), settings) == time(6, 0)
    assert send_times.send_time(_therapist(email_time=time(5, 45)), settings) == time(5, 45)
    assert send_times.send_time(_therapist(), settings) == settings.mail.default_send_time


def test_working_days_are_the_chosen_weekdays_else_the_shift_days() -> None:
    assert send_times.working_weekdays(_therapist()) == {0, 1, 2, 3, 4}
    assert send_times.working_weekdays(_therapist(email_weekdays=["MO", "SA"])) == {0, 5}
    assert send_times.working_weekdays(_therapist(shift_days=())) == set()


@pytest.mark.parametrize("day", DST_DAYS)
def test_the_cron_trigger_fires_at_six_local_on_the_days_the_clocks_change(
        settings: Settings, day: date) -> None:
    trigger = send_times.itinerary_trigger(_therapist(shift_days=range(7)), settings)
    assert trigger is not None
    fire = trigger.get_next_fire_time(None, local(day - timedelta(days=1), 5))
    fires = []
    for _ in range(3):  # the day before, the day itself, the day after
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert [f.astimezone(CHICAGO).replace(tzinfo=None) for f in fires] == [
        datetime.combine(day + timedelta(days=offset), time(6)) for offset in (-1, 0, 1)]
    offsets = {f.utcoffset() for f in fires}
    assert len(offsets) == 2  # the same 06:00 wall clock on both sides of the change


def test_no_trigger_for_an_inactive_or_non_working_therapist(settings: Settings) -> None:
    assert send_times.itinerary_trigger(_therapist(active=False), settings) is None
    assert send_times.itinerary_trigger(_therapist(shift_days=()), settings) is None


def test_due_day_and_deadline(settings: Settings) -> None:
    weekdays = _therapist()  # Monday to Friday
    assert send_times.due_day(weekdays, settings, local(MONDAY, 5, 59)) is None  # Sunday off
    assert send_times.due_day(weekdays, settings, local(MONDAY, 6)) == MONDAY
    tuesday = MONDAY + timedelta(days=1)
    assert send_times.due_day(weekdays, settings, local(tuesday, 5)) == MONDAY  # yesterday's
    assert send_times.deadline(MONDAY, time(6), settings) == local(MONDAY, 11)
    assert send_times.deadline(MONDAY, time(11, 30), settings) == local(MONDAY, 12, 30)


# --- Catch-up, on both backends --------------------------------------------------------------


@pytest.fixture
def practice(runtime: Runtime) -> Runtime:
    with runtime.session() as session:
        practice = add_practice(session, therapists=2)
        for therapist_id in practice.therapist_ids:
            add_plan(session, practice, therapist_id, MONDAY)
    return runtime


def _context(runtime: Runtime) -> itineraries.WorkerContext:
    return itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "test")


def _outbox(runtime: Runtime) -> list[tuple[int, date, models.OutboxState]]:
    with runtime.session() as session:
        rows = session.scalars(select(models.OutboxMessage).order_by(
            models.OutboxMessage.therapist_id, models.OutboxMessage.day))
        return [(r.therapist_id, r.day, r.state) for r in rows]


def test_catching_up_before_the_cutoff_sends_once(practice: Runtime) -> None:
    context = _context(practice)
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 6, 20)) == Outcome.SENT
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 6, 25)) == Outcome.NOT_CLAIMED
    # a no-op:
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 11, 30)) == Outcome.MISSED
    assert _outbox(practice) == [(1, MONDAY, models.OutboxState.SENT)]
    assert len(list(practice.settings.outbox_path.glob("*.eml"))) == 1


def test_after_the_cutoff_the_miss_is_recorded_and_nothing_sent(practice: Runtime) -> None:
    context = _context(practice)
    assert itineraries.settle_therapist(context, 1, local(MONDAY, 11, 30)) == Outcome.MISSED
    # the next morning, before its send time, a worker still records yesterday's miss
    assert itineraries.settle_therapist(context, 2, local(MONDAY + timedelta(days=1), 5)) == \
        Outcome.MISSED
    assert _outbox(practice) == [(1, MONDAY, models.OutboxState.MISSED),
                                 (2, MONDAY, models.OutboxState.MISSED)]
    assert not practice.settings.outbox_path.exists()


# --- The stored jobs -------------------------------------------------------------------------


@pytest.fixture
def paused_scheduler(practice: Runtime, drop_job_table: None,
                     monkeypatch: pytest.MonkeyPatch) -> Iterator[BackgroundScheduler]:
    """A scheduler that runs nothing: paused, and its clock at 05:00 on MONDAY (APScheduler
    processes due jobs once while shutting down, by its own clock)."""
    DrivenClock(local(MONDAY, 5)).install(monkeypatch.setattr)
    job_store.ensure_job_table(practice.engine)
    scheduler = worker.build_scheduler(practice, BackgroundScheduler)
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=False)


def _next_runs(scheduler: BackgroundScheduler) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs(jobstore="default")}


def test_sync_adds_changes_and_removes_jobs_as_therapists_change(
        practice: Runtime, paused_scheduler: BackgroundScheduler) -> None:
    now = local(MONDAY, 5)
    report = worker.sync_itinerary_jobs(paused_scheduler, practice, now)
    assert report.added == (1, 2)
    assert _next_runs(paused_scheduler) == {"itinerary:1": local(MONDAY, 6),
                                            "itinerary:2": local(MONDAY, 6)}
    job = paused_scheduler.get_job("itinerary:1")
    assert job.func_ref == worker.ITINERARY_JOB and job.args == (1,)

    # Nothing changed: the pending run time is kept, even after it has passed.
    later = local(MONDAY, 9)
    assert worker.sync_itinerary_jobs(paused_scheduler, practice, later) == worker.SyncReport(
        (), (), ())
    assert _next_runs(paused_scheduler)["itinerary:1"] == local(MONDAY, 6)

    with practice.session() as session:
        first = session.get(models.Therapist, 1)
        second = session.get(models.Therapist, 2)
        assert first is not None and second is not None
        first.email_time = time(7, 15)
        first.email_weekdays = ["TU"]
        second.active = False
    report = worker.sync_itinerary_jobs(paused_scheduler, practice, later)
    assert (report.changed, report.removed) == ((1,), ("itinerary:2",))
    assert _next_runs(paused_scheduler) == {"itinerary:1": local(MONDAY + timedelta(days=1),
                                                                7, 15)}


def test_jobs_survive_a_restart(practice: Runtime,
                                paused_scheduler: BackgroundScheduler) -> None:
    worker.sync_itinerary_jobs(paused_scheduler, practice, local(MONDAY, 5))
    paused_scheduler.shutdown(wait=False)
    again = worker.build_scheduler(practice, BackgroundScheduler)
    again.start(paused=True)
    try:
        assert _next_runs(again) == {"itinerary:1": local(MONDAY, 6),
                                     "itinerary:2": local(MONDAY, 6)}
    finally:
        again.shutdown(wait=False)


def test_a_renamed_job_function_stops_the_worker_at_start(
        practice: Runtime, paused_scheduler: BackgroundScheduler, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "rounds_old_jobs.py"
    module.write_text("def send_morning_mail(therapist_id):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    paused_scheduler.add_job("rounds_old_jobs:send_morning_mail", "cron", hour=6, args=[1],
                             id="itinerary:1", jobstore="default")
    monkeypatch.delitem(sys.modules, "rounds_old_jobs")
    module.write_text("def renamed(therapist_id):\n    pass\n")

    with pytest.raises(job_store.JobReferenceError, match="itinerary:1.*send_morning_mail"):
        worker.prepare(practice)
    assert job_store.clear_stored_jobs(practice.engine) == 1
    worker.prepare(practice)  # after a rebuild the worker starts


def test_in_process_scheduler_catches_up_at_start(practice: Runtime, drop_job_table: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`rounds serve` on the embedded default: started at 06:20, it sends this morning's."""
    DrivenClock(local(MONDAY, 6, 20)).install(monkeypatch.setattr)
    scheduler = worker.start_in_process(practice)
    try:
        for _ in range(300):  # the housekeeping thread runs at once; wait for its outcome
            if len(_outbox(practice)) == 2:
                break
            threading.Event().wait(0.1)
    finally:
        worker.stop_in_process(scheduler)
    assert _outbox(practice) == [(1, MONDAY, models.OutboxState.SENT),
                                 (2, MONDAY, models.OutboxState.SENT)]
    assert len(list(practice.settings.outbox_path.glob("*.eml"))) == 2
    assert worker._context is None  # unbound after stop


# --- With the real planner and the demo practice ---------------------------------------------


def test_the_job_plans_an_unplanned_day_and_leaks_nothing(settings: Settings,
                                                          sqlite_url: str) -> None:
    """The Kansas City demo, no plan yet for Tuesday: the 06:00 job plans and publishes the
    day, then sends it. Nothing in the message names a patient or a diagnosis."""
    tuesday = MONDAY + timedelta(days=1)
    engine = make_engine(sqlite_url)
    runtime = Runtime(replace(settings, database=replace(settings.database, url=sqlite_url)),
                      engine, make_session_factory(engine))
    with runtime.session() as session:
        load_demo(session, anchor=MONDAY)
        therapist = session.scalars(select(models.Therapist).order_by(models.Therapist.id)
                                    ).first()
        assert therapist is not None and tuesday.weekday() in send_times.working_weekdays(therapist)
        send_at = send_times.send_time(therapist, settings)
    try:
        outcome = itineraries.settle_therapist(_context(runtime),
                                        therapist.id, local(tuesday, send_at.hour,
                                                            send_at.minute))
        assert outcome == Outcome.SENT
        with runtime.session() as session:
            plans = session.scalars(select(models.DayPlan).where(
                models.DayPlan.therapist_id == therapist.id, models.DayPlan.day == tuesday)
            ).all()
            assert [p.status for p in plans] == [models.PlanStatus.PUBLISHED]
            visited = [stop.client for stop in plans[0].stops]
            assert visited
            words = {w for c in visited for w in (c.first_name, c.last_name) if len(w) > 2}
            conditions = {c.diagnosis for c in visited if c.diagnosis}
        (path,) = runtime.settings.outbox_path.glob("*.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        readable = "\n".join([str(message["Subject"]),
                              message.get_body(("plain",)).get_content(),
                              message.get_body(("html",)).get_content(),
                              *(part.get_content() for part in message.iter_attachments())])
        for word in words:
            assert not re.search(rf"\b{re.escape(word)}\b", readable), word
        for condition in conditions:
            assert condition not in readable
        assert f"{len(visited)} visit" in str(message["Subject"])
    finally:
        engine.dispose()


def test_when_planning_fails_the_email_says_so_and_the_log_names_no_patient(
        practice: Runtime, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no route for Marguerite Quimby")  # its text must not be logged

    monkeypatch.setattr(planning, "plan_days", broken)
    tuesday = MONDAY + timedelta(days=1)  # the fixture published Monday only
    assert itineraries.settle_therapist(_context(practice), 1, local(tuesday, 6)) == Outcome.SENT
    (path,) = practice.settings.outbox_path.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Action needed for Tuesday 10 March 2026: the day could not " \
                                 "be planned"
    assert "Could not plan today's visits" in message.get_body(("plain",)).get_content()
    assert "planning therapist 1 on 2026-03-10 failed (RuntimeError)" in caplog.text
    assert "Quimby" not in caplog.text

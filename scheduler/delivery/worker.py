"""The scheduler that sends the morning e-mails: APScheduler 3, its jobs and their store.

What runs where:

- ``rounds worker`` (:func:`run_worker`) is the scheduler's own process; ``rounds serve`` starts
  one in-process (:func:`start_in_process`) only for the embedded default (SQLite, no
  DATABASE_URL), where a second process would be a burden.
- Each therapist has one persistent job, ``itinerary:<id>``: a cron trigger at their send time
  (:mod:`.send_times`), in the practice's zone, so the days the clocks change still send at
  06:00 local. The jobs live in an APScheduler ``SQLAlchemyJobStore`` table on the practice
  database and survive restarts. The job function is named by its text path
  (:data:`ITINERARY_JOB`); a job store holding a path that no longer resolves stops the worker
  at start (:class:`JobReferenceError`) instead of APScheduler quietly deleting the job.
- Every half minute each process plans the stale days again (:mod:`scheduler.planning.refresh`:
  the days a change to the records touched, shared between workers by leases) and sends the
  update e-mails the new versions call for (:func:`.itineraries.send_updates`).
- Each process also runs *housekeeping* every few minutes, and once at start: it reconciles the
  jobs with the therapists (new therapist, changed send time or weekdays, deactivation), and
  lets :mod:`.itineraries` resolve crashed sends, retry, and catch up on missed send times.
- Retries keep their stated backoff (2, 4, 8 ... minutes, :func:`.outbox.retry_delay`), not
  the housekeeping's rhythm: after every job the process schedules a one-off *retry* job at
  the earliest ``next_attempt_at`` still ahead (:func:`schedule_retry`).

What a job does is a plain function of :mod:`.itineraries`, also reachable from the command
line (``rounds send-itineraries``). APScheduler stores only a job's text path and arguments,
so the job functions find the process's worker (runtime, mail sender, scheduler) through
:func:`bind`, which ``run_worker`` and ``start_in_process`` call; nothing is bound at import.

Time comes from :func:`scheduler.clock.utcnow`; nothing here reads the system clock directly.

One module over 400 lines, on purpose: the jobs, their reconciliation with the therapists and
the process's start and stop are one piece of APScheduler wiring, read together when a job
does not run; the job table lives apart in :mod:`.job_store`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import clock
from scheduler.delivery import outbox
from scheduler.delivery.itineraries import (
    WorkerContext,
    catch_up,
    new_worker_id,
    retry_due,
    send_updates,
    settle_therapist,
)
from scheduler.delivery.job_store import (
    JOB_TABLE,
    PracticeJobStore,
    check_stored_jobs,
    ensure_job_table,
)
from scheduler.delivery.send_times import itinerary_trigger
from scheduler.delivery.senders import MailSender, sender_from_settings
from scheduler.models import Therapist
from scheduler.planning.refresh import replan_stale
from scheduler.runtime import Runtime
from scheduler.settings import Settings

log = logging.getLogger("rounds.jobs")

# Text paths, not function objects: the job store keeps them, and a rename must fail loudly.
ITINERARY_JOB = "scheduler.delivery.worker:morning_itinerary_job"
HOUSEKEEPING_JOB = "scheduler.delivery.worker:housekeeping_job"
HOUSEKEEPING_ID = "rounds:housekeeping"
HOUSEKEEPING_EVERY = timedelta(minutes=5)
REPLAN_JOB = "scheduler.delivery.worker:replan_job"
REPLAN_ID = "rounds:replan"
REPLAN_EVERY = timedelta(seconds=30)
"""Stale days are planned again within a minute of the change that touched them."""
RETRY_JOB = "scheduler.delivery.worker:retry_job"
RETRY_ID_PREFIX = "rounds:retry:"


# ---------------------------------------------------------------------------------------------
# APScheduler: the jobs and their reconciliation with the therapists

# The worker bound to this process (set by run_worker / start_in_process, never at import):
# APScheduler stores only a job's text path and arguments, so the job functions find the
# runtime, the sender and the scheduler here.
_context: WorkerContext | None = None
_scheduler: BaseScheduler | None = None


def _bound_context() -> WorkerContext:
    if _context is None:
        raise RuntimeError("no Rounds worker is running in this process "
                           "(see scheduler.delivery.worker)")
    return _context


def morning_itinerary_job(therapist_id: int) -> None:
    """The cron job: one therapist's morning itinerary (or its missed row)."""
    context = _bound_context()
    now = clock.utcnow()
    settle_therapist(context, therapist_id, now)
    schedule_retry(context, now)


def retry_job() -> None:
    """When a backoff ends: send what is due again (itineraries and update e-mails)."""
    context = _bound_context()
    now = clock.utcnow()
    retry_due(context, now)
    send_updates(context, now)
    schedule_retry(context, now)


def schedule_retry(context: WorkerContext, now: datetime) -> datetime | None:
    """Make this process retry at the earliest ``next_attempt_at`` after ``now``, if any.

    One one-off job per instant, named by it: a job that schedules the next one while it
    runs must not replace itself (APScheduler removes a finished one-off job by its id).
    Instants at or before ``now`` are not scheduled: the job running now, or housekeeping,
    deals with those (and a row nobody can send does not make the job run in a loop).
    """
    if _scheduler is None:
        return None
    when = outbox.next_attempt_after(context.runtime.sessions, now)
    if when is None:
        return None
    zone = context.runtime.settings.zone
    _scheduler.add_job(
        RETRY_JOB, DateTrigger(run_date=when, timezone=zone),
        id=f"{RETRY_ID_PREFIX}{when.isoformat()}", name="rounds retry after backoff",
        jobstore="local", replace_existing=True,
    )
    return when


def housekeeping_job() -> None:
    """Every few minutes: reconcile jobs, resolve and retry sends, catch up on missed times."""
    context = _bound_context()
    now = clock.utcnow()
    if _scheduler is not None:
        sync_itinerary_jobs(_scheduler, context.runtime, now)
        # Another process may have added or moved jobs in the shared store; APScheduler only
        # looks at the store when it wakes, so make it look now rather than at its next wakeup.
        _scheduler.wakeup()
    retry_due(context, now)
    catch_up(context, now)
    schedule_retry(context, now)


def replan_job() -> None:
    """Every half minute: plan the stale days again, then send the update e-mails their new
    versions call for (today and tomorrow, after the morning e-mail went)."""
    context = _bound_context()
    now = clock.utcnow()
    runtime = context.runtime
    replan_stale(runtime.sessions, runtime.settings, now, context.worker)
    send_updates(context, now)
    schedule_retry(context, now)


def job_id(therapist_id: int) -> str:
    return f"itinerary:{therapist_id}"


def _signature(trigger: Any) -> str:
    return f"{trigger}|{getattr(trigger, 'timezone', '')}"


@dataclass(frozen=True)
class SyncReport:
    added: tuple[int, ...]
    changed: tuple[int, ...]
    removed: tuple[str, ...]


def sync_itinerary_jobs(scheduler: BaseScheduler, runtime: Runtime,
                        now: datetime) -> SyncReport:
    """Make the stored jobs match the therapists: one cron job per active, working therapist.

    A job whose trigger is unchanged is left alone, so its pending run time is kept.
    """
    with runtime.session() as session:
        therapists = session.scalars(
            select(Therapist).options(selectinload(Therapist.shifts))
        ).all()
        wanted = {job_id(t.id): (t.id, trigger) for t in therapists
                  if (trigger := itinerary_trigger(t, runtime.settings)) is not None}
    existing = {job.id: job for job in scheduler.get_jobs(jobstore="default")
                if job.id.startswith("itinerary:")}
    added, changed, removed = [], [], []
    for stale_id in existing.keys() - wanted.keys():
        try:
            scheduler.remove_job(stale_id, jobstore="default")
        except JobLookupError:
            pass  # another worker removed it first
        removed.append(stale_id)
    for identifier, (therapist_id, trigger) in wanted.items():
        job = existing.get(identifier)
        next_run = trigger.get_next_fire_time(None, now)
        if job is None:
            scheduler.add_job(ITINERARY_JOB, trigger=trigger, args=[therapist_id], id=identifier,
                              name=f"itinerary for therapist {therapist_id}",
                              jobstore="default", replace_existing=True, next_run_time=next_run)
            added.append(therapist_id)
        elif _signature(job.trigger) != _signature(trigger) or job.func_ref != ITINERARY_JOB:
            try:
                scheduler.modify_job(identifier, jobstore="default", func=ITINERARY_JOB,
                                     trigger=trigger, next_run_time=next_run)
            except JobLookupError:
                continue
            changed.append(therapist_id)
    if added or changed or removed:
        log.info("jobs synced: %d added, %d changed, %d removed", len(added), len(changed),
                 len(removed))
    return SyncReport(tuple(added), tuple(changed), tuple(removed))


def build_scheduler(runtime: Runtime, scheduler_class: type[BaseScheduler] = BlockingScheduler,
                    *, executor: BaseExecutor | None = None) -> BaseScheduler:
    """A configured, not yet started scheduler: persistent itinerary jobs on the practice
    database, housekeeping in memory (each process runs its own)."""
    scheduler = scheduler_class(
        jobstores={
            "default": PracticeJobStore(engine=runtime.engine, tablename=JOB_TABLE),
            "local": MemoryJobStore(),
        },
        executors={"default": executor or ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=runtime.settings.zone,
    )
    _RUNNING[scheduler] = _RunningJobs(scheduler)
    return scheduler


class _RunningJobs:
    """How many jobs were handed to the executor and have not finished, from the scheduler's
    own events, so that stopping can wait for them (see :func:`stop_scheduler`)."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self._count = 0
        self._changed = threading.Condition()
        scheduler.add_listener(self._started, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _started(self, _event: Any) -> None:
        with self._changed:
            self._count += 1

    def _finished(self, _event: Any) -> None:
        with self._changed:
            self._count -= 1  # may come before its start event; the sum is what counts
            self._changed.notify_all()

    def wait_until_idle(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._count <= 0)


_RUNNING: weakref.WeakKeyDictionary[BaseScheduler, _RunningJobs] = weakref.WeakKeyDictionary()


def stop_scheduler(scheduler: BaseScheduler) -> None:
    """Stop ``scheduler``, letting the jobs already running (a send under way) finish.

    Not ``shutdown(wait=True)``: APScheduler 3 holds its job-store lock while it waits for
    the running jobs, and the housekeeping job reads the job store (it reconciles the
    itinerary jobs), so a stop during housekeeping would wait forever. Instead the scheduler
    stops without waiting (once it holds that lock, every due job has been handed over and
    counted), and then the running jobs are waited for, the lock free."""
    if scheduler.running:
        scheduler.shutdown(wait=False)
    running = _RUNNING.get(scheduler)
    if running is not None:
        running.wait_until_idle()


def bind(context: WorkerContext, scheduler: BaseScheduler | None) -> None:
    """Make ``context`` the one the job functions of this process use."""
    global _context, _scheduler
    _context, _scheduler = context, scheduler


def unbind() -> None:
    global _context, _scheduler
    _context, _scheduler = None, None


@contextmanager
def bound(context: WorkerContext, scheduler: BaseScheduler | None) -> Iterator[WorkerContext]:
    bind(context, scheduler)
    try:
        yield context
    finally:
        unbind()


def prepare(runtime: Runtime, sender: MailSender | None = None) -> WorkerContext:
    """Checks made before any job runs: the job table, stored job references, mail settings."""
    ensure_job_table(runtime.engine)
    check_stored_jobs(runtime.engine)
    return WorkerContext(runtime=runtime, sender=sender or sender_from_settings(runtime.settings),
                         worker=new_worker_id())


def add_housekeeping(scheduler: BaseScheduler, runtime: Runtime, now: datetime,
                     every: timedelta = HOUSEKEEPING_EVERY,
                     replan_every: timedelta = REPLAN_EVERY) -> None:
    """Housekeeping now, then every ``every``, and the re-planning of stale days every
    ``replan_every``: this process's own jobs (memory store)."""
    scheduler.add_job(
        HOUSEKEEPING_JOB, IntervalTrigger(seconds=every.total_seconds(),
                                          start_date=now, timezone=runtime.settings.zone),
        id=HOUSEKEEPING_ID, name="rounds housekeeping", jobstore="local",
        replace_existing=True, next_run_time=now,
    )
    scheduler.add_job(
        REPLAN_JOB, IntervalTrigger(seconds=replan_every.total_seconds(),
                                    start_date=now, timezone=runtime.settings.zone),
        id=REPLAN_ID, name="rounds re-planning of stale days", jobstore="local",
        replace_existing=True, next_run_time=now,
    )


def run_worker(runtime: Runtime, *, scheduler_class: type[BaseScheduler] = BackgroundScheduler,
               executor: BaseExecutor | None = None, sender: MailSender | None = None,
               housekeeping_every: timedelta = HOUSEKEEPING_EVERY) -> None:
    """`rounds worker`: run the scheduler in the foreground until SIGTERM or Ctrl+C.

    The scheduler runs in its own thread; this (main) thread waits for SIGTERM or SIGINT
    (:func:`_stop_signals`), then shuts the scheduler down, letting a running send finish.
    Nothing is raised into whatever code the signal interrupts: an exception thrown into the
    scheduler's loop while it holds one of its locks could leave a job thread waiting for
    that lock, and the shutdown waiting for the job.

    The keyword arguments exist for tests that drive time: a blocking scheduler class that
    jumps the clock and returns at the end of its simulated night (then no signal is waited
    for), a synchronous executor, a rarer housekeeping for long simulated nights.
    """
    context = prepare(runtime, sender)
    scheduler = build_scheduler(runtime, scheduler_class, executor=executor)
    add_housekeeping(scheduler, runtime, clock.utcnow(), housekeeping_every)
    log.info("worker %s started (zone %s)", context.worker, runtime.settings.zone.key)
    if not isinstance(scheduler, BackgroundScheduler):  # (a BackgroundScheduler is blocking too)
        with bound(context, scheduler):
            scheduler.start()  # returns when its loop ends
        return
    with bound(context, scheduler), _stop_signals() as wait_for_stop:
        try:
            scheduler.start()
            received = wait_for_stop()
            log.info("worker %s stopping (%s)", context.worker, received.name)
        finally:
            stop_scheduler(scheduler)  # lets a running send finish


@contextmanager
def _stop_signals() -> Iterator[Callable[[], signal.Signals]]:
    """While inside: SIGTERM and SIGINT no longer stop the process; the function given waits
    for one and returns it.

    The signal's number reaches a pipe (``set_wakeup_fd``), written by the interpreter's own
    C-level handler in whichever thread the signal lands, and the Python-level handler does
    nothing, so no exception is raised into the code the signal interrupts (the scheduler's
    loop, holding its locks) and no thread can let the default action kill the process
    mid-send. Main thread only, as Python's signal handling is."""
    stops = (signal.SIGTERM, signal.SIGINT)
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    previous_fd = signal.set_wakeup_fd(writer)
    previous = {number: signal.signal(number, lambda *_: None) for number in stops}

    def wait() -> signal.Signals:
        while True:
            for number in os.read(reader, 16):  # blocks; each byte is a signal's number
                if number in stops:
                    return signal.Signals(number)

    try:
        yield wait
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(reader)
        os.close(writer)


def start_in_process(runtime: Runtime) -> BackgroundScheduler:
    """For `rounds serve` on the embedded default: the scheduler in a background thread.

    Returns the started scheduler; call :func:`stop_in_process` (or ``shutdown()``) on exit.
    """
    context = prepare(runtime)
    scheduler = build_scheduler(runtime, BackgroundScheduler)
    assert isinstance(scheduler, BackgroundScheduler)
    add_housekeeping(scheduler, runtime, clock.utcnow())
    bind(context, scheduler)
    scheduler.start()
    return scheduler


def stop_in_process(scheduler: BackgroundScheduler) -> None:
    stop_scheduler(scheduler)
    unbind()


def runs_in_serve(settings: Settings) -> bool:
    """True on the embedded default (SQLite in the instance folder): `rounds serve` then runs
    the scheduler itself; with a configured database, run `rounds worker` instead."""
    return not settings.database.url

"""The morning e-mail, run by APScheduler 3: when each therapist's itinerary goes out, and how.

What runs where:

- ``rounds worker`` (:func:`run_worker`) is the scheduler's own process; ``rounds serve`` starts
  one in-process (:func:`start_in_process`) only for the embedded default (SQLite, no
  DATABASE_URL), where a second process would be a burden.
- Each therapist has one persistent job, ``itinerary:<id>``: a cron trigger at their send time
  (``Therapist.email_time`` or ``mail.default_send_time``), on their e-mail weekdays (or their
  shift days), in the practice's zone, so the days the clocks change still send at 06:00 local.
  A day the therapist is off (time off, or the practice closed) sends nothing and records
  nothing, like a weekday without a shift: the job fires and finds no day due.
  The jobs live in an APScheduler ``SQLAlchemyJobStore`` table on the practice database and
  survive restarts. The job function is named by its text path (:data:`ITINERARY_JOB`); a job
  store holding a path that no longer resolves stops the worker at start
  (:class:`JobReferenceError`) instead of APScheduler quietly deleting the job.
- Each process also runs *housekeeping* every few minutes, and once at start: it reconciles the
  jobs with the therapists (new therapist, changed send time or weekdays, deactivation), resolves
  rows a crashed process left ``sending``, retries queued rows whose backoff is over, and
  catches up on a send time that passed while no worker ran, until the cut-off
  (``mail.catch_up_cutoff``), after which it records a ``missed`` row instead.

Several workers may share the database, or a second scheduler may be started by mistake: each
may fire the same job, and each may catch up, and the outbox (:mod:`scheduler.outbox`) lets
exactly one of them send.

Time comes from :func:`scheduler.clock.utcnow`; nothing here reads the system clock directly.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy import Engine, Table, delete, select, text
from sqlalchemy.orm import Session, selectinload

from scheduler import clock, outbox, planning
from scheduler.calendar import time_off
from scheduler.itinerary import build_itinerary, itinerary_message
from scheduler.mail import MailSender, sender_from_settings
from scheduler.models import DayPlan, OutboxMessage, PlanStatus, Therapist
from scheduler.plans import record
from scheduler.runtime import Runtime
from scheduler.settings import Settings

log = logging.getLogger("rounds.jobs")

KIND = "itinerary"
JOB_TABLE = "apscheduler_jobs"
# Text paths, not function objects: the job store keeps them, and a rename must fail loudly.
ITINERARY_JOB = "scheduler.jobs:morning_itinerary_job"
HOUSEKEEPING_JOB = "scheduler.jobs:housekeeping_job"
HOUSEKEEPING_ID = "rounds:housekeeping"
HOUSEKEEPING_EVERY = timedelta(minutes=5)
# Between midnight and 03:00 the clocks change (02:00 in the US): a time may not exist or may
# happen twice, so no send time may fall there.
EARLIEST_SEND_TIME = time(3, 0)
# A send time at or after the cut-off still gets this long to go out.
LATE_SEND_GRACE = timedelta(hours=1)
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PG_LOCK_KEY = 0x526F756E  # "Roun": serialises creating the job table on PostgreSQL


class JobReferenceError(RuntimeError):
    """A stored job names a function that does not exist (renamed or removed)."""


# ---------------------------------------------------------------------------------------------
# When: pure functions of a therapist, the settings and a time


def send_time_problem(value: time) -> str | None:
    """Why ``value`` cannot be a send time, or None. For forms and record checks too."""
    if value < EARLIEST_SEND_TIME:
        return ("must be 03:00 or later: between midnight and 03:00 the clocks change, and a "
                "time there may not exist or may happen twice")
    return None


def send_time(therapist: Therapist, settings: Settings) -> time:
    """The therapist's chosen time, or the practice default (also for a refused stored time)."""
    chosen = therapist.email_time
    if chosen is None:
        return settings.mail.default_send_time
    if send_time_problem(chosen):
        log.warning("therapist %d: e-mail time %s refused (before 03:00); using %s",
                    therapist.id, f"{chosen:%H:%M}", f"{settings.mail.default_send_time:%H:%M}")
        return settings.mail.default_send_time
    return chosen.replace(second=0, microsecond=0)


def working_weekdays(therapist: Therapist) -> frozenset[int]:
    """The weekdays (0 = Monday) the e-mail goes out: the chosen ones, else the shift days."""
    if therapist.email_weekdays:
        return frozenset(_WEEKDAY_CODES.index(code) for code in therapist.email_weekdays
                         if code in _WEEKDAY_CODES)
    return frozenset(shift.weekday for shift in therapist.shifts)


def send_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def deadline(day: date, at: time, settings: Settings) -> datetime:
    """The last moment an itinerary for ``day`` may still go out (the catch-up cut-off)."""
    cutoff = datetime.combine(day, settings.mail.catch_up_cutoff)
    latest = max(cutoff, datetime.combine(day, at) + LATE_SEND_GRACE)
    return min(latest, datetime.combine(day, time(23, 59, 59))).replace(tzinfo=settings.zone)


def due_day(therapist: Therapist, settings: Settings, now: datetime) -> date | None:
    """The working day whose send time is the latest one at or before ``now`` (today or the day
    before), or None. That is the itinerary a worker should have sent by now."""
    days = working_weekdays(therapist)
    at = send_time(therapist, settings)
    today = now.astimezone(settings.zone).date()
    for day in (today, today - timedelta(days=1)):
        if day.weekday() in days and send_instant(day, at, settings.zone) <= now:
            return day
    return None


def itinerary_trigger(therapist: Therapist, settings: Settings) -> CronTrigger | None:
    """Wall-clock cron in the practice zone: 06:00 stays 06:00 across the clock changes."""
    days = working_weekdays(therapist)
    if not therapist.active or not days:
        return None
    at = send_time(therapist, settings)
    return CronTrigger(day_of_week=",".join(_CRON_DAYS[d] for d in sorted(days)),
                       hour=at.hour, minute=at.minute, second=0, timezone=settings.zone)


# ---------------------------------------------------------------------------------------------
# What: plan if needed, render, send through the outbox


@dataclass(frozen=True)
class WorkerContext:
    """What the job functions need; APScheduler can only store their text path and ids."""

    runtime: Runtime
    sender: MailSender
    worker: str


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _message_id_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail.from_address)[1]
    return address.rpartition("@")[2] or "rounds.localhost"


def plan_for_day(session: Session, settings: Settings, therapist_id: int, day: date,
                 now: datetime) -> tuple[DayPlan | None, bool]:
    """The plan to send and whether planning failed. Plans (and publishes) the day when no
    published plan exists, so that what the therapist receives is the plan of record."""
    # commands that merely import this module (for `rounds worker`) should not pay for

    plan = record.current_plan(session, therapist_id, day)
    if plan is not None and plan.status == PlanStatus.PUBLISHED:
        return plan, False
    try:
        with session.begin_nested():
            plans = planning.plan_days(session, settings, day, [therapist_id], publish=True,
                                       now=now)
    except Exception as error:  # noqa: BLE001 - the e-mail says so instead of not arriving
        log.error("planning therapist %d on %s failed (%s)", therapist_id, day,
                  type(error).__name__)
        return None, True
    return (plans[0] if plans else None), False


def compose_itinerary(session: Session, settings: Settings, therapist: Therapist, day: date,
                      now: datetime, *, possible_duplicate: bool = False) -> EmailMessage:
    plan, failed = plan_for_day(session, settings, therapist.id, day, now)
    itinerary = build_itinerary(therapist, day, plan, settings, planning_failed=failed)
    message = itinerary_message(itinerary, plan, settings, therapist.email, now)
    if possible_duplicate:
        subject = message["Subject"]
        del message["Subject"]
        message["Subject"] = f"(possible duplicate) {subject}"
    return message


def send_itinerary(context: WorkerContext, therapist_id: int, day: date, now: datetime, *,
                   deadline_at: datetime | None) -> outbox.Outcome:
    """Send ``day``'s itinerary to the therapist through the outbox (at most once)."""
    runtime = context.runtime

    def compose(claim: outbox.Claim) -> EmailMessage:
        with runtime.session() as session:
            therapist = session.get(Therapist, therapist_id)
            if therapist is None:
                raise LookupError("the therapist no longer exists")
            return compose_itinerary(session, runtime.settings, therapist, day, now,
                                     possible_duplicate=claim.possible_duplicate)

    return outbox.deliver(
        runtime.sessions, outbox.OutboxKey(therapist_id, day, KIND), compose, context.sender,
        now, context.worker, message_id_domain=_message_id_domain(runtime.settings),
        deadline=deadline_at,
    )


def _load_therapist(session: Session, therapist_id: int) -> Therapist | None:
    return session.scalar(
        select(Therapist).options(selectinload(Therapist.shifts))
        .where(Therapist.id == therapist_id)
    )


def settle_therapist(context: WorkerContext, therapist_id: int,
                     now: datetime) -> outbox.Outcome | None:
    """Bring the therapist's due itinerary (if any) to an end: send it, or record it missed."""
    settings = context.runtime.settings
    with context.runtime.session() as session:
        therapist = _load_therapist(session, therapist_id)
        if therapist is None or not therapist.active:
            return None
        day = due_day(therapist, settings, now)
        if day is None:
            return None
        off = time_off.off_on(session, therapist, day)
        if off is not None:
            log.info("therapist %d is off on %s: no itinerary", therapist_id, day)
            return None
        limit = deadline(day, send_time(therapist, settings), settings)
    key = outbox.OutboxKey(therapist_id, day, KIND)
    if now > limit:
        reason = f"no worker ran between the send time and the cut-off ({limit:%H:%M})"
        if outbox.record_missed(context.runtime.sessions, key, now, reason):
            log.warning("%s: missed (the worker was not running in time); not sent", key)
        else:
            outbox.expire(context.runtime.sessions, key, now)
        return outbox.Outcome.MISSED
    return send_itinerary(context, therapist_id, day, now, deadline_at=limit)


def catch_up(context: WorkerContext, now: datetime) -> None:
    """Settle every due itinerary that has no outbox row yet (a send time passed while no
    worker ran, or a job fired late or not at all). One query for all therapists, so running
    it every few minutes costs little."""
    settings = context.runtime.settings
    with context.runtime.session() as session:
        therapists = session.scalars(
            select(Therapist).options(selectinload(Therapist.shifts))
            .where(Therapist.active.is_(True))
        ).all()
        due = {(t.id, day) for t in therapists if (day := due_day(t, settings, now))}
        days = {day for _, day in due}
        due -= {(therapist_id, day) for day in days for therapist_id in
                time_off.off_therapist_ids(session, day, [i for i, d in due if d == day])}
        recorded = {(therapist_id, day) for therapist_id, day in session.execute(
            select(OutboxMessage.therapist_id, OutboxMessage.day)
            .where(OutboxMessage.kind == KIND, OutboxMessage.day.in_(days))
        )} if days else set()
    for therapist_id, _day in sorted(due - recorded):
        settle_therapist(context, therapist_id, now)


def deadline_for(runtime: Runtime, key: outbox.OutboxKey) -> datetime | None:
    with runtime.session() as session:
        therapist = session.get(Therapist, key.therapist_id)
        if therapist is None:
            return None
        return deadline(key.day, send_time(therapist, runtime.settings), runtime.settings)


def retry_due(context: WorkerContext, now: datetime) -> None:
    """Resolve crashed sends, then send queued rows whose backoff is over (or fail them at the
    cut-off rather than send a stale itinerary)."""
    runtime = context.runtime
    outbox.recover_stale(runtime.sessions, now, lambda key: deadline_for(runtime, key))
    for key in outbox.due_retries(runtime.sessions, now, KIND):
        limit = deadline_for(runtime, key)
        if limit is not None and now > limit:
            outbox.expire(runtime.sessions, key, now)
            log.warning("%s: not sent by the cut-off; marked failed", key)
            continue
        send_itinerary(context, key.therapist_id, key.day, now, deadline_at=limit)


# ---------------------------------------------------------------------------------------------
# APScheduler: the jobs and their reconciliation with the therapists

# The worker bound to this process (set by run_worker / start_in_process, never at import):
# APScheduler stores only a job's text path and arguments, so the job functions find the
# runtime, the sender and the scheduler here.
_context: WorkerContext | None = None
_scheduler: BaseScheduler | None = None


def _bound_context() -> WorkerContext:
    if _context is None:
        raise RuntimeError("no Rounds worker is running in this process (see scheduler.jobs)")
    return _context


def morning_itinerary_job(therapist_id: int) -> None:
    """The cron job: one therapist's morning itinerary (or its missed row)."""
    settle_therapist(_bound_context(), therapist_id, clock.utcnow())


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


def job_table(engine: Engine) -> Table:
    """APScheduler's own table definition (one source of truth for its columns)."""
    return SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).jobs_t


def ensure_job_table(engine: Engine) -> None:
    """Create the job table if needed; on PostgreSQL under a lock, as workers start together."""
    table = job_table(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        table.create(connection, checkfirst=True)


def check_stored_jobs(engine: Engine) -> None:
    """Fail loudly if a stored job names a function that cannot be found.

    APScheduler 3 would log the failure and delete the job, so a renamed job function would
    make every morning e-mail vanish without a trace.
    """
    table = job_table(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(table.c.id, table.c.job_state)).all()
    problems = []
    for identifier, state in rows:
        try:
            reference = pickle.loads(state)["func"]
            ref_to_obj(reference)
        except Exception as error:  # noqa: BLE001 - every way of failing is reported
            problems.append(f"job {identifier!r}: {error}")
    if problems:
        raise JobReferenceError(
            "stored jobs refer to functions that no longer exist: " + "; ".join(problems)
            + ". Restore the function's name, or start with `rounds worker --rebuild-jobs` to "
            "recreate the jobs from the therapists' settings."
        )


def clear_stored_jobs(engine: Engine) -> int:
    """Delete every stored job (they are rebuilt from the therapists by the next sync)."""
    ensure_job_table(engine)
    with engine.begin() as connection:
        return connection.execute(delete(job_table(engine))).rowcount


def build_scheduler(runtime: Runtime, scheduler_class: type[BaseScheduler] = BlockingScheduler,
                    *, executor: BaseExecutor | None = None) -> BaseScheduler:
    """A configured, not yet started scheduler: persistent itinerary jobs on the practice
    database, housekeeping in memory (each process runs its own)."""
    return scheduler_class(
        jobstores={
            "default": SQLAlchemyJobStore(engine=runtime.engine, tablename=JOB_TABLE),
            "local": MemoryJobStore(),
        },
        executors={"default": executor or ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=runtime.settings.zone,
    )


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
                     every: timedelta = HOUSEKEEPING_EVERY) -> None:
    """Housekeeping now, then every ``every``: this process's own job (memory store)."""
    scheduler.add_job(
        HOUSEKEEPING_JOB, IntervalTrigger(seconds=every.total_seconds(),
                                          start_date=now, timezone=runtime.settings.zone),
        id=HOUSEKEEPING_ID, name="rounds housekeeping", jobstore="local",
        replace_existing=True, next_run_time=now,
    )


def run_worker(runtime: Runtime, *, scheduler_class: type[BaseScheduler] = BlockingScheduler,
               executor: BaseExecutor | None = None, sender: MailSender | None = None,
               housekeeping_every: timedelta = HOUSEKEEPING_EVERY) -> None:
    """`rounds worker`: run the scheduler in the foreground until SIGTERM or Ctrl+C.

    The keyword arguments exist for tests that drive time (a scheduler class that jumps the
    clock, a synchronous executor, a rarer housekeeping for long simulated nights).
    """
    context = prepare(runtime, sender)
    scheduler = build_scheduler(runtime, scheduler_class, executor=executor)
    add_housekeeping(scheduler, runtime, clock.utcnow(), housekeeping_every)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if in_main_thread else None
    log.info("worker %s started (zone %s)", context.worker, runtime.settings.zone.key)
    try:
        with bound(context, scheduler):
            scheduler.start()  # blocks until shutdown
    except (KeyboardInterrupt, SystemExit):
        log.info("worker %s stopping", context.worker)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)  # lets a running send finish
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


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
    if scheduler.running:
        scheduler.shutdown(wait=True)
    unbind()


def runs_in_serve(settings: Settings) -> bool:
    """True on the embedded default (SQLite in the instance folder): `rounds serve` then runs
    the scheduler itself; with a configured database, run `rounds worker` instead."""
    return not settings.database.url

"""What the morning job does: plan the day if it has no published plan, render the itinerary,
and send it through the outbox, exactly once per therapist and day.

A day the therapist is off (time off, or the practice closed) sends nothing and records
nothing, like a weekday without a shift. A send time that passed while no worker ran is
caught up until the cut-off, after which a ``missed`` row is recorded instead; crashed sends
are resolved and failed ones retried with backoff (:mod:`.outbox`). Several workers may share
the database: each may fire the same job or catch up, and the outbox lets exactly one send.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import planning
from scheduler.calendar import time_off
from scheduler.delivery import outbox
from scheduler.delivery.send_times import deadline, due_day, send_time
from scheduler.delivery.senders import MailSender
from scheduler.models import DayPlan, OutboxMessage, PlanStatus, Therapist
from scheduler.plans import record
from scheduler.present.itinerary import build_itinerary, itinerary_message
from scheduler.runtime import Runtime
from scheduler.settings import Settings

log = logging.getLogger("rounds.jobs")


KIND = "itinerary"


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

"""What the morning job does: plan the day if it has no published plan, render the itinerary,
and send it through the outbox, exactly once per therapist and day.

A day the therapist is off (time off, or the practice closed) sends nothing and records
nothing, like a weekday without a shift. A send time that passed while no worker ran is
caught up until the cut-off, after which a ``missed`` row is recorded instead (unless it
passed before the database existed, :mod:`scheduler.database_start`); crashed sends
are resolved and failed ones retried with backoff (:mod:`.outbox`). Several workers may share
the database: each may fire the same job or catch up, and the outbox lets exactly one send.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler import database_start, planning
from scheduler.calendar import time_off
from scheduler.delivery import outbox
from scheduler.delivery.send_times import deadline, due_day, send_instant, send_time
from scheduler.delivery.senders import MailSender
from scheduler.models import DayPlan, OutboxMessage, OutboxState, PlanStatus, Therapist
from scheduler.plans import record, stale
from scheduler.plans.check import check_plan
from scheduler.present.itinerary import build_itinerary, itinerary_message
from scheduler.runtime import Runtime
from scheduler.served_address import recorded_url, with_links_at
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
                 now: datetime) -> tuple[DayPlan | None, bool, dict[int, str]]:
    """The plan to send, whether planning failed, and the stops it must mark "do not visit".

    The plan of record is sent when it is published and still safe: no change to the records
    waits for it (:mod:`scheduler.plans.stale`) and every stop passes the check against the
    records as they are now (:func:`scheduler.plans.check.check_plan`). Otherwise the day is
    planned (again) first, keeping what happened, and published; if that fails, or a stop
    still fails the check, the e-mail goes with those stops marked.
    """
    plan = record.current_plan(session, therapist_id, day)
    safe = (plan is not None and plan.status == PlanStatus.PUBLISHED
            and not stale.stale_causes(session, therapist_id, day)
            and not check_plan(session, plan, settings))
    failed = False
    if not safe:
        try:
            with session.begin_nested():
                plans = planning.plan_days(session, settings, day, [therapist_id],
                                           publish=True, now=now, from_now=True)
            plan = plans[0] if plans else None
        except Exception as error:  # noqa: BLE001 - the e-mail says so instead of not arriving
            log.error("planning therapist %d on %s failed (%s)", therapist_id, day,
                      type(error).__name__)
            failed = plan is None
    problems = check_plan(session, plan, settings) if plan is not None else {}
    return plan, failed, problems


def compose_itinerary(session: Session, settings: Settings, therapist: Therapist, day: date,
                      now: datetime, *, possible_duplicate: bool = False,
                      update: bool = False) -> EmailMessage:
    """The morning e-mail of ``day`` (or, with ``update``, the e-mail of a newer version)."""
    settings = with_links_at(settings, recorded_url(session))
    plan, failed, problems = plan_for_day(session, settings, therapist.id, day, now)
    clients = record.left_out_clients(session, [plan]) if plan is not None else {}
    itinerary = build_itinerary(therapist, day, plan, settings, planning_failed=failed,
                                problems=problems, update=update, clients=clients)
    message = itinerary_message(itinerary, plan, settings, therapist.email, now)
    if plan is not None:
        message[outbox.PLAN_VERSION_HEADER] = str(plan.version)
    if possible_duplicate:
        subject = message["Subject"]
        del message["Subject"]
        message["Subject"] = f"(possible duplicate) {subject}"
    return message


def send_itinerary(context: WorkerContext, therapist_id: int, day: date, now: datetime, *,
                   deadline_at: datetime | None) -> outbox.Outcome:
    """Send ``day``'s itinerary to the therapist through the outbox (at most once)."""
    runtime = context.runtime
    return outbox.deliver(
        runtime.sessions, outbox.OutboxKey(therapist_id, day, KIND),
        _composer(runtime, therapist_id, day, now, update=False), context.sender,
        now, context.worker, message_id_domain=_message_id_domain(runtime.settings),
        deadline=deadline_at,
    )


def _composer(runtime: Runtime, therapist_id: int, day: date, now: datetime, *,
              update: bool) -> Callable[[outbox.Claim], EmailMessage]:
    """What the outbox calls, once it holds the claim, to write the e-mail."""
    def compose(claim: outbox.Claim) -> EmailMessage:
        with runtime.session() as session:
            therapist = session.get(Therapist, therapist_id)
            if therapist is None:
                raise LookupError("the therapist no longer exists")
            return compose_itinerary(session, runtime.settings, therapist, day, now,
                                     possible_duplicate=claim.possible_duplicate, update=update)

    return compose


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
        at = send_time(therapist, settings)
        limit = deadline(day, at, settings)
        if now > limit and database_start.before_start(
                session, send_instant(day, at, settings.zone)):
            # the send time passed before this database existed: nobody missed it
            return None
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
# Updates: a new published version of today or tomorrow after the morning e-mail went


UPDATE_KIND = "update-v{version}"
"""Each published version gets at most one update e-mail (the outbox's key names it)."""


def updates_due(session: Session, settings: Settings, now: datetime) -> list[tuple[int, date]]:
    """The (therapist, day) of today and tomorrow whose published plan is newer than the
    last itinerary or update e-mail that went out for that day."""
    today = now.astimezone(settings.zone).date()
    days = [today, today + timedelta(days=1)]
    sent: dict[tuple[int, date], int] = {}
    went = (OutboxState.SENT, OutboxState.REVIEW)
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.day.in_(days))):
        if row.kind == KIND and row.state in went:
            version = row.plan_version or 0
        elif row.kind.startswith("update-v") and row.state in (*went, OutboxState.SENDING):
            # a queued update (a retry after a 4xx) is not gone yet: it is due again
            version = max(row.plan_version or 0, int(row.kind.removeprefix("update-v") or 0))
        else:
            continue
        key = (row.therapist_id, row.day)
        sent[key] = max(sent.get(key, 0), version)
    due = []
    for (therapist_id, day), version in sorted(sent.items()):
        plan = record.current_plan(session, therapist_id, day)
        if plan is not None and plan.status == PlanStatus.PUBLISHED and plan.version > version:
            due.append((therapist_id, day))
    return due


def send_updates(context: WorkerContext, now: datetime) -> list[outbox.Outcome]:
    """Send each due update e-mail through the outbox: once per version, however many
    workers run (its key names the version)."""
    runtime = context.runtime
    with runtime.session() as session:
        due = [(therapist_id, day, record.current_plan(session, therapist_id, day))
               for therapist_id, day in updates_due(session, runtime.settings, now)]
        versions = {(t, d): plan.version for t, d, plan in due if plan is not None}
    outcomes = []
    for (therapist_id, day), version in versions.items():
        outcomes.append(_send_update(context, therapist_id, day, version, now))
    return outcomes


def _send_update(context: WorkerContext, therapist_id: int, day: date, version: int,
                 now: datetime) -> outbox.Outcome:
    runtime = context.runtime
    key = outbox.OutboxKey(therapist_id, day, UPDATE_KIND.format(version=version))
    return outbox.deliver(runtime.sessions, key,
                          _composer(runtime, therapist_id, day, now, update=True),
                          context.sender, now, context.worker,
                          message_id_domain=_message_id_domain(runtime.settings))

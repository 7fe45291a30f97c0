"""`rounds worker` and `rounds send-itineraries`: the morning e-mail from the command line.

Both go through the same outbox as the scheduled job, so a manual send never doubles one the
worker already made (and the worker never doubles a manual one). A send left half-done by a
process that died is taken over at once (:mod:`scheduler.delivery.owners`).

`send-itineraries` exits 1 when an itinerary it was asked to send is not sent (its sender
failed, or another live process holds it, or its backoff is not over), and says, by outbox
row id, when it will be tried again; never with patient data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import clock
from scheduler.calendar import time_off
from scheduler.cli.base import parse_day, require_current_schema, runtime_from
from scheduler.delivery import itineraries, job_store, outbox, send_times, worker
from scheduler.delivery.owners import HEARTBEAT_LEASE
from scheduler.delivery.senders import MailConfigError, sender_from_settings
from scheduler.models import OutboxMessage, OutboxState, Therapist
from scheduler.runtime import Runtime


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.command("worker")
@click.option("--rebuild-jobs", is_flag=True,
              help="Delete the stored jobs and rebuild them from the therapists' settings "
                   "(after a job function was renamed).")
@click.pass_context
def worker_command(ctx: click.Context, rebuild_jobs: bool) -> None:
    """Run the scheduler that sends the morning itineraries (until Ctrl+C or SIGTERM)."""
    _configure_logging()
    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    if rebuild_jobs:
        removed = job_store.clear_stored_jobs(runtime.engine)
        click.echo(f"Removed {removed} stored job(s); they are rebuilt from the therapists.")
    try:
        worker.run_worker(runtime)
    except (job_store.JobReferenceError, MailConfigError) as error:
        raise click.ClickException(str(error)) from None


def _therapists(runtime: Runtime, day: date, ids: tuple[int, ...]) -> list[Therapist]:
    """The named therapists, or every active one whose e-mail goes out on ``day`` and who is
    not off that day (time off, or the practice closed). Named ones are sent to as asked."""
    with runtime.session() as session:
        query = select(Therapist).options(selectinload(Therapist.shifts)).order_by(Therapist.id)
        if ids:
            found = session.scalars(query.where(Therapist.id.in_(ids))).all()
            missing = sorted(set(ids) - {t.id for t in found})
            if missing:
                raise click.BadParameter(f"no therapist with id {', '.join(map(str, missing))}",
                                         param_hint="--therapist")
            return list(found)
        due = [t for t in session.scalars(query.where(Therapist.active.is_(True)))
               if day.weekday() in send_times.working_weekdays(t)]
        off = time_off.off_therapist_ids(session, day, [t.id for t in due])
        return [t for t in due if t.id not in off]


def _show(runtime: Runtime, therapist: Therapist, day: date, now: datetime) -> None:
    """Compose without sending; whatever planning did is rolled back."""
    with runtime.sessions() as session:
        fresh = session.get(Therapist, therapist.id)
        assert fresh is not None
        message = itineraries.compose_itinerary(session, runtime.settings, fresh, day, now)
        session.rollback()
    click.echo(f"To: {message['To']}\nSubject: {message['Subject']}\n")
    body = message.get_body(("plain",))
    click.echo(body.get_content() if body is not None else "")
    attachments = [part.get_filename() for part in message.iter_attachments()]
    if attachments:
        click.echo(f"[attached: {', '.join(str(name) for name in attachments)}]\n")


@dataclass(frozen=True)
class Result:
    """What became of one itinerary: the line to print, and if it is still not sent, the row
    and when it will be tried again (None: not by itself)."""

    text: str
    pending_row: int | None = None
    retry_at: datetime | None = None


def _result(runtime: Runtime, key: outbox.OutboxKey, outcome: outbox.Outcome) -> Result:
    """What the outbox row says after this attempt."""
    zone = runtime.settings.zone
    with runtime.session() as session:
        row: OutboxMessage | None = outbox.find(session, key)
    if row is None:
        return Result("not sent")
    if outcome == outbox.Outcome.SENT:
        note = " (possible duplicate: an earlier sender stopped mid-send)" \
            if row.possible_duplicate else ""
        return Result(f"sent{note}")
    if row.state == OutboxState.SENT and row.sent_at:
        return Result(f"already sent at {row.sent_at.astimezone(zone):%Y-%m-%d %H:%M}")
    if row.state == OutboxState.QUEUED:
        when = row.next_attempt_at
        text = (f"not sent (outbox {row.id}, attempt {row.attempts}: {row.last_error}); "
                + (f"next attempt at {when.astimezone(zone):%Y-%m-%d %H:%M}" if when
                   else "queued"))
        return Result(text, row.id, when)
    if row.state == OutboxState.SENDING:
        beat = row.heartbeat_at or row.claimed_at
        until = beat + HEARTBEAT_LEASE if beat else None
        text = f"not sent (outbox {row.id}): being sent by {row.claimed_by}, which is running"
        if until is not None:
            text += f"; if it stops, taken over at {until.astimezone(zone):%Y-%m-%d %H:%M}"
        return Result(text, row.id, until)
    if outcome == outbox.Outcome.FAILED:
        return Result(f"{row.state.value}: {row.last_error} (outbox {row.id}; not retried, "
                      "--requeue sends it again)", row.id)
    hint = " (--requeue sends it again)" if row.state != OutboxState.SENT else ""
    return Result(f"{row.state.value}: {row.last_error}{hint}")


def _summary(pending: list[Result], runtime: Runtime) -> str:
    """The last line when something was not sent: which rows, and when they are tried again."""
    ids = ", ".join(str(r.pending_row) for r in pending)
    times = [r.retry_at for r in pending if r.retry_at is not None]
    line = f"{len(pending)} itinerary(ies) not sent (outbox {ids})"
    if times:
        first = min(times).astimezone(runtime.settings.zone)
        line += f"; the worker tries again from {first:%Y-%m-%d %H:%M}"
    return line


@click.command("send-itineraries")
@click.option("--date", "day_text", required=True, metavar="YYYY-MM-DD",
              help="The day whose itineraries to send.")
@click.option("--therapist", "therapist_ids", type=int, multiple=True, metavar="ID",
              help="Only this therapist (repeatable). Default: everyone working that day.")
@click.option("--dry-run", is_flag=True, help="Show the messages; send and record nothing.")
@click.option("--requeue", is_flag=True,
              help="Also send those that failed, were missed or await review "
                   "(never one already sent).")
@click.pass_context
def send_itineraries_command(ctx: click.Context, day_text: str, therapist_ids: tuple[int, ...],
                             dry_run: bool, requeue: bool) -> None:
    """Send (or show) the itineraries of one day now, through the outbox."""
    day = parse_day(day_text)
    runtime = runtime_from(ctx)
    require_current_schema(runtime)
    now = clock.utcnow()
    therapists = _therapists(runtime, day, therapist_ids)
    if not therapists:
        click.echo(f"Nobody works on {day.isoformat()}; nothing to send.")
        return
    if dry_run:
        for therapist in therapists:
            _show(runtime, therapist, day, now)
        return
    try:
        sender = sender_from_settings(runtime.settings)
    except MailConfigError as error:
        raise click.ClickException(str(error)) from None
    context = itineraries.WorkerContext(runtime, sender, itineraries.new_worker_id())
    pending: list[Result] = []
    for therapist in therapists:
        key = outbox.OutboxKey(therapist.id, day, itineraries.KIND)
        if requeue:
            outbox.requeue(runtime.sessions, key, now)
        outcome = itineraries.send_itinerary(context, therapist.id, day, now, deadline_at=None)
        result = _result(runtime, key, outcome)
        click.echo(f"therapist {therapist.id} <{therapist.email}>: {result.text}")
        if result.pending_row is not None:
            pending.append(result)
    if pending:
        raise click.ClickException(_summary(pending, runtime))

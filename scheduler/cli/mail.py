"""`rounds worker` and `rounds send-itineraries`: the morning e-mail from the command line.

Both go through the same outbox as the scheduled job, so a manual send never doubles one the
worker already made (and the worker never doubles a manual one).
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import clock
from scheduler.calendar import time_off
from scheduler.cli.base import parse_day, require_current_schema, runtime_from
from scheduler.delivery import itineraries, outbox, send_times, worker
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
        removed = worker.clear_stored_jobs(runtime.engine)
        click.echo(f"Removed {removed} stored job(s); they are rebuilt from the therapists.")
    try:
        worker.run_worker(runtime)
    except (worker.JobReferenceError, MailConfigError) as error:
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


def _describe(runtime: Runtime, key: outbox.OutboxKey) -> str:
    """Why nothing was sent: what the outbox row says."""
    zone = runtime.settings.zone
    with runtime.session() as session:
        row: OutboxMessage | None = outbox.find(session, key)
    if row is None:
        return "not sent"
    if row.state == OutboxState.SENT and row.sent_at:
        return f"already sent at {row.sent_at.astimezone(zone):%Y-%m-%d %H:%M}"
    if row.state == OutboxState.QUEUED and row.next_attempt_at:
        return (f"queued; next attempt at {row.next_attempt_at.astimezone(zone):%H:%M} "
                f"({row.last_error})")
    if row.state == OutboxState.SENDING:
        return f"being sent by {row.claimed_by}"
    hint = " (--requeue sends it again)" if row.state != OutboxState.SENT else ""
    return f"{row.state.value}: {row.last_error}{hint}"


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
    context = itineraries.WorkerContext(runtime, sender, f"cli:{os.getpid()}")
    failed = 0
    for therapist in therapists:
        key = outbox.OutboxKey(therapist.id, day, itineraries.KIND)
        if requeue:
            outbox.requeue(runtime.sessions, key, now)
        outcome = itineraries.send_itinerary(context, therapist.id, day, now, deadline_at=None)
        failed += outcome in (outbox.Outcome.FAILED, outbox.Outcome.RETRY)
        result = "sent" if outcome == outbox.Outcome.SENT else _describe(runtime, key)
        click.echo(f"therapist {therapist.id} <{therapist.email}>: {result}")
    if failed:
        raise click.ClickException(f"{failed} itinerary(ies) not sent; see above")

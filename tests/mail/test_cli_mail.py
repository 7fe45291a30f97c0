"""`rounds send-itineraries` and `rounds worker`, through click's test runner."""

from __future__ import annotations

from datetime import date

import click
import pytest
from click.testing import CliRunner, Result
from mail_fixtures import (
    PATIENT_WORDS,
    DrivenClock,
    SmtpServer,
    add_plan,
    add_practice,
    local,
    smtp_settings,
    with_mail,
)
from sqlalchemy import select

from scheduler import models
from scheduler.cli.base import RoundsGroup
from scheduler.cli.mail import send_itineraries_command, worker_command
from scheduler.delivery import itineraries, job_store, senders, worker
from scheduler.runtime import Runtime

DAY = date(2026, 3, 9)  # a Monday

rounds = RoundsGroup("rounds", commands={"send-itineraries": send_itineraries_command,
                                         "worker": worker_command})


def run(runtime: Runtime, *args: str) -> Result:
    """The command as the lead registers it, with this test's runtime already open."""
    return CliRunner().invoke(rounds, list(args), obj={"runtime": runtime})


@pytest.fixture
def practice(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    DrivenClock(local(DAY, 14)).install(monkeypatch.setattr)
    with runtime.session() as session:
        practice = add_practice(session, therapists=2, weekdays=(0, 1, 2, 3, 4))
        add_plan(session, practice, practice.therapist_ids[0], DAY)
    return runtime


def _states(runtime: Runtime) -> list[tuple[int, models.OutboxState]]:
    with runtime.session() as session:
        return [(r.therapist_id, r.state) for r in session.scalars(
            select(models.OutboxMessage).order_by(models.OutboxMessage.therapist_id))]


def test_dry_run_shows_the_messages_and_records_nothing(practice: Runtime) -> None:
    result = run(practice, "send-itineraries", "--date", "2026-03-09", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Subject: Your itinerary for Monday 9 March 2026: 2 visits" in result.output
    assert "Subject: No visits on Monday 9 March 2026" in result.output  # therapist 2
    assert "[attached: rounds-2026-03-09.ics]" in result.output
    assert all(word not in result.output for word in PATIENT_WORDS)
    assert _states(practice) == []
    assert not practice.settings.outbox_path.exists()


def test_sends_now_once_and_reports_what_is_already_done(practice: Runtime,
                                                         smtp_server: SmtpServer) -> None:
    runtime = with_mail(practice, **smtp_settings(smtp_server))
    first = run(runtime, "send-itineraries", "--date", "2026-03-09")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == ["therapist 1 <therapist1@example.org>: sent",
                                         "therapist 2 <therapist2@example.org>: sent"]
    again = run(runtime, "send-itineraries", "--date", "2026-03-09", "--therapist", "1")
    assert again.exit_code == 0
    assert "therapist 1 <therapist1@example.org>: already sent at 2026-03-09 14:00" in \
        again.output
    assert len(smtp_server.handler.received) == 2
    assert _states(runtime) == [(1, models.OutboxState.SENT), (2, models.OutboxState.SENT)]


def test_a_missed_morning_can_be_sent_by_hand_with_requeue(practice: Runtime,
                                                          smtp_server: SmtpServer) -> None:
    runtime = with_mail(practice, **smtp_settings(smtp_server))
    context = itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "w")
    itineraries.settle_therapist(context, 1, local(DAY, 11, 30))
    plain = run(runtime, "send-itineraries", "--date", "2026-03-09", "--therapist", "1")
    assert "missed: no worker ran" in plain.output and "--requeue" in plain.output
    assert plain.exit_code == 0 and smtp_server.handler.received == []
    forced = run(runtime, "send-itineraries", "--date", "2026-03-09", "--therapist", "1",
                 "--requeue")
    assert forced.exit_code == 0 and "therapist 1 <therapist1@example.org>: sent" in forced.output
    assert len(smtp_server.handler.received) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "2026-02-30"], "2026-02-30 is not a date: February 2026 has 28 days"),
    (["--date", "30/02/2026"], "expected YYYY-MM-DD"),
    (["--date", "2026-03-09", "--therapist", "99"], "no therapist with id 99"),
])
def test_bad_input_is_named(practice: Runtime, args: list[str], message: str) -> None:
    result = run(practice, "send-itineraries", *args)
    assert result.exit_code == 2 and message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_failures_exit_nonzero(practice: Runtime, smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["554 5.7.1 Rejected"]
    runtime = with_mail(practice, **smtp_settings(smtp_server))
    result = run(runtime, "send-itineraries", "--date", "2026-03-09", "--therapist", "1")
    assert result.exit_code == 1
    assert "therapist 1 <therapist1@example.org>: failed: SMTP 554" in result.output


def test_a_4xx_exits_nonzero_and_says_when_it_is_tried_again(practice: Runtime,
                                                            smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["451 4.3.0 Try again later"]
    runtime = with_mail(practice, **smtp_settings(smtp_server))
    result = run(runtime, "send-itineraries", "--date", "2026-03-09")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "therapist 1 <therapist1@example.org>: not sent (outbox 1, attempt 1: SMTP 451: "
        "4.3.0 Try again later); next attempt at 2026-03-09 14:02",
        "therapist 2 <therapist2@example.org>: sent",
        "Error: 1 itinerary(ies) not sent (outbox 1); the worker tries again from "
        "2026-03-09 14:02"]
    assert all(word not in result.output for word in PATIENT_WORDS)


def test_worker_refuses_plain_smtp_to_a_remote_host(practice: Runtime,
                                                    drop_job_table: None) -> None:
    runtime = with_mail(practice, backend="smtp", smtp_host="mail.example.org",
                        smtp_security="none")
    result = run(runtime, "worker")
    assert result.exit_code == 1 and "mail.allow_plain_remote" in result.output


def test_worker_names_a_renamed_job_function_and_rebuilds_on_request(
        practice: Runtime, drop_job_table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    job_store.ensure_job_table(practice.engine)
    scheduler = worker.build_scheduler(practice, worker.BackgroundScheduler)
    scheduler.start(paused=True)
    scheduler.add_job(worker.ITINERARY_JOB, "cron", hour=6, args=[1], id="itinerary:1")
    scheduler.shutdown(wait=False)
    monkeypatch.delattr(worker, "morning_itinerary_job")  # as if it had been renamed

    result = run(practice, "worker")
    assert result.exit_code == 1
    assert "job 'itinerary:1'" in result.output and "--rebuild-jobs" in result.output

    ran: list[Runtime] = []
    monkeypatch.setattr(worker, "run_worker", lambda runtime: ran.append(runtime))
    rebuilt = run(practice, "worker", "--rebuild-jobs")
    assert rebuilt.exit_code == 0 and "Removed 1 stored job(s)" in rebuilt.output
    assert ran == [practice]


def test_commands_have_help() -> None:
    for command in (send_itineraries_command, worker_command):
        assert isinstance(command, click.Command) and command.help

"""A sender killed mid-send does not hold the day's e-mail up, and retries keep their backoff.

- ``kill -9`` of a real `rounds send-itineraries` process while the SMTP server holds its
  message: a live sender's claim is respected (the next `send-itineraries` exits 1 and says
  when it will be taken over), a dead one's is taken over at once and sent again marked as a
  possible duplicate (on SQLite and on PostgreSQL, the runtime fixture's legs).
- A 451 is retried 2 minutes later, then 4, by the worker's own retry job, not at the next
  5-minute housekeeping (a worker in this process under a driven clock).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from apscheduler.executors.debug import DebugExecutor
from mail_fixtures import (
    PATIENT_WORDS,
    DrivenClock,
    RecordingHandler,
    SmtpServer,
    add_plan,
    add_practice,
    free_port,
    local,
    smtp_settings,
    with_mail,
)
from sqlalchemy import select
from test_cli_mail import run
from test_workers import write_instance
from worker_harness import jumping_scheduler

from scheduler import clock, models
from scheduler.delivery import outbox, worker
from scheduler.delivery.owners import HEARTBEAT_LEASE, parse_owner
from scheduler.runtime import Runtime

HARNESS = Path(__file__).with_name("send_harness.py")
DAY = date(2026, 3, 9)  # a Monday
NOW = local(DAY, 14)
TIMEOUT = 90


class HoldingHandler(RecordingHandler):
    """Holds the first message's DATA reply until released: its sender is stuck mid-send.

    The wait runs in a thread of the server's executor, so the server goes on serving other
    connections meanwhile. The held message is kept apart from those it accepts."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.release = threading.Event()
        self.held: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            first = not self.holding.is_set()
            self.holding.set()
        if not first:
            return await super().handle_DATA(server, session, envelope)
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, TIMEOUT)
        self.held.append(envelope.original_content or envelope.content)
        return "451 4.3.0 Too late"  # nobody is listening any more


@pytest.fixture
def holding_server() -> Any:
    handler = HoldingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, handler, controller)
    handler.release.set()
    controller.stop()


def _row(runtime: Runtime) -> models.OutboxMessage:
    with runtime.session() as session:
        (row,) = session.scalars(select(models.OutboxMessage)).all()
        return row


def _clean_environment() -> dict[str, str]:
    """This process's environment without settings that would override the instance's."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("ROUNDS_") and name != "DATABASE_URL"}


def test_a_sender_killed_mid_send_is_taken_over_at_once(
        runtime: Runtime, holding_server: SmtpServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    handler = holding_server.handler
    assert isinstance(handler, HoldingHandler)
    with runtime.session() as session:
        practice = add_practice(session, therapists=1, weekdays=(0, 1, 2, 3, 4))
        add_plan(session, practice, practice.therapist_ids[0], DAY)
    instance = write_instance(tmp_path / "instance", runtime.settings.database_url,
                              holding_server)
    command = ["send-itineraries", "--date", DAY.isoformat(), "--therapist", "1"]
    sender = subprocess.Popen(
        [sys.executable, str(HARNESS), str(instance), NOW.isoformat(), *command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_clean_environment(),
        cwd=Path(__file__).parents[2])
    try:
        if not handler.holding.wait(TIMEOUT):
            sender.kill()
            out, err = sender.communicate()
            pytest.fail(f"the sender never reached DATA:\n{out}\n{err[-3000:]}")
        first = _row(runtime)
        assert first.state == models.OutboxState.SENDING and first.message_id
        owner = parse_owner(first.claimed_by)
        assert owner is not None and owner.pid == sender.pid

        DrivenClock(NOW).install(monkeypatch.setattr)  # the same instant: the lease holds
        here = with_mail(runtime, **smtp_settings(holding_server))
        busy = run(here, *command)
        assert busy.exit_code == 1, busy.output
        taken_over_at = (NOW + HEARTBEAT_LEASE).strftime("%Y-%m-%d %H:%M")
        assert (f"therapist 1 <therapist1@example.org>: not sent (outbox {first.id}): being "
                f"sent by {first.claimed_by}, which is running; if it stops, taken over at "
                f"{taken_over_at}") in busy.output
        assert f"1 itinerary(ies) not sent (outbox {first.id}); the worker tries again from " \
            f"{taken_over_at}" in busy.output
        assert handler.received == [] and _row(runtime).claimed_by == first.claimed_by

        sender.send_signal(signal.SIGKILL)
        assert sender.wait(TIMEOUT) == -signal.SIGKILL  # reaped: its pid is gone

        taken = run(here, *command)
        assert taken.exit_code == 0, taken.output
        assert taken.output.splitlines() == [
            "therapist 1 <therapist1@example.org>: sent (possible duplicate: an earlier "
            "sender stopped mid-send)"]
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
        for stream in (sender.stdout, sender.stderr):
            if stream is not None:
                stream.close()

    (message,) = handler.messages()
    assert message[outbox.DUPLICATE_HEADER] == "yes"
    assert message["Message-ID"] == first.message_id  # mail clients fold the two copies
    assert message["Subject"].startswith("(possible duplicate) Your itinerary")
    assert all(word not in str(message["Subject"]) for word in PATIENT_WORDS)
    row = _row(runtime)
    assert (row.state, row.attempts, row.possible_duplicate, row.sent_at) == (
        models.OutboxState.SENT, 2, True, NOW)
    new_owner = parse_owner(row.claimed_by)
    assert new_owner is not None and new_owner.pid == os.getpid()


class StampingHandler(RecordingHandler):
    """Records the (driven) time of every DATA command."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.times.append(clock.utcnow())
        return await super().handle_DATA(server, session, envelope)


def test_a_451_is_retried_after_its_backoff_not_at_housekeeping(
        runtime: Runtime, drop_job_table: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Housekeeping runs at 05:59:50 and 06:04:50; the e-mail is tried at 06:00 (the cron
    job), at 06:02 and 06:06 (2 and 4 minutes after each 451), by the retry job."""
    handler = StampingHandler()
    handler.replies = ["451 4.3.0 Try again later", "451 4.3.0 Try again later"]
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with runtime.session() as session:
            practice = add_practice(session, therapists=1, weekdays=(0, 1, 2, 3, 4))
            add_plan(session, practice, practice.therapist_ids[0], DAY)
        driven = DrivenClock(local(DAY, 5, 59, 50))
        driven.install(monkeypatch.setattr)
        server = SmtpServer("127.0.0.1", controller.port, handler, controller)
        worker.run_worker(with_mail(runtime, **smtp_settings(server)),
                          scheduler_class=jumping_scheduler(driven, local(DAY, 6, 9)),
                          executor=DebugExecutor())
    finally:
        controller.stop()

    assert handler.times == [local(DAY, 6), local(DAY, 6, 2), local(DAY, 6, 6)]
    assert len(handler.received) == 1
    row = _row(runtime)
    assert (row.state, row.attempts, row.sent_at) == (
        models.OutboxState.SENT, 3, local(DAY, 6, 6))
    assert outbox.retry_delay(1) == timedelta(minutes=2)  # the backoff the README states

"""The outbox on both backends: one claim wins, crashed sends are resolved, never lost."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
from mail_fixtures import SmtpServer, add_plan, add_practice, local, smtp_settings, with_mail
from sqlalchemy import select

from scheduler import models
from scheduler.delivery import itineraries, outbox, senders
from scheduler.delivery.outbox import DUPLICATE_HEADER, SENDING_LEASE, OutboxKey, Outcome
from scheduler.runtime import Runtime

DAY = date(2026, 3, 9)
SEND = local(DAY, 6)
KEY = OutboxKey(1, DAY, "itinerary")


def _row(runtime: Runtime) -> models.OutboxMessage:
    with runtime.session() as session:
        rows = session.scalars(select(models.OutboxMessage)).all()
        assert len(rows) == 1
        return rows[0]


@pytest.fixture
def practice(runtime: Runtime) -> Runtime:
    with runtime.session() as session:
        practice = add_practice(session)
        add_plan(session, practice, practice.therapist_ids[0], DAY)
    return runtime


def test_one_of_many_concurrent_claims_wins(practice: Runtime) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[outbox.Claim | None] = [None] * workers
    errors: list[BaseException] = []

    def race(index: int) -> None:
        try:
            barrier.wait()
            results[index] = outbox.claim(practice.sessions, KEY, SEND, f"worker-{index}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    winners = [claim for claim in results if claim is not None]
    assert len(winners) == 1
    row = _row(practice)
    assert (row.state, row.attempts, row.claimed_by) == (
        models.OutboxState.SENDING, 1, winners[0].worker)


def test_a_settled_row_is_never_claimed_again(practice: Runtime) -> None:
    claim = outbox.claim(practice.sessions, KEY, SEND, "a")
    assert claim is not None
    assert outbox.claim(practice.sessions, KEY, SEND, "b") is None
    assert outbox.mark_sent(practice.sessions, claim, SEND)
    assert outbox.claim(practice.sessions, KEY, SEND + timedelta(days=1), "c") is None
    assert not outbox.record_missed(practice.sessions, KEY, SEND, "late")
    assert not outbox.requeue(practice.sessions, KEY, SEND)  # sent stays sent
    assert _row(practice).state == models.OutboxState.SENT


class CrashingSender:
    """Dies the way a killed process does: in the middle of the SMTP exchange."""

    def send(self, message: EmailMessage) -> None:
        raise KeyboardInterrupt


def _smtp_context(runtime: Runtime, server: SmtpServer) -> itineraries.WorkerContext:
    runtime = with_mail(runtime, **smtp_settings(server))
    return itineraries.WorkerContext(
        runtime, senders.sender_from_settings(runtime.settings), "second")


def test_a_crash_mid_send_is_resent_as_a_possible_duplicate(practice: Runtime,
                                                             smtp_server: SmtpServer) -> None:
    crashed = itineraries.WorkerContext(practice, CrashingSender(), "first")
    with pytest.raises(KeyboardInterrupt):
        itineraries.settle_therapist(crashed, 1, SEND)
    row = _row(practice)
    assert row.state == models.OutboxState.SENDING and row.message_id  # handed over, then died
    first_message_id = row.message_id

    context = _smtp_context(practice, smtp_server)
    # Within the lease the claim still counts as alive: nobody touches it.
    itineraries.retry_due(context, SEND + SENDING_LEASE - timedelta(seconds=1))
    itineraries.settle_therapist(context, 1, SEND + SENDING_LEASE - timedelta(seconds=1))
    assert smtp_server.handler.received == []

    later = SEND + SENDING_LEASE + timedelta(minutes=1)
    itineraries.retry_due(context, later)

    (message,) = smtp_server.handler.messages()
    assert message[DUPLICATE_HEADER] == "yes"
    assert message["Subject"].startswith("(possible duplicate) Your itinerary")
    assert message["Message-ID"] == first_message_id  # mail clients fold the two copies
    row = _row(practice)
    assert (row.state, row.possible_duplicate, row.attempts, row.claimed_by) == (
        models.OutboxState.SENT, True, 2, "second")


def test_a_crash_before_any_smtp_is_resent_plainly(practice: Runtime,
                                                   smtp_server: SmtpServer) -> None:
    assert outbox.claim(practice.sessions, KEY, SEND, "died-while-planning") is not None
    context = _smtp_context(practice, smtp_server)
    itineraries.retry_due(context, SEND + SENDING_LEASE + timedelta(minutes=1))
    (message,) = smtp_server.handler.messages()
    assert message[DUPLICATE_HEADER] is None
    row = _row(practice)
    assert (row.state, row.possible_duplicate) == (models.OutboxState.SENT, False)


def test_a_crash_found_after_the_cutoff_is_left_for_review(practice: Runtime,
                                                           smtp_server: SmtpServer) -> None:
    crashed = itineraries.WorkerContext(practice, CrashingSender(), "first")
    with pytest.raises(KeyboardInterrupt):
        itineraries.settle_therapist(crashed, 1, local(DAY, 10, 50))
    context = _smtp_context(practice, smtp_server)
    itineraries.retry_due(context, local(DAY, 11, 30))
    itineraries.settle_therapist(context, 1, local(DAY, 11, 30))
    row = _row(practice)
    assert row.state == models.OutboxState.REVIEW
    assert "stopped during attempt 1 (after handing the message" in row.last_error
    assert smtp_server.handler.received == []


def test_the_old_claim_is_fenced_out_after_recovery(practice: Runtime) -> None:
    old = outbox.claim(practice.sessions, KEY, SEND, "slow")
    assert old is not None
    later = SEND + SENDING_LEASE + timedelta(minutes=1)
    assert outbox.recover_stale(practice.sessions, later, lambda key: None) == [KEY]
    new = outbox.claim(practice.sessions, KEY, later, "fresh")
    assert new is not None
    assert not outbox.mark_sent(practice.sessions, old, later)  # too late, not its row any more
    assert outbox.mark_sent(practice.sessions, new, later)
    assert _row(practice).claimed_by == "fresh"


def test_requeue_sends_a_failed_itinerary_again(practice: Runtime,
                                                smtp_server: SmtpServer) -> None:
    smtp_server.handler.replies = ["550 5.1.1 No such mailbox"]
    context = _smtp_context(practice, smtp_server)
    assert itineraries.settle_therapist(context, 1, SEND) == Outcome.FAILED
    assert outbox.requeue(practice.sessions, KEY, SEND + timedelta(minutes=10))
    assert itineraries.send_itinerary(context, 1, DAY, SEND + timedelta(minutes=10),
                               deadline_at=None) == Outcome.SENT
    assert _row(practice).attempts == 2
    assert len(smtp_server.handler.received) == 1

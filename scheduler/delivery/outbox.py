"""The outbox: every e-mail goes out exactly once, however many processes try to send it.

Each message has one row keyed (therapist, day, kind). A process may talk SMTP only after it
has *claimed* that row, in a committed transaction that only one process can win:

- the row is inserted if it does not exist yet (the unique key makes a second insert fail, and
  the loser simply carries on to the next step), then
- ``UPDATE outbox SET state = 'sending' ... WHERE id = :id AND state = 'queued' AND due``:
  on PostgreSQL the second updater waits for the first and then finds the row no longer
  queued; on SQLite every transaction starts with BEGIN IMMEDIATE, so claims run one by one.
  Either way exactly one transaction sees one updated row.

States::

    queued --claim--> sending --> sent
       ^                 |------> queued (4xx: retry later, with backoff) --> failed at cut-off
       |                 |------> failed (5xx or a refused TLS certificate; never retried)
       |                 |------> (crash) taken over by the next process that wants to send
       |                 |        it, as soon as its owner is known to be gone (:mod:`.owners`)
       |                 '------> (crash) recovered by housekeeping then: queued again, marked
       |                          "possible duplicate" if the message may have left, or review
    missed: nothing was sent because the worker was down past the cut-off.

A claim names its owner (``host:pid:token``) and carries a heartbeat, refreshed when the
owner claims and again just before SMTP. The owner is gone when it ran on this host and its
pid no longer exists (taken over at once: a ``kill -9`` does not hold the morning e-mail up),
or when the heartbeat is older than the lease (:data:`.owners.HEARTBEAT_LEASE`).

Before the message is handed to SMTP its Message-ID is committed to the row. A row found still
``sending`` by a gone owner therefore tells what happened: no Message-ID means the process died
before any SMTP traffic (safe to send again), a Message-ID means it may have gone out (sent
again with the same Message-ID, so mail clients fold the copies, and flagged as a possible
duplicate; or, past the cut-off, left for a person to review). Nothing is silently lost.

Log lines and ``last_error`` name the row (therapist id, day, kind) and the SMTP reply, never
the message's content, so they carry no patient data.

One module over 400 lines, on purpose: every function here moves a row along the states above
under the same fence (the claim's owner and state), and the exactly-once argument holds only
when they are read side by side; who owns a claim is apart in :mod:`.owners`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scheduler import clock
from scheduler.db import session_scope
from scheduler.delivery.owners import HEARTBEAT_LEASE, owner_gone
from scheduler.delivery.senders import MailSender, PermanentMailError, TransientMailError
from scheduler.models import OutboxMessage, OutboxState, Therapist

log = logging.getLogger("rounds.outbox")

# A claim whose heartbeat is older than this belongs to a process that died (see .owners).
SENDING_LEASE = HEARTBEAT_LEASE
FIRST_RETRY = timedelta(minutes=2)
LONGEST_RETRY = timedelta(minutes=30)
MAX_ATTEMPTS = 8

DUPLICATE_HEADER = "X-Rounds-Possible-Duplicate"
PLAN_VERSION_HEADER = "X-Rounds-Plan-Version"  # set by the composer; kept in the row


@dataclass(frozen=True)
class OutboxKey:
    therapist_id: int
    day: date
    kind: str

    def __str__(self) -> str:  # what logs show: ids and dates only
        return f"{self.kind} for therapist {self.therapist_id} on {self.day.isoformat()}"


@dataclass(frozen=True)
class Claim:
    """The right to send one row, held by ``worker`` since ``claimed_at``."""

    row_id: int
    key: OutboxKey
    attempts: int
    worker: str
    claimed_at: datetime
    message_id: str
    possible_duplicate: bool


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # queued again for a later attempt
    FAILED = "failed"
    MISSED = "missed"
    NOT_CLAIMED = "not-claimed"  # another process has it, or it is already settled


Compose = Callable[[Claim], EmailMessage]


def _updated(session: Session, statement: Update) -> int:
    """How many rows an UPDATE changed: the claim and the fence depend on it."""
    result = session.execute(statement)
    return cast(CursorResult[Any], result).rowcount


def _key_filter(key: OutboxKey) -> ColumnElement[bool]:
    return (
        (OutboxMessage.therapist_id == key.therapist_id)
        & (OutboxMessage.day == key.day)
        & (OutboxMessage.kind == key.kind)
    )


def find(session: Session, key: OutboxKey) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(_key_filter(key)))


def _insert_if_absent(session: Session, key: OutboxKey, state: OutboxState, now: datetime,
                      **values: object) -> bool:
    """Insert the row unless it exists; True if this transaction inserted it.

    The savepoint keeps the surrounding transaction usable when another process won the race
    (PostgreSQL aborts a whole transaction on a unique violation otherwise).
    """
    if find(session, key) is not None:
        return False
    try:
        with session.begin_nested():
            defaults: dict[str, object] = {
                "attempts": 0, "claimed_by": "", "message_id": "", "subject": "",
                "last_error": "", "possible_duplicate": False,
            }
            session.add(OutboxMessage(
                therapist_id=key.therapist_id, day=key.day, kind=key.kind, state=state,
                created_at=now, updated_at=now, **{**defaults, **values},
            ))
    except IntegrityError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The transitions, each one committed transaction


def claim(sessions: sessionmaker[Session], key: OutboxKey, now: datetime,
          worker: str, *, take_over: bool = True) -> Claim | None:
    """Win the right to send ``key`` now, or None if it is not ours to send.

    A queued row whose backoff is over is claimed; with ``take_over``, so is a row left
    ``sending`` by an owner that is gone (:func:`_take_over`).
    """
    with session_scope(sessions) as session:
        _insert_if_absent(session, key, OutboxState.QUEUED, now)
        won = _updated(
            session,
            update(OutboxMessage)
            .where(
                _key_filter(key),
                OutboxMessage.state == OutboxState.QUEUED,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .values(
                state=OutboxState.SENDING,
                attempts=OutboxMessage.attempts + 1,
                claimed_by=worker,
                claimed_at=now,
                heartbeat_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False),
        )
        if won != 1 and not (take_over and _take_over(session, key, now, worker)):
            return None
        row = find(session, key)
        assert row is not None
        session.refresh(row)
        return Claim(row_id=row.id, key=key, attempts=row.attempts, worker=worker,
                     claimed_at=now, message_id=row.message_id,
                     possible_duplicate=row.possible_duplicate)


def _take_over(session: Session, key: OutboxKey, now: datetime, worker: str) -> bool:
    """Claim a row left ``sending`` by an owner that is gone; True if this transaction did.

    The update is fenced on the old claim (owner and time), so of several processes that
    find the same dead owner exactly one takes over. A Message-ID on the row means the dead
    owner had handed the message to SMTP: it may have gone out, so it is sent again marked
    "possible duplicate" (same Message-ID, so mail clients fold the copies).
    """
    row = find(session, key)
    if row is None or row.state != OutboxState.SENDING:
        return False
    if not owner_gone(row.claimed_by, row.heartbeat_at or row.claimed_at, now):
        return False
    note = (f"taken over from {row.claimed_by}, gone during attempt {row.attempts} "
            f"({'after' if row.message_id else 'before'} handing the message to the server)")
    taken = _updated(
        session,
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.SENDING,
               OutboxMessage.claimed_by == row.claimed_by,
               OutboxMessage.claimed_at == row.claimed_at)
        .values(attempts=OutboxMessage.attempts + 1, claimed_by=worker, claimed_at=now,
                heartbeat_at=now, updated_at=now, last_error=note,
                possible_duplicate=row.possible_duplicate or bool(row.message_id))
        .execution_options(synchronize_session=False),
    ) == 1
    if taken:
        log.warning("%s: %s", key, note)
    return taken


def _fenced(claim: Claim) -> ColumnElement[bool]:
    """Only the claim's holder may move the row on (a recovered lease fences the old one out)."""
    return (
        (OutboxMessage.id == claim.row_id)
        & (OutboxMessage.state == OutboxState.SENDING)
        & (OutboxMessage.claimed_by == claim.worker)
        & (OutboxMessage.claimed_at == claim.claimed_at)
    )


def _move(sessions: sessionmaker[Session], claim: Claim, **values: object) -> bool:
    with session_scope(sessions) as session:
        return _updated(session, 
            update(OutboxMessage).where(_fenced(claim)).values(**values)
            .execution_options(synchronize_session=False)
        ) == 1


def note_transmitting(sessions: sessionmaker[Session], claim: Claim, message_id: str,
                      subject: str, now: datetime, plan_version: int | None = None) -> bool:
    """Record the Message-ID before SMTP, so a crash from here on is known to be ambiguous;
    and the plan version the message carries, so later versions can be sent as updates.
    This is also the owner's heartbeat before the SMTP exchange."""
    return _move(sessions, claim, message_id=message_id, subject=subject[:255], updated_at=now,
                 heartbeat_at=now, plan_version=plan_version)


def mark_sent(sessions: sessionmaker[Session], claim: Claim, now: datetime) -> bool:
    return _move(sessions, claim, state=OutboxState.SENT, sent_at=now, next_attempt_at=None,
                 last_error="", updated_at=now)


def mark_failed(sessions: sessionmaker[Session], claim: Claim, now: datetime,
                error: str) -> bool:
    return _move(sessions, claim, state=OutboxState.FAILED, next_attempt_at=None,
                 last_error=error, updated_at=now)


def retry_delay(attempts: int) -> timedelta:
    """2, 4, 8, 16, 30, 30 ... minutes after the 1st, 2nd, 3rd ... failed attempt."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def mark_retry(sessions: sessionmaker[Session], claim: Claim, now: datetime, error: str,
               deadline: datetime | None) -> Outcome:
    """Queue the row for a later attempt, or fail it when attempts or time have run out."""
    next_attempt = now + retry_delay(claim.attempts)
    if claim.attempts >= MAX_ATTEMPTS or (deadline is not None and next_attempt > deadline):
        mark_failed(sessions, claim, now, f"gave up after {claim.attempts} attempts: {error}")
        return Outcome.FAILED
    _move(sessions, claim, state=OutboxState.QUEUED, next_attempt_at=next_attempt,
          last_error=error, updated_at=now)
    return Outcome.RETRY


def record_missed(sessions: sessionmaker[Session], key: OutboxKey, now: datetime,
                  reason: str) -> bool:
    """Record that ``key`` was not sent in time (only if nothing else happened to it)."""
    with session_scope(sessions) as session:
        return _insert_if_absent(session, key, OutboxState.MISSED, now, last_error=reason)


def expire(sessions: sessionmaker[Session], key: OutboxKey, now: datetime) -> OutboxState | None:
    """A queued row whose cut-off has passed: fail it rather than send a stale message."""
    with session_scope(sessions) as session:
        row = find(session, key)
        if row is None or row.state != OutboxState.QUEUED:
            return None
        reason = f"not sent by the cut-off after {row.attempts} attempts"
        if row.last_error:
            reason += f"; last error: {row.last_error}"
        done = _updated(session, 
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.QUEUED)
            .values(state=OutboxState.FAILED, next_attempt_at=None, last_error=reason[:2000],
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return OutboxState.FAILED if done else None


def requeue(sessions: sessionmaker[Session], key: OutboxKey, now: datetime) -> bool:
    """Put a failed, missed or to-be-reviewed row back in the queue (a person asked for it)."""
    with session_scope(sessions) as session:
        row = find(session, key)
        if row is None or row.state not in (
            OutboxState.FAILED, OutboxState.MISSED, OutboxState.REVIEW
        ):
            return False
        return _updated(session, 
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.state == row.state)
            .values(state=OutboxState.QUEUED, next_attempt_at=None, updated_at=now,
                    possible_duplicate=row.state == OutboxState.REVIEW or row.possible_duplicate)
            .execution_options(synchronize_session=False)
        ) == 1


def recover_stale(sessions: sessionmaker[Session], now: datetime,
                  deadline_for: Callable[[OutboxKey], datetime | None]) -> list[OutboxKey]:
    """Resolve rows left ``sending`` by an owner that is gone; returns the keys to send again.

    No Message-ID yet: nothing reached SMTP, so the row is simply queued again. A Message-ID:
    the message may have gone out, so it is queued again as a possible duplicate while its
    cut-off allows, and otherwise marked for review. (``deadline_for`` runs between
    transactions: it may open its own.)
    """
    with session_scope(sessions) as session:
        stale = [row for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING))
            if owner_gone(row.claimed_by, row.heartbeat_at or row.claimed_at, now)]
    to_send: list[OutboxKey] = []
    for row in stale:
        key = OutboxKey(row.therapist_id, row.day, row.kind)
        deadline = deadline_for(key)
        state = _recovered_state(bool(row.message_id), deadline is None or now <= deadline)
        note = (f"worker {row.claimed_by} stopped during attempt {row.attempts} "
                f"({'after' if row.message_id else 'before'} handing the message to the server)")
        with session_scope(sessions) as session:
            moved = _updated(session, 
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.SENDING,
                       OutboxMessage.claimed_at == row.claimed_at)
                .values(state=state, last_error=note, updated_at=now,
                        next_attempt_at=now if state == OutboxState.QUEUED else None,
                        possible_duplicate=row.possible_duplicate or bool(row.message_id))
                .execution_options(synchronize_session=False)
            )
        if moved:
            log.warning("recovered %s left sending: now %s", key, state)
            if state == OutboxState.QUEUED:
                to_send.append(key)
    return to_send


def _recovered_state(may_have_left: bool, in_time: bool) -> OutboxState:
    if in_time:
        return OutboxState.QUEUED
    return OutboxState.REVIEW if may_have_left else OutboxState.FAILED


def next_attempt_after(sessions: sessionmaker[Session], now: datetime) -> datetime | None:
    """The earliest time after ``now`` at which a queued row's backoff ends (any kind)."""
    with session_scope(sessions) as session:
        return session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.state == OutboxState.QUEUED, OutboxMessage.next_attempt_at > now))


def due_retries(sessions: sessionmaker[Session], now: datetime, kind: str) -> list[OutboxKey]:
    with session_scope(sessions) as session:
        rows = session.execute(
            select(OutboxMessage.therapist_id, OutboxMessage.day).where(
                OutboxMessage.kind == kind,
                OutboxMessage.state == OutboxState.QUEUED,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            ).order_by(OutboxMessage.day, OutboxMessage.therapist_id)
        ).all()
    return [OutboxKey(therapist_id, day, kind) for therapist_id, day in rows]


# ---------------------------------------------------------------------------------------------
# The whole exchange


def deliver(sessions: sessionmaker[Session], key: OutboxKey, compose: Compose,
            sender: MailSender, now: datetime, worker: str, *,
            message_id_domain: str, deadline: datetime | None = None) -> Outcome:
    """Claim ``key``, compose its message, hand it to ``sender`` and record what happened.

    ``compose`` runs only after the claim is won, so the work it does (planning the day) is
    done once. ``deadline``: no retry is scheduled after it, and a claim left by a dead owner
    is not taken over after it (housekeeping puts that one up for review).
    """
    started = clock.utcnow()

    def elapsed() -> datetime:
        """``now`` moved on by the time spent here: the heartbeat after composing."""
        return now + max(clock.utcnow() - started, timedelta(0))

    held = claim(sessions, key, now, worker, take_over=deadline is None or now <= deadline)
    if held is None:
        return Outcome.NOT_CLAIMED
    try:
        message = compose(held)
    except Exception as error:  # a bug or bad data: record it without its text (may hold data)
        log.error("could not compose %s (%s); where:\n%s", key, type(error).__name__,
                  "".join(traceback.format_tb(error.__traceback__)))
        mark_failed(sessions, held, now, f"could not compose the message ({type(error).__name__})")
        return Outcome.FAILED

    message_id = held.message_id or make_msgid(domain=message_id_domain)
    del message["Message-ID"]
    message["Message-ID"] = message_id
    if held.possible_duplicate:
        message[DUPLICATE_HEADER] = "yes"
    version = str(message.get(PLAN_VERSION_HEADER) or "")
    if not note_transmitting(sessions, held, message_id, str(message["Subject"] or ""),
                             elapsed(), plan_version=int(version) if version.isdigit() else None):
        log.warning("%s: claim lost before sending; another worker took over", key)
        return Outcome.NOT_CLAIMED

    try:
        sender.send(message)
    except TransientMailError as error:
        outcome = mark_retry(sessions, held, now, str(error), deadline)
        log.warning("%s: attempt %d failed (%s): %s", key, held.attempts, error, outcome)
        return outcome
    except PermanentMailError as error:
        mark_failed(sessions, held, now, str(error))
        log.error("%s: failed, not retried: %s", key, error)
        return Outcome.FAILED
    if not mark_sent(sessions, held, now):
        log.error("%s: sent, but the claim had been taken over; it may go out twice", key)
    log.info("%s: sent (attempt %d%s)", key, held.attempts,
             ", possible duplicate" if held.possible_duplicate else "")
    return Outcome.SENT


def listed(session: Session, page: int,
           per_page: int) -> tuple[list[tuple[OutboxMessage, str]], int]:
    """One page of the outbox, newest day first, each row with its therapist's name; and the
    number of rows in all (the admin's outbox page)."""
    total = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    rows = session.execute(
        select(OutboxMessage, Therapist.name)
        .join(Therapist, Therapist.id == OutboxMessage.therapist_id)
        .order_by(OutboxMessage.day.desc(), OutboxMessage.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return [(row[0], row[1]) for row in rows], total

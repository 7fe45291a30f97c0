"""The audit trail's hash chain: each row's ``row_hash`` is SHA-256 over the previous row's
hash and a canonical encoding of the row's own fields, in ``id`` order, from a fixed genesis.

Altering a row changes what its hash should be; deleting, inserting or reordering rows breaks
the link from one row to the next; :func:`verify` names the first row where either shows.
A chain alone cannot show rows removed from its *end* (or a trail emptied): for that, note the
head hash ``rounds audit verify`` prints and pass it back later (``--expect-head``).

Appends are serialised so concurrent writers (web workers, the e-mail worker) never fork the
chain: on PostgreSQL a transaction-scoped advisory lock is taken before the head is read (and
held to commit, so the next writer reads this one's rows); on SQLite every write transaction
already begins IMMEDIATE (:mod:`scheduler.db`), holding the database's write lock before the
head is read.

Rows recorded in a session wait in it (:func:`add`) and are appended as its transaction
commits (a ``before_commit`` hook), so the PostgreSQL lock is held only for the commit itself:
taken mid-transaction, it would make every audited write wait for the slowest one, and could
deadlock with row locks taken after it. Rows recorded inside a savepoint that rolls back are
dropped with it; a rolled-back transaction drops them all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from scheduler import audit_guard, clock
from scheduler.models import AuditEvent

GENESIS = "0" * 64
CHAIN_LOCK = 0x726F756E6473  # any constant shared by every writer: "rounds" in ASCII
HASHED = ("at", "actor_id", "actor_label", "action", "entity", "entity_id", "detail")
BATCH = 2000


def canonical(row: dict[str, Any]) -> str:
    """The row's hashed fields as one JSON array: fixed order, UTC time to the microsecond
    (what both backends keep), so the same row encodes the same wherever it is read back."""
    at: datetime = row["at"]
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    values = [at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")] + [row[name] for name in HASHED[1:]]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(row)}".encode()).hexdigest()


def head(session: Session) -> str:
    """The last row's hash (GENESIS for an empty trail)."""
    last = session.scalar(select(AuditEvent.row_hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))


def append(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of HASHED fields) at the chain's end now, in one statement
    (:func:`add` queues them for the commit instead).

    Runs in the caller's transaction: if it rolls back, the rows go and the chain's end is
    where it was.
    """
    if not rows:
        return
    _lock(session)
    prev = head(session)
    for row in rows:
        row["prev_hash"] = prev
        row["row_hash"] = prev = row_hash(prev, row)
    session.execute(insert(AuditEvent), rows)


_PENDING = "rounds_audit_pending"


def add(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue rows to be appended when the session's transaction commits."""
    if not session.in_transaction():
        session.begin()  # no connection yet; a transaction the rows belong to and end with
    scope = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).extend((scope, row) for row in rows)


def pending(session: Session) -> list[dict[str, Any]]:
    """The rows queued in this session and not yet appended."""
    return [row for _, row in session.info.get(_PENDING, [])]


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its rows wait for the real commit
    queued = session.info.pop(_PENDING, None)
    if queued:
        append(session, [row for _, row in queued])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    queued = session.info.get(_PENDING)
    if queued:
        session.info[_PENDING] = [(scope, row) for scope, row in queued
                                  if not _inside(scope, previous_transaction)]


def _inside(scope: SessionTransaction | None, outer: SessionTransaction | None) -> bool:
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify` found: ``problem`` is empty when the chain holds."""

    rows: int
    head: str
    bad_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def verify(session: Session, *, expect_head: str = "") -> Verdict:
    """Walk the trail in id order and report the first row that breaks the chain."""
    prev, count, seen_expected = GENESIS, 0, not expect_head
    columns = [getattr(AuditEvent, name) for name in ("id", *HASHED, "prev_hash", "row_hash")]
    result = session.execute(select(*columns).order_by(AuditEvent.id)
                             .execution_options(yield_per=BATCH))
    try:
        for raw in result:
            row = raw._asdict()
            count += 1
            if row["prev_hash"] != prev:
                return Verdict(count, prev, row["id"],
                               f"row {row['id']} does not follow the row before it: a row "
                               "was deleted, inserted or moved before it")
            if row_hash(prev, row) != row["row_hash"]:
                return Verdict(count, prev, row["id"], f"row {row['id']} was altered")
            prev = row["row_hash"]
            seen_expected = seen_expected or prev == expect_head
    finally:
        result.close()  # a server-side cursor on PostgreSQL, when stopped early
    if not seen_expected:
        return Verdict(count, prev, None,
                       f"the noted head {expect_head[:16]}… is not in the trail: rows were "
                       "removed from its end, or it was emptied")
    return Verdict(count, prev)


def clear(session: Session, label: str) -> int:
    """Empty the trail, the one sanctioned way (the demo's reset), and say so in its first row.

    The triggers are dropped and made again in the caller's transaction, so no other writer
    ever sees the table unguarded. The new chain starts from GENESIS; its first row keeps
    how many rows went and the old head, so the cut is on the record.
    """
    connection = session.connection()
    gone = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    old_head = head(session)
    audit_guard.unprotect(connection)
    session.execute(delete(AuditEvent))
    audit_guard.protect(connection)
    append(session, [{"at": clock.utcnow(), "actor_id": None, "actor_label": label,
                      "action": "trail_cleared", "entity": "audit_events", "entity_id": None,
                      "detail": f"{gone} rows; old head {old_head}"}])
    return gone


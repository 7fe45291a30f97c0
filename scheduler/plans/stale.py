"""Plans that stay true: the stale days, marked and waiting to be planned again.

A plan is only safe on the day it was made. Every change saved through
:mod:`scheduler.records` (and time off) marks, in the same transaction, the planned days
(draft or published, from today on) whose inputs it touches (:mod:`scheduler.plans.touches`
decides which): a :class:`~scheduler.models.StaleDay` row per therapist and day, with the
cause in words ("Hemodialysis for R.A. now Tue/Thu/Sat", "Priya is off: Sick (Dec 7)").

The queue: :func:`claim_day` leases every stale row of the day with the oldest change to one
worker (several workers share it: a leased day is skipped until its lease ends),
:func:`clear_claimed` deletes the rows once their day is planned again, unless a newer change
marked them meanwhile (``generation``); a planner reads the marks with :func:`generations`
before it reads the records, and :func:`answered` deletes those its new plans follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from scheduler import models

Pair = tuple[int, date]  # (therapist id, day)
LEASE = timedelta(minutes=5)
"""How long a worker holds a claimed day: long enough to plan it, short enough that a crashed
worker's day is taken over soon."""


# ---------------------------------------------------------------------------------------------
# Marking


def mark(session: Session, pairs: Iterable[Pair], cause: str, now: datetime) -> int:
    """Mark each (therapist, day) stale with ``cause`` (kept once); returns how many."""
    wanted = sorted(set(pairs))
    if not wanted:
        return 0
    existing = {(row.therapist_id, row.day): row for row in session.scalars(
        select(models.StaleDay).where(or_(*(
            and_(models.StaleDay.therapist_id == therapist_id, models.StaleDay.day == day)
            for therapist_id, day in wanted))))}
    for therapist_id, day in wanted:
        row = existing.get((therapist_id, day))
        if row is None:
            session.add(models.StaleDay(therapist_id=therapist_id, day=day, causes=[cause],
                                        marked_at=now, generation=1, lease_owner=""))
        else:
            row.causes = list(dict.fromkeys([*row.causes, cause]))[-20:]
            row.generation += 1
    session.flush()
    return len(wanted)


def stale_causes(session: Session, therapist_id: int, day: date) -> list[str]:
    """Why the therapist's plan of ``day`` is stale, in words; empty when it is not."""
    row = session.scalar(select(models.StaleDay).where(
        models.StaleDay.therapist_id == therapist_id, models.StaleDay.day == day))
    return list(row.causes) if row is not None else []


def stale_days(session: Session, first: date, last: date) -> dict[Pair, list[str]]:
    """Every stale (therapist, day) from ``first`` to ``last`` with its causes."""
    rows = session.scalars(select(models.StaleDay).where(
        models.StaleDay.day.between(first, last)))
    return {(row.therapist_id, row.day): list(row.causes) for row in rows}


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True)
class ClaimedDay:
    day: date
    generations: Mapping[int, int]  # therapist id -> generation claimed
    causes: Mapping[int, list[str]]
    worker: str


def claim_day(session: Session, worker: str, now: datetime,
              not_before: date) -> ClaimedDay | None:
    """Lease the stale rows of the day with the oldest change (on or after ``not_before``)
    to ``worker``; None when there is nothing to do or everything is leased. Rows of days
    before ``not_before`` (past days) are dropped: a past day is not re-planned."""
    session.execute(delete(models.StaleDay).where(models.StaleDay.day < not_before))
    free = or_(models.StaleDay.lease_until.is_(None), models.StaleDay.lease_until < now)
    day = session.scalar(select(models.StaleDay.day).where(free).order_by(
        models.StaleDay.marked_at, models.StaleDay.id).limit(1))
    if day is None:
        return None
    session.execute(update(models.StaleDay).where(models.StaleDay.day == day, free)
                    .values(lease_owner=worker, lease_until=now + LEASE)
                    .execution_options(synchronize_session=False))
    rows = session.scalars(select(models.StaleDay).where(
        models.StaleDay.day == day, models.StaleDay.lease_owner == worker)
        .execution_options(populate_existing=True)).all()
    if not rows:
        return None
    return ClaimedDay(day, {row.therapist_id: row.generation for row in rows},
                      {row.therapist_id: list(row.causes) for row in rows}, worker)


def clear_claimed(session: Session, claim: ClaimedDay) -> None:
    """The claimed day is planned again: delete its rows, except those a newer change marked
    since the claim (they stay, released, for another round)."""
    for therapist_id, generation in claim.generations.items():
        session.execute(delete(models.StaleDay).where(
            models.StaleDay.therapist_id == therapist_id, models.StaleDay.day == claim.day,
            models.StaleDay.generation == generation))
    release(session, claim)


def release(session: Session, claim: ClaimedDay) -> None:
    """Give the claimed rows back to the queue (planning failed, or a newer change came)."""
    session.execute(update(models.StaleDay).where(
        models.StaleDay.day == claim.day, models.StaleDay.lease_owner == claim.worker)
        .values(lease_owner="", lease_until=None).execution_options(synchronize_session=False))


def generations(session: Session, first: date, last: date) -> dict[date, dict[int, int]]:
    """The marks from ``first`` to ``last`` (day -> therapist id -> generation), read by a
    planner *before* it reads the records it plans from: a change saved after this read
    carries a newer generation, so its mark outlives the plans made without it."""
    marks: dict[date, dict[int, int]] = {}
    for therapist_id, day, generation in session.execute(
            select(models.StaleDay.therapist_id, models.StaleDay.day, models.StaleDay.generation)
            .where(models.StaleDay.day.between(first, last))):
        marks.setdefault(day, {})[therapist_id] = generation
    return marks


def answered(session: Session, day: date, read: Mapping[int, int]) -> None:
    """The day was planned again from the records as they were when ``read`` was taken (by
    :func:`generations`): those marks are answered; newer ones stay."""
    for therapist_id, generation in read.items():
        session.execute(delete(models.StaleDay).where(
            models.StaleDay.therapist_id == therapist_id, models.StaleDay.day == day,
            models.StaleDay.generation == generation))

"""Re-planning the stale days: the planned days a change to the records touched
(:mod:`scheduler.plans.stale`), oldest change first, until none is left.

Each day is claimed for this worker (a lease, so several workers share the queue without
planning a day twice), planned again for the therapists marked on it, together (so the open
visits an absent therapist held go to the others), and its marks are cleared in the same
transaction as the new versions are saved (several days per transaction, see
:data:`BATCH_DAYS`). Planning keeps what happened: done and skipped
stops stay with their times, and today is planned from now (:func:`scheduler.planning.plan_days`
with ``from_now``). A day that had been published is published again, as the old plan is no
longer safe to follow. A day that fails to plan is released and tried again later; the
morning e-mail never waits for it (it checks the plan stop by stop and marks what it must).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler import models
from scheduler.db import session_scope
from scheduler.planning.days import plan_days, plan_stale_days
from scheduler.plans import stale
from scheduler.plans.record import plans_of_record
from scheduler.settings import Settings
from scheduler.travel.times import TravelTimes

log = logging.getLogger("rounds.planning")


@dataclass(frozen=True)
class Refreshed:
    """One stale day planned again: which plans, and why they had to be."""

    day: date
    # (therapist id, version, status, whether it is new): a re-plan that changes nothing keeps
    # the version it had
    plans: tuple[tuple[int, int, str, bool], ...]
    causes: tuple[str, ...]


BATCH_DAYS = 31
"""Days planned again in one transaction, reading the practice once: one change to a weekly
treatment touches weeks of days, and reading the practice is most of the cost of each."""


def replan_stale(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 worker: str, *, time_limit: float | None = None, max_days: int | None = None,
                 travel_times: TravelTimes | None = None) -> list[Refreshed]:
    """Plan every stale day again (at most ``max_days``), oldest change first; what was done.

    Up to :data:`BATCH_DAYS` claimed days are planned in one transaction. If that fails, they
    are taken again one day per transaction: a day that cannot be planned keeps its lease
    until the end of the run (so the days after it are still planned) and then goes back to
    the queue, marked, for the next run.
    """
    today = now.astimezone(settings.zone).date()
    done: list[Refreshed] = []
    failed: list[stale.ClaimedDay] = []
    batch = BATCH_DAYS
    try:
        while max_days is None or len(done) < max_days:
            room = batch if max_days is None else min(batch, max_days - len(done))
            claims = _claim(sessions, worker, now, today, room)
            if not claims:
                break
            try:
                with session_scope(sessions) as session:
                    done.extend(_replan(session, settings, now, claims, time_limit,
                                        travel_times))
            except Exception as error:  # noqa: BLE001 - the days stay marked
                log.error("re-planning %s failed (%s); it stays marked",
                          ", ".join(str(c.day) for c in claims), type(error).__name__)
                if len(claims) == 1:
                    failed.extend(claims)  # held until the end of the run
                else:
                    batch = 1  # find the day that fails
                    _release(sessions, claims)
    finally:
        _release(sessions, failed)
    return done


def _claim(sessions: sessionmaker[Session], worker: str, now: datetime, today: date,
           count: int) -> list[stale.ClaimedDay]:
    """Lease up to ``count`` stale days, oldest change first."""
    claims: list[stale.ClaimedDay] = []
    while len(claims) < count:
        with session_scope(sessions) as session:
            claim = stale.claim_day(session, worker, now, today)
        if claim is None:
            break
        claims.append(claim)
    return claims


def _release(sessions: sessionmaker[Session], claims: list[stale.ClaimedDay]) -> None:
    if claims:
        with session_scope(sessions) as session:
            for claim in claims:
                stale.release(session, claim)


def _replan(session: Session, settings: Settings, now: datetime,
            claims: list[stale.ClaimedDay], time_limit: float | None,
            travel_times: TravelTimes | None) -> list[Refreshed]:
    therapists = {t for claim in claims for t in claim.generations}
    active = set(session.scalars(select(models.Therapist.id).where(
        models.Therapist.id.in_(therapists), models.Therapist.active.is_(True))))
    days = [claim.day for claim in claims]
    had = {key: plan.version for key, plan in
           plans_of_record(session, min(days), max(days)).items()}
    planned = plan_stale_days(session, settings,
                              {c.day: sorted(active & set(c.generations)) for c in claims
                               if active & set(c.generations)},
                              now, time_limit=time_limit, travel_times=travel_times)
    refreshed = []
    for claim in claims:
        plans = planned.get(claim.day, [])
        _withdraw(session, claim.day, set(claim.generations) - active)
        stale.clear_claimed(session, claim)
        causes = tuple(dict.fromkeys(c for therapist in claim.causes.values() for c in therapist))
        fresh = tuple((p.therapist_id, p.version, p.status.value,
                       had.get((p.therapist_id, claim.day)) != p.version) for p in plans)
        log.info("re-planned %s for %d therapist(s): %d new version(s)", claim.day,
                 len(plans), sum(new for *_, new in fresh))
        refreshed.append(Refreshed(claim.day, fresh, causes))
    return refreshed


def _withdraw(session: Session, day: date, therapist_ids: set[int]) -> None:
    """An inactive therapist's plans of ``day`` stop being plans of record (superseded):
    nothing of theirs is shown or sent as current; their open visits went to the others."""
    if therapist_ids:
        session.execute(update(models.DayPlan).where(
            models.DayPlan.day == day, models.DayPlan.therapist_id.in_(therapist_ids),
            models.DayPlan.status != models.PlanStatus.SUPERSEDED)
            .values(status=models.PlanStatus.SUPERSEDED)
            .execution_options(synchronize_session=False))


def replan_day_now(session: Session, settings: Settings, day: date,
                   now: datetime) -> list[models.DayPlan]:
    """Plan ``day`` again at once for the therapists a change just marked (in the caller's
    transaction, as the change itself): a visit cancelled from the day page leaves the route,
    the map and the feeds immediately, and the rest of the day follows. Past days are left."""
    if day < now.astimezone(settings.zone).date():
        return []
    marked = stale.stale_days(session, day, day)
    active = set(session.scalars(select(models.Therapist.id).where(
        models.Therapist.id.in_({t for t, _ in marked}), models.Therapist.active.is_(True))))
    if not active:
        return []
    return plan_days(session, settings, day, sorted(active), now=now, from_now=True)

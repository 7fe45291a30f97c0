"""Re-planning the stale days: the planned days a change to the records touched
(:mod:`scheduler.plans.stale`), oldest change first, until none is left.

Each day is claimed for this worker (a lease, so several workers share the queue without
planning a day twice), planned again for the therapists marked on it, together (so the open
visits an absent therapist held go to the others), and its marks are cleared in the same
transaction as the new versions are saved. Planning keeps what happened: done and skipped
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
from scheduler.planning.days import plan_days
from scheduler.plans import stale
from scheduler.plans.record import plans_of_day
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


def replan_stale(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 worker: str, *, time_limit: float | None = None, max_days: int | None = None,
                 travel_times: TravelTimes | None = None) -> list[Refreshed]:
    """Plan every stale day again (at most ``max_days``), oldest change first; what was done.

    Each day is its own transaction: a failure leaves the others planned and this one marked.
    """
    today = now.astimezone(settings.zone).date()
    done: list[Refreshed] = []
    failed: set[date] = set()
    while max_days is None or len(done) < max_days:
        with session_scope(sessions) as session:
            claim = stale.claim_day(session, worker, now, today)
        if claim is None or claim.day in failed:
            if claim is not None:
                with session_scope(sessions) as session:
                    stale.release(session, claim)
            break
        try:
            with session_scope(sessions) as session:
                done.append(_replan(session, settings, now, claim, time_limit, travel_times))
        except Exception as error:  # noqa: BLE001 - the day stays marked; the next round retries
            log.error("re-planning %s failed (%s); it stays marked", claim.day,
                      type(error).__name__)
            failed.add(claim.day)
            with session_scope(sessions) as session:
                stale.release(session, claim)
    return done


def _replan(session: Session, settings: Settings, now: datetime, claim: stale.ClaimedDay,
            time_limit: float | None, travel_times: TravelTimes | None) -> Refreshed:
    active = set(session.scalars(select(models.Therapist.id).where(
        models.Therapist.id.in_(claim.generations), models.Therapist.active.is_(True))))
    had = {t: plan.version for t, plan in plans_of_day(session, claim.day).items()}
    plans = plan_days(session, settings, claim.day, sorted(active), now=now, from_now=True,
                      time_limit=time_limit, travel_times=travel_times) if active else []
    _withdraw(session, claim.day, set(claim.generations) - active)
    stale.clear_claimed(session, claim)
    causes = tuple(dict.fromkeys(c for therapist in claim.causes.values() for c in therapist))
    fresh = tuple((p.therapist_id, p.version, p.status.value, had.get(p.therapist_id) != p.version)
                  for p in plans)
    log.info("re-planned %s for %d therapist(s): %d new version(s)", claim.day,
             len(active), sum(new for *_, new in fresh))
    return Refreshed(claim.day, fresh, causes)


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

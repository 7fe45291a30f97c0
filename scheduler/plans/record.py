"""Which plan counts: the plan of record of a therapist's day is its published version, else
its newest draft. Everything that shows or sends a plan asks here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import DayPlan, PlanStatus


def current_plan(session: Session, therapist_id: int, day: date) -> DayPlan | None:
    """The plan of record: the published version, else the latest draft, else None."""
    return plans_of_day(session, day, therapist_id).get(therapist_id)


def plans_of_day(session: Session, day: date,
                   therapist_id: int | None = None) -> dict[int, DayPlan]:
    """Each therapist's plan of record for ``day`` (one query for all of them)."""
    ids = [therapist_id] if therapist_id is not None else None
    return {t: plan for (t, _), plan in plans_of_record(session, day, day, ids).items()}


def plans_of_record(session: Session, first: date, last: date,
                    therapist_ids: Sequence[int] | None = None) -> dict[tuple[int, date], DayPlan]:
    """The plan of record of each (therapist, day) from ``first`` to ``last``, in one query:
    the published version, else the newest draft (what :func:`current_plan` answers)."""
    query = (select(DayPlan)
             .where(DayPlan.day.between(first, last), DayPlan.status != PlanStatus.SUPERSEDED)
             .options(selectinload(DayPlan.stops))
             .order_by(DayPlan.therapist_id, DayPlan.day, DayPlan.version.desc()))
    if therapist_ids is not None:
        query = query.where(DayPlan.therapist_id.in_(therapist_ids))
    found: dict[tuple[int, date], DayPlan] = {}
    for plan in session.scalars(query):
        key = (plan.therapist_id, plan.day)
        held = found.get(key)
        if held is None or (plan.status == PlanStatus.PUBLISHED
                            and held.status != PlanStatus.PUBLISHED):
            found[key] = plan
    return found

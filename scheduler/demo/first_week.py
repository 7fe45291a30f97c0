"""The demo's first screen is a route: loading it plans and publishes its current week, and
on to a week from today.

Without this a new user signs in to "No plan for this day yet". Today's week (Monday to
Sunday) fills the week page; the days up to a week ahead mean that on a Saturday the next
working day already has its route (the day page opens on it,
:func:`scheduler.plans.record.day_to_open`). The days are planned through the planning domain
like ``rounds plan --publish`` (the same optimizer, the same checks), so what the demo shows
is what the practice would get.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from scheduler import planning
from scheduler.demo.loader import DEMO_WEEKS, anchor_monday
from scheduler.models import DayPlan
from scheduler.settings import Settings


def days_to_plan(anchor: date, today: date) -> tuple[date, date]:
    """The first and last day to plan: today's week and on to a week from today, within the
    demo's weeks (the usual case: the demo is anchored on this week); the demo's first week
    when today lies outside them."""
    end = anchor + timedelta(weeks=DEMO_WEEKS, days=-1)
    monday = anchor_monday(today)
    if not anchor <= monday <= end:
        return anchor, anchor + timedelta(days=6)
    return monday, min(max(monday + timedelta(days=6), today + timedelta(days=7)), end)


def plan_days(session: Session, settings: Settings, first: date, last: date, now: datetime, *,
              time_limit: float | None = None) -> list[DayPlan]:
    """Plan and publish every therapist's day from ``first`` to ``last`` (new versions)."""
    return planning.plan_range(session, settings, first, last, publish=True, now=now,
                               time_limit=time_limit)

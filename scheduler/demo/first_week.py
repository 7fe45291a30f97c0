"""The demo's first screen is a route: loading it plans and publishes the current week.

Without this a new user signs in to "No plan for this day yet". The week is planned through
the planning domain like ``rounds plan --publish`` (the same optimizer, the same checks), so
what the demo shows is what the practice would get.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from scheduler import planning
from scheduler.demo.loader import DEMO_WEEKS, anchor_monday
from scheduler.models import DayPlan
from scheduler.settings import Settings


def week_to_plan(anchor: date, today: date) -> date:
    """The Monday of the week to plan: today's week when it lies in the demo's weeks (the
    usual case, the demo is anchored on this week), else the demo's first week."""
    monday = anchor_monday(today)
    if anchor <= monday < anchor + timedelta(weeks=DEMO_WEEKS):
        return monday
    return anchor


def plan_week(session: Session, settings: Settings, monday: date, now: datetime, *,
              time_limit: float | None = None) -> list[DayPlan]:
    """Plan and publish every therapist's day from ``monday`` to Sunday (new versions)."""
    return planning.plan_range(session, settings, monday, monday + timedelta(days=6),
                               publish=True, now=now, time_limit=time_limit)

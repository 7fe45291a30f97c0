"""A week at a glance: each therapist's days with visit counts, hands-on and drive time, and
the warnings a planner acts on (visits left out, over a daily limit, visits on a day off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.calendar import time_off
from scheduler.plans.record import plans_of_record


@dataclass(frozen=True)
class DayCell:
    day: date
    works: bool
    plan: models.DayPlan | None
    visits: int
    hands_on_minutes: int
    drive_minutes: int
    left_out: int  # the therapist's own visits left out (open ones are counted per day)
    warnings: tuple[str, ...]
    away: str | None = None  # time off or a practice closure, in words


@dataclass(frozen=True)
class Week:
    monday: date
    days: tuple[date, ...]
    rows: tuple[tuple[models.Therapist, tuple[DayCell, ...]], ...]
    open_left_out: tuple[int, ...]  # per day: open visits nobody could take


def week_of(session: Session, monday: date, therapists: list[models.Therapist]) -> Week:
    """The week from ``monday`` for ``therapists``: their plans of record and days away."""
    days = tuple(monday + timedelta(days=i) for i in range(7))
    plans = plans_of_record(session, days[0], days[-1], [t.id for t in therapists])
    away = time_off.between(session, days[0], days[-1])
    rows = tuple((t, tuple(day_cell(t, d, plans.get((t.id, d)), _away_words(away, t, d))
                           for d in days))
                 for t in therapists)
    return Week(monday, days, rows, tuple(open_left_out(plans, d) for d in days))


def _away_words(entries: list[models.TimeOff], therapist: models.Therapist,
                day: date) -> str | None:
    entry = time_off.entry_on(entries, therapist.id, day)
    return time_off.describe(entry, therapist.name) if entry is not None else None


def day_cell(therapist: models.Therapist, day: date, plan: models.DayPlan | None,
             away: str | None = None) -> DayCell:
    """One therapist's day: what the plan holds (skipped visits do not count) and warnings."""
    works = away is None and any(shift.weekday == day.weekday() for shift in therapist.shifts)
    stops = [s for s in plan.stops if s.state != models.StopState.SKIPPED] if plan else []
    hands_on = round(sum((s.end_at - s.start_at).total_seconds() / 60 for s in stops))
    left = sum(1 for entry in plan.left_out if not entry.open) if plan else 0
    warnings = []
    if left:
        warnings.append(f"{left} visit{'s' if left != 1 else ''} left out")
    if therapist.max_visits_per_day and len(stops) > therapist.max_visits_per_day:
        warnings.append(f"more than {therapist.max_visits_per_day} visits")
    if therapist.max_hands_on_minutes and hands_on > therapist.max_hands_on_minutes:
        warnings.append(f"over {therapist.max_hands_on_minutes} hands-on minutes")
    if plan is not None and not works and stops:
        warnings.append("visits on a day off")
    return DayCell(day, works, plan, len(stops), hands_on,
                   round(plan.total_drive_minutes) if plan else 0, left, tuple(warnings), away)


def open_left_out(plans: dict[tuple[int, date], models.DayPlan], day: date) -> int:
    """Open visits (any therapist with the skill) left out on ``day``, each counted once: such
    a visit is listed in the plan of every therapist who could have taken it."""
    return len({(entry.series_id, entry.original_date)
                for (_, plan_day), plan in plans.items() if plan_day == day
                for entry in plan.left_out if entry.open})

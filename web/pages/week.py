"""The week: each therapist's days with visit counts, drive time and overbooking warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from sqlalchemy import select

from scheduler import models
from scheduler.calendar import time_off
from scheduler.plans.record import plans_of_record
from web.access import is_admin
from web.database import db
from web.pages import bp, me
from web.pages.day import local_today, parse_day


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


def away_words(entries: list[models.TimeOff], therapist: models.Therapist,
               day: date) -> str | None:
    entry = time_off.entry_on(entries, therapist.id, day)
    return time_off.describe(entry, therapist.name) if entry is not None else None


def day_cell(therapist: models.Therapist, day: date, plan: models.DayPlan | None,
             away: str | None = None) -> DayCell:
    works = away is None and any(shift.weekday == day.weekday() for shift in therapist.shifts)
    stops = [s for s in plan.stops if s.state != models.StopState.SKIPPED] if plan else []
    hands_on = round(sum((s.end_at - s.start_at).total_seconds() / 60 for s in stops))
    left = sum(1 for entry in (plan.unplaced or []) if not entry.get("open")) if plan else 0
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
    return len({(entry.get("series_id"), entry.get("original_date", entry.get("date")))
                for (_, plan_day), plan in plans.items() if plan_day == day
                for entry in plan.unplaced or [] if entry.get("open")})


@bp.route("/week")
@bp.route("/week/<day>")
def week(day: str | None = None) -> Any:
    """Seven days from the Monday of the given (or this) week."""
    anchor = parse_day(day) if day else local_today()
    monday = anchor - timedelta(days=anchor.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    viewer = me()
    therapists = db().scalars(select(models.Therapist).where(
        models.Therapist.active.is_(True)).order_by(models.Therapist.name)).all() if (
        is_admin(viewer) and request.args.get("mine") != "1") else [viewer]
    plans = plans_of_record(db(), days[0], days[-1], [t.id for t in therapists])
    away = time_off.between(db(), days[0], days[-1])
    rows = [(t, [day_cell(t, d, plans.get((t.id, d)), away_words(away, t, d)) for d in days])
            for t in therapists]
    return render_template("pages/week.html", rows=rows, days=days, monday=monday,
                           open_left_out=[open_left_out(plans, d) for d in days],
                           previous_week=monday - timedelta(days=7),
                           next_week=monday + timedelta(days=7), today=local_today())

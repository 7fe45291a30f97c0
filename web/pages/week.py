"""The week: each therapist's days with visit counts, drive time and overbooking warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler import models
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
    left_out: int
    warnings: tuple[str, ...]


def day_cell(therapist: models.Therapist, day: date, plan: models.DayPlan | None) -> DayCell:
    works = any(shift.weekday == day.weekday() for shift in therapist.shifts)
    stops = [s for s in plan.stops if s.state != models.StopState.SKIPPED] if plan else []
    hands_on = round(sum((s.end_at - s.start_at).total_seconds() / 60 for s in stops))
    left = len(plan.unplaced or []) if plan else 0
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
                   round(plan.total_drive_minutes) if plan else 0, left, tuple(warnings))


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
    ids = [t.id for t in therapists]
    plans = db().scalars(
        select(models.DayPlan).where(models.DayPlan.therapist_id.in_(ids),
                                     models.DayPlan.day.between(days[0], days[-1]))
        .options(selectinload(models.DayPlan.stops))
        .order_by(models.DayPlan.version)).all()
    newest = {(p.therapist_id, p.day): p for p in plans}  # later versions overwrite earlier
    rows = [(t, [day_cell(t, d, newest.get((t.id, d))) for d in days]) for t in therapists]
    return render_template("pages/week.html", rows=rows, days=days, monday=monday,
                           previous_week=monday - timedelta(days=7),
                           next_week=monday + timedelta(days=7), today=local_today())

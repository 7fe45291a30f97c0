"""The week: each therapist's days with visit counts, drive time and overbooking warnings
(:mod:`scheduler.plans.week`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request

from scheduler.plans.week import week_of
from scheduler.records import lists
from web.access import is_admin
from web.database import db
from web.pages import me, signed_in
from web.pages.day import local_today, parse_day

bp = Blueprint("week", __name__)
signed_in(bp)


@bp.route("/week")
@bp.route("/week/<day>")
def week(day: str | None = None) -> Any:
    """Seven days from the Monday of the given (or this) week."""
    anchor = parse_day(day) if day else local_today()
    monday = anchor - timedelta(days=anchor.weekday())
    viewer = me()
    therapists = (list(lists.therapists(db(), active_only=True))
                  if is_admin(viewer) and request.args.get("mine") != "1" else [viewer])
    shown = week_of(db(), monday, therapists)
    return render_template("pages/week.html", rows=shown.rows, days=shown.days, monday=monday,
                           open_left_out=shown.open_left_out,
                           previous_week=monday - timedelta(days=7),
                           next_week=monday + timedelta(days=7), today=local_today())

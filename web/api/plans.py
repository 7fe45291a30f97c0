"""Endpoints for day plans: list and read them, plan a day, re-plan from a moment, publish,
and mark a stop done or skipped. A therapist works on their own days only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request

from scheduler import audit, clock, models, planning
from scheduler.planning.gather import require_on_day
from scheduler.plans import record
from scheduler.plans.view import DayPlanView, Detail
from scheduler.records import parse_practice_date
from scheduler.records.validation import FieldProblem, Problems, ValidationError, parse_float
from web import access
from web.api import serialize as out
from web.api.base import actor, api_blueprint, body, is_admin, paginated, user
from web.database import audit_db, db, runtime
from web.params import MAX_ID, query_int

bp = api_blueprint("api_plans")


def _render(plan: models.DayPlan) -> dict[str, Any]:
    return out.day_plan(_view(plan))


def _view(plan: models.DayPlan) -> DayPlanView:
    """The plan as the API shows it: checked against the records as they are now."""
    return record.checked_views(db(), [plan], runtime().settings, detail=Detail.FULL)[0]


def _audit_plan_reads(plans: list[models.DayPlan]) -> None:
    """Called once the reads are done: on SQLite the audit insert takes the write lock until
    the request ends, so other requests' writes wait for as little as possible."""
    for plan in plans:
        audit.record_reads(audit_db(), actor(), "client", [s.client_id for s in plan.stops],
                           context=f"day_plan {plan.id}")


@bp.get("/day-plans")
def list_day_plans() -> Any:
    day = (parse_practice_date("date", request.args["date"]) if "date" in request.args
           else None)
    therapist_id = (query_int("therapist_id", 0, 1, MAX_ID)
                    if "therapist_id" in request.args else None)
    page = paginated(record.plans_query(user(), day=day, therapist_id=therapist_id),
                     lambda plan: plan)
    views = record.checked_views(db(), page["items"], runtime().settings, detail=Detail.FULL)
    _audit_plan_reads(page["items"])
    page["items"] = [out.day_plan(view) for view in views]
    return page


@bp.get("/day-plans/<id:plan_id>")
def get_day_plan(plan_id: int) -> Any:
    plan = access.plan_or_404(db(), user(), plan_id)
    shown = _render(plan)
    _audit_plan_reads([plan])
    return shown


@bp.post("/day-plans")
def create_day_plans() -> Any:
    """Plan a day (a new version per therapist working that day). ``publish`` true publishes
    them, false keeps them drafts; absent, a day whose plan was published is published again
    and a new day is a draft (the domain's rule)."""
    data = body()
    problems = Problems()
    for name in data:
        problems.check(name in {"date", "therapist_ids", "publish"}, name, "unknown field")
    day = problems.collect(lambda: parse_practice_date("date", data.get("date")))
    ids = data.get("therapist_ids")
    if ids is not None and (not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID for i in ids)):
        problems.add("therapist_ids", f"expected a list of therapist ids (1 to {MAX_ID})")
        ids = None
    publish = data.get("publish")
    problems.check(publish is None or isinstance(publish, bool), "publish",
                   "expected true or false")
    problems.raise_if_any()
    assert day is not None  # else raise_if_any has raised
    if not is_admin():
        for therapist_id in ids or ():
            if therapist_id != user().id:
                access.refuse(db(), models.Therapist, "therapist", therapist_id)
        ids = [user().id]
    elif ids is not None:
        for therapist_id in ids:
            access.therapist_or_404(db(), user(), therapist_id)
    plans = planning.plan_days(db(), runtime().settings, day, ids, publish=publish,
                               now=clock.utcnow())
    for plan in plans:
        audit.record(audit_db(), actor(), "plan", "day_plan", plan.id)
    return jsonify(items=[_render(plan) for plan in plans]), 201


@bp.post("/day-plans/<id:plan_id>/publish")
def publish_day_plan(plan_id: int) -> Any:
    plan = access.plan_or_404(db(), user(), plan_id)
    planning.publish_plan(db(), plan, clock.utcnow())
    audit.record(audit_db(), actor(), "publish", "day_plan", plan.id)
    return _render(plan)


@bp.post("/day-plans/<id:plan_id>/replan")
def replan_day_plan(plan_id: int) -> Any:
    """Re-plan the plan's day from ``at`` (default: now), keeping done and skipped stops."""
    plan = access.plan_or_404(db(), user(), plan_id)
    data = body()
    problems = Problems()
    for name in data:
        problems.check(name in {"at", "lat", "lon"}, name, "unknown field")
    zone = runtime().settings.zone
    at = (problems.collect(lambda: require_on_day(_instant("at", data["at"]), plan.day, zone,
                                                  "at"))
          if "at" in data else clock.utcnow())
    position: tuple[float, float] | None = None
    if ("lat" in data) != ("lon" in data):
        problems.add("lat", "give both lat and lon, or neither")
    elif "lat" in data:
        lat = problems.collect(lambda: _coordinate("lat", data["lat"], 90))
        lon = problems.collect(lambda: _coordinate("lon", data["lon"], 180))
        if lat is not None and lon is not None:
            position = (lat, lon)
    problems.raise_if_any()
    assert at is not None  # else raise_if_any has raised
    new_plan = planning.replan_from(db(), runtime().settings, plan.therapist_id, plan.day, at,
                                    position)
    audit.record(audit_db(), actor(), "replan", "day_plan", new_plan.id)
    return jsonify(_render(new_plan)), 201


@bp.patch("/plan-stops/<id:stop_id>")
def update_plan_stop(stop_id: int) -> Any:
    stop = access.stop_or_404(db(), user(), stop_id)
    data = body()
    problems = Problems()
    for name in data:
        problems.check(name == "state", name, "unknown field")
    state = models.StopState.PLANNED
    try:
        state = models.StopState(str(data.get("state")))
    except (ValueError, TypeError):
        problems.add("state", "must be one of planned, arrived, done, skipped")
    problems.raise_if_any()
    planning.set_stop_state(db(), stop, state, clock.utcnow())
    audit.record(audit_db(), actor(), "update", "plan_stop", stop.id, ("state",))
    (shown,) = [item for item in _view(stop.plan).stops if item.id == stop.id]
    return out.plan_stop(shown)



def _coordinate(field: str, raw: Any, limit: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError([FieldProblem(field, "expected a number")])
    return parse_float(field, raw, minimum=-limit, maximum=limit)


def _instant(field: str, raw: Any) -> datetime:
    """An ISO 8601 date-time with its offset (a naive time would be a guess)."""
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError([FieldProblem(field, "expected an ISO 8601 date-time with an "
                                                   "offset, e.g. 2026-03-09T10:30:00-05:00")])
    return value

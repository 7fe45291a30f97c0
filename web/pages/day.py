"""The day: the therapist's route on a map, the timeline, and the buttons that change the day.

The page shows the day's plan of record, as the planner defines it: the published version,
else the latest draft. Re-planning a published day publishes the new version (the itinerary
in use must follow the day); a draft made elsewhere after it is offered for publishing.
Every client shown is audited as read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from scheduler import audit, models, planning
from scheduler.calendar import time_off
from scheduler.clock import utcnow
from scheduler.records import parse_practice_date
from scheduler.records.precautions import FLAGS
from scheduler.records.validation import ValidationError
from web.access import found, is_admin, plan_or_404, stop_or_404
from web.database import audit_db, db, end_transaction, runtime
from web.pages import actor, bp, me
from web.routes import Route, build_route, route_geojson


@dataclass(frozen=True)
class TimelineBreak:
    start: datetime
    end: datetime


def local_today() -> date:
    return utcnow().astimezone(runtime().settings.zone).date()


def parse_day(raw: str) -> date:
    """A day from the URL; anything but a date a practice can mean is not found."""
    try:
        return parse_practice_date("day", raw)
    except ValidationError:
        abort(404)


def chosen_therapist(raw: Any) -> models.Therapist:
    """Whose day: one's own, or (admin only) any therapist's via ?therapist=<id>."""
    viewer = me()
    if raw in (None, "") or str(raw) == str(viewer.id):
        return viewer
    if not is_admin(viewer) or not str(raw).isdigit():
        abort(404)
    return found(db().get(models.Therapist, int(raw)))


def plan_of_record(therapist_id: int, day: date) -> models.DayPlan | None:
    """The day's plan as :func:`scheduler.planning.current_plan` chooses it (the published
    version, else the latest draft), with what the page shows loaded in the same query."""
    plan = models.DayPlan
    return db().scalar(
        select(plan)
        .where(plan.therapist_id == therapist_id, plan.day == day,
               plan.status != models.PlanStatus.SUPERSEDED)
        .order_by((plan.status == models.PlanStatus.PUBLISHED).desc(), plan.version.desc())
        .limit(1)
        .options(selectinload(plan.stops).options(
            joinedload(models.PlanStop.client), joinedload(models.PlanStop.facility)))
    )


def newer_draft(plan: models.DayPlan) -> models.DayPlan | None:
    """A draft made after the published plan (e.g. through the API), waiting to be published."""
    if plan.status != models.PlanStatus.PUBLISHED:
        return None
    return db().scalar(select(models.DayPlan).where(
        models.DayPlan.therapist_id == plan.therapist_id, models.DayPlan.day == plan.day,
        models.DayPlan.status == models.PlanStatus.DRAFT,
        models.DayPlan.version > plan.version).order_by(models.DayPlan.version.desc()).limit(1))


def timeline(route: Route, plan: models.DayPlan) -> list[Any]:
    """The stops with the break slotted in where it falls."""
    items: list[Any] = list(route.stops)
    if plan.break_start_at and plan.break_end_at:
        zone = runtime().settings.zone
        pause = TimelineBreak(plan.break_start_at.astimezone(zone),
                              plan.break_end_at.astimezone(zone))
        position = next((i for i, s in enumerate(route.stops) if s.start >= pause.start),
                        len(items))
        items.insert(position, pause)
    return items


@dataclass(frozen=True)
class LeftOutClient:
    id: int
    first_name: str
    last_name: str

    @property
    def initials(self) -> str:
        return f"{self.first_name[:1]}{self.last_name[:1]}".upper()


def left_out(plan: models.DayPlan) -> list[dict[str, Any]]:
    """The visits the plan could not place, with their clients' names and the reasons.

    Only the names are read (a busy day can leave out dozens of visits; whole client rows
    would cost more than the rest of the page).
    """
    entries = list(plan.unplaced or [])
    ids = {e.get("client_id") for e in entries if isinstance(e.get("client_id"), int)}
    client = models.Client
    clients = {row.id: LeftOutClient(row.id, row.first_name, row.last_name) for row in db().execute(
        select(client.id, client.first_name, client.last_name).where(client.id.in_(ids)))
    } if ids else {}
    return [dict(entry, client=clients.get(entry.get("client_id"))) for entry in entries]


def day_context(therapist: models.Therapist, day: date) -> dict[str, Any]:
    settings = runtime().settings
    plan = plan_of_record(therapist.id, day)
    context: dict[str, Any] = {
        "therapist": therapist, "day": day, "plan": plan, "today": local_today(),
        "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1),
        "flags": FLAGS, "tile_url": settings.web.tile_url,
        "tile_attribution": settings.web.tile_attribution,
        "therapists": db().scalars(select(models.Therapist).where(
            models.Therapist.active.is_(True)).order_by(models.Therapist.name)).all()
        if is_admin(me()) else [],
        "off": _off_words(therapist, day),
    }
    if plan is None:
        return context
    route = build_route(plan, therapist, settings.zone)
    shown = left_out(plan)
    context.update(
        newer_draft=newer_draft(plan), route=route, timeline=timeline(route, plan), left_out=shown,
        geojson=route_geojson(route, day=day.isoformat(), therapist_id=therapist.id),
    )
    client_ids = [s.stop.client_id for s in route.stops]
    client_ids += [e["client"].id for e in shown if e["client"] is not None]
    audit.record_reads(audit_db(), actor(), "client", client_ids, context=f"day_plan {plan.id}")
    return context


def _off_words(therapist: models.Therapist, day: date) -> str | None:
    """"You're off: Vacation (Dec 24–Dec 26)" on one's own day, "Devon is off: ..." on someone
    else's, "The practice is closed: Thanksgiving"; None on a working day."""
    entry = time_off.entry_on(time_off.between(db(), day, day, therapist.id), therapist.id, day)
    if entry is None:
        return None
    if entry.therapist_id is None:
        return "The practice is closed" + (f": {entry.reason}" if entry.reason else "")
    if therapist.id != me().id:
        return time_off.describe(entry, therapist.name)
    reason = f": {entry.reason}" if entry.reason else ""
    return f"You're off{reason} ({time_off.span_words(entry)})"


@bp.route("/")
def home() -> Any:
    """Today, for the signed-in therapist."""
    return day(local_today().isoformat())


@bp.route("/day/<day>")
def day(day: str) -> Any:
    """One day's route, timeline and actions."""
    return _render_day(day, "pages/day.html")


@bp.route("/day/<day>/print")
def day_print(day: str) -> Any:
    """The day on one printed page."""
    return _render_day(day, "pages/day_print.html")


def _render_day(day: str, template: str) -> Any:
    therapist = chosen_therapist(request.args.get("therapist"))
    context = day_context(therapist, parse_day(day))
    end_transaction()  # the audit rows are written; rendering holds no lock
    return render_template(template, **context)


def _day_url(therapist: models.Therapist, day: date) -> str:
    extra = {} if therapist.id == me().id else {"therapist": therapist.id}
    return url_for("pages.day", day=day.isoformat(), **extra)


@bp.route("/day/<day>/plan", methods=["POST"])
def day_plan(day: str) -> Any:
    """Plan (or re-plan) the whole day: a new version, published if the day's plan was."""
    therapist = chosen_therapist(request.form.get("therapist"))
    when = parse_day(day)
    current = plan_of_record(therapist.id, when)
    publish = current is not None and current.status == models.PlanStatus.PUBLISHED
    plans = planning.plan_days(db(), runtime().settings, when, [therapist.id],
                               publish=publish, now=utcnow())
    audit.record(audit_db(), actor(), "plan", "day_plan", plans[0].id if plans else None)
    flash("The day is planned." if plans else "No working hours on this day: nothing to plan.",
          "success" if plans else "info")
    return redirect(_day_url(therapist, when))


@bp.route("/day/<day>/late", methods=["POST"])
def day_late(day: str) -> Any:
    """Running late: keep what is done, re-plan the rest from now (and from here, if given)."""
    therapist = chosen_therapist(request.form.get("therapist"))
    when = parse_day(day)
    position = _position(request.form)
    plan = planning.replan_from(db(), runtime().settings, therapist.id, when, utcnow(), position)
    audit.record(audit_db(), actor(), "replan", "day_plan", plan.id)
    flash("Re-planned from now.", "success")
    return redirect(_day_url(therapist, when))


@bp.route("/plans/<id:plan_id>/publish", methods=["POST"])
def plan_publish(plan_id: int) -> Any:
    """Publish a draft: it becomes the day's plan of record (e-mail, calendar feed)."""
    plan = plan_or_404(db(), me(), plan_id)
    planning.publish_plan(db(), plan, utcnow())
    audit.record(audit_db(), actor(), "publish", "day_plan", plan.id)
    flash("The plan is published.", "success")
    return redirect(_day_url(plan.therapist, plan.day))


@bp.route("/stops/<id:stop_id>/state", methods=["POST"])
def stop_state(stop_id: int) -> Any:
    """Mark a visit done or skipped (or back to planned)."""
    stop = stop_or_404(db(), me(), stop_id)
    try:
        state = models.StopState(request.form.get("state", ""))
    except ValueError:
        abort(400, "state must be planned, done or skipped")
    planning.set_stop_state(db(), stop, state)
    audit.record(audit_db(), actor(), "update", "plan_stop", stop.id, ("state",))
    return redirect(_day_url(stop.plan.therapist, stop.plan.day) + f"#stop-{stop.id}")


def _position(form: Any) -> tuple[float, float] | None:
    """Where the therapist is, when the browser shared it (the page asks, never requires)."""
    try:
        lat, lon = float(form.get("lat", "")), float(form.get("lon", ""))
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return (lat, lon)
    return None

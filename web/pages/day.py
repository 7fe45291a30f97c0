"""The day: the therapist's route on a map, the timeline, and the buttons that change the day.

The page shows the day's plan of record (:mod:`scheduler.plans.record`) as one view
(:mod:`scheduler.plans.view`, with names: the page is behind the login), the map drawn from
its GeoJSON. Re-planning follows the domain's rule: a published day publishes its new version.
Every client shown is audited as read.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from scheduler import audit, clock, models, planning
from scheduler.calendar import time_off
from scheduler.planning import marks
from scheduler.plans import record
from scheduler.plans.view import Detail, next_stop
from scheduler.present.geojson import map_legend, route_geojson
from scheduler.present.navigation import home_handoff, stop_handoff
from scheduler.records import lists
from scheduler.records.fields import parse_practice_date
from scheduler.records.precautions import FLAGS
from scheduler.records.validation import ValidationError
from web import offline
from web.access import is_admin, plan_or_404, stop_or_404, therapist_or_404
from web.database import audit_db, db, end_transaction, runtime
from web.errors import wants_json
from web.pages import actor, me, signed_in
from web.params import page_id

bp = Blueprint("day", __name__)
signed_in(bp)


def local_today() -> date:
    return clock.utcnow().astimezone(runtime().settings.zone).date()


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
    return therapist_or_404(db(), viewer, page_id(str(raw)))  # a refusal is recorded


def day_context(therapist: models.Therapist, day: date) -> dict[str, Any]:
    settings = runtime().settings
    plan = record.plan_of_record(db(), therapist.id, day)
    context: dict[str, Any] = {
        "therapist": therapist, "day": day, "plan": plan, "view": None,
        "today": local_today(), "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1), "flags": FLAGS,
        "tile_url": settings.web.tile_url, "tile_attribution": settings.web.tile_attribution,
        "therapists": lists.therapists(db(), active_only=True) if is_admin(me()) else [],
        "off": _off_words(therapist, day),
        "stop_handoff": stop_handoff, "home_handoff": home_handoff,
        "works": any(shift.weekday == day.weekday() for shift in therapist.shifts),
    }
    if plan is None:
        return context
    (view,) = record.checked_views(db(), [plan], settings, detail=Detail.NAMES)
    context.update(view=view, newer_draft=record.newer_draft(db(), plan),
                   geojson=route_geojson(view), map_legend=map_legend(),
                   next_stop=next_stop(view.stops),
                   offline_day=_offline_day(view, day, context["today"], settings.zone.key))
    client_ids = [stop.client_id for stop in view.stops]
    client_ids += [item.client_id for item in view.left_out
                   if item.client_id is not None and item.initials is not None]
    audit.record_reads(audit_db(), actor(), "client", client_ids, context=f"day_plan {plan.id}")
    return context


def _offline_day(view: Any, day: date, today: date, zone: str) -> dict[str, Any]:
    """What the page's script needs to keep a mark made without signal (web/static/offline.js):
    each stop's number, planned start and state; the day, today and tomorrow (the days kept on
    the phone), and the practice's zone."""
    return {"day": day.isoformat(), "today": today.isoformat(),
            "tomorrow": (today + timedelta(days=1)).isoformat(), "zone": zone,
            "stops": {str(stop.id): {"number": stop.number, "start": stop.start.isoformat(),
                                     "state": stop.state.value} for stop in view.stops}}


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
    """Today, for the signed-in therapist; or the next planned day of the coming week when
    today has no plan (:func:`scheduler.plans.record.day_to_open`), its address saying which."""
    today = local_today()
    shown = record.day_to_open(db(), me().id, today)
    if shown != today:
        return redirect(url_for("day.day", day=shown.isoformat()))
    return day(today.isoformat())


@bp.route("/day/<day>")
def day(day: str) -> Any:
    """One day's route, timeline and actions. One's own today and tomorrow, at their plain
    address, may be kept on the phone for use without signal (:mod:`web.offline`)."""
    response = make_response(_render_day(day, "pages/day.html"))
    if not request.args:  # one's own day: another's is asked for with ?therapist=
        offline.keep_offline(response, parse_day(day), local_today())
    return response


@bp.route("/day/<day>/print")
def day_print(day: str) -> Any:
    """The day on one printed page."""
    return _render_day(day, "pages/day_print.html")


def _render_day(day: str, template: str) -> Any:
    therapist = chosen_therapist(request.args.get("therapist"))
    context = day_context(therapist, parse_day(day))
    end_transaction()  # the audit rows are written; rendering holds no lock
    return render_template(template, **context)


def day_url(therapist: models.Therapist, day: date) -> str:
    extra = {} if therapist.id == me().id else {"therapist": therapist.id}
    return url_for("day.day", day=day.isoformat(), **extra)  # type: ignore[arg-type]


@bp.route("/day/<day>/plan", methods=["POST"])
def day_plan(day: str) -> Any:
    """Plan (or re-plan) the day: a new version, published if the day's plan was. On today
    what is done or skipped stays, and the rest is planned from now."""
    therapist = chosen_therapist(request.form.get("therapist"))
    when = parse_day(day)
    plans = planning.plan_days(db(), runtime().settings, when, [therapist.id],
                               now=clock.utcnow(), from_now=True)
    audit.record(audit_db(), actor(), "plan", "day_plan", plans[0].id if plans else None)
    if not plans:
        flash("No working hours on this day: nothing to plan.", "info")
    elif all(plan.kept_unchanged for plan in plans):
        flash("Planned again: nothing changed, the plan already follows the records.", "success")
    else:
        flash("The day is planned.", "success")
    return redirect(day_url(therapist, when))


@bp.route("/day/<day>/late", methods=["POST"])
def day_late(day: str) -> Any:
    """Running late: keep what is done, re-plan the rest from now (and from here, if given)."""
    therapist = chosen_therapist(request.form.get("therapist"))
    when = parse_day(day)
    position = _position(request.form)
    plan = planning.replan_from(db(), runtime().settings, therapist.id, when, clock.utcnow(),
                                position)
    audit.record(audit_db(), actor(), "replan", "day_plan", plan.id)
    flash("Re-planned from now.", "success")
    return redirect(day_url(therapist, when))


@bp.route("/plans/<id:plan_id>/publish", methods=["POST"])
def plan_publish(plan_id: int) -> Any:
    """Publish a draft: it becomes the day's plan of record (e-mail, calendar feed)."""
    plan = plan_or_404(db(), me(), plan_id)
    planning.publish_plan(db(), plan, clock.utcnow())
    audit.record(audit_db(), actor(), "publish", "day_plan", plan.id)
    flash("The plan is published.", "success")
    return redirect(day_url(plan.therapist, plan.day))


@bp.route("/stops/<id:stop_id>/state", methods=["POST"])
def stop_state(stop_id: int) -> Any:
    """Mark a visit arrived, done or skipped (or back to planned), at the time pressed. Done
    before the visit's planned start asks first (a mark on the wrong visit would hide it from
    the re-plans of the day), unless the therapist pressed Arrived on it: they are there.

    A phone without signal sends its marks later (web/static/offline-marks.js): with
    ``made_ago`` (seconds since the button was pressed), ``seen_state`` (the visit's state
    on that page) and ``Accept: application/json``; it asked the question on the phone. The
    domain saves a mark where it still fits the day (:mod:`scheduler.planning.marks`), or
    says why not: 409, and the phone shows the words until the therapist has read them.
    Such a mark names who made it (``by``): under another sign-in it waits for its own.
    """
    if request.form.get("by", str(me().id)) != str(me().id):
        return jsonify(saved=False, sign_in=True,
                       reason="made under another sign-in: it waits for that one"), 403
    stop = stop_or_404(db(), me(), stop_id)
    state = _state(request.form.get("state", ""), STATES_PROBLEM)
    seen = request.form.get("seen_state")
    now = clock.utcnow()
    try:
        queued = "made_ago" in request.form
        made_at = marks.made_at(now, request.form["made_ago"]) if queued else now
    except ValidationError as error:
        return _mark_not_saved(stop, _problems(error), 422)
    if state == models.StopState.DONE and made_at < stop.start_at \
            and stop.state != models.StopState.ARRIVED and request.form.get("confirmed") != "1":
        zone = runtime().settings.zone
        return render_template("pages/confirm_done.html", stop=stop,
                               start=stop.start_at.astimezone(zone),
                               back=day_url(stop.plan.therapist, stop.plan.day))
    mark = marks.Mark(state, made_at, _state(seen, "seen_" + STATES_PROBLEM) if seen else None,
                      queued)
    try:
        saved = marks.mark_stop(db(), runtime().settings, stop, mark, now)
    except marks.MarkRefused as refused:
        return _mark_not_saved(stop, refused.reason, 409)
    except ValidationError as error:
        return _mark_not_saved(stop, _problems(error), 422)
    audit.record(audit_db(), actor(), "update", "plan_stop", saved.id, ("state",))
    if wants_json():
        return jsonify(saved=True, stop_id=saved.id, state=saved.state.value)
    return redirect(day_url(saved.plan.therapist, saved.plan.day) + f"#stop-{saved.id}")


STATES_PROBLEM = "state must be planned, arrived, done or skipped"


def _state(raw: str, problem: str) -> models.StopState:
    try:
        return models.StopState(raw)
    except ValueError:
        abort(400, problem)


def _problems(error: ValidationError) -> str:
    return "; ".join(problem.message for problem in error.problems)


def _mark_not_saved(stop: models.PlanStop, reason: str, status: int) -> Any:
    """Nothing saved, and why: JSON for the phone's queue (which words it for the mark it
    holds), else the day with the reason."""
    db().rollback()
    if wants_json():
        return jsonify(saved=False, reason=reason), status
    flash(f"The mark was not saved: {reason}.", "error")
    return redirect(day_url(stop.plan.therapist, stop.plan.day))


def _position(form: Any) -> tuple[float, float] | None:
    """Where the therapist is, when the browser shared it (the page asks, never requires)."""
    try:
        lat, lon = float(form.get("lat", "")), float(form.get("lon", ""))
    except ValueError:
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return (lat, lon)
    return None

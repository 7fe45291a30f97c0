"""Feeds for programs: a therapist's iCalendar feed and the GeoJSON of a day's route.

The calendar feed lives at a secret address (``Therapist.calendar_token``) because calendar
apps cannot sign in; making a new address or turning the feed off (on the account page) stops
the old one at once. It carries the minimum: initials, room and precaution flags, never names.
It covers the published plans from two weeks back to eight weeks ahead.

The GeoJSON needs a signed-in session like the pages (the day page embeds the same data).
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from scheduler import audit, models
from scheduler.clock import utcnow
from scheduler.itinerary import plan_events_ics
from web.database import audit_db, db, runtime
from web.routes import build_route, route_geojson

bp = Blueprint("feeds", __name__)

FEED_PAST = timedelta(days=14)
FEED_FUTURE = timedelta(weeks=8)


@bp.route("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """A therapist's published visits as iCalendar, at the feed's secret address."""
    therapist = _therapist_by_token(token)
    settings = runtime().settings
    today = utcnow().astimezone(settings.zone).date()
    plans = db().scalars(
        select(models.DayPlan)
        .where(models.DayPlan.therapist_id == therapist.id,
               models.DayPlan.status == models.PlanStatus.PUBLISHED,
               models.DayPlan.day.between(today - FEED_PAST, today + FEED_FUTURE))
        .order_by(models.DayPlan.day, models.DayPlan.version)
        .options(selectinload(models.DayPlan.stops).options(
            joinedload(models.PlanStop.client), joinedload(models.PlanStop.facility)))
    ).all()
    newest = {plan.day: plan for plan in plans}  # one published version per day, the latest
    body = plan_events_ics(newest.values(), settings, detail="minimal",
                           name=f"{settings.practice.name}: {therapist.name}")
    client_ids = [stop.client_id for plan in newest.values() for stop in plan.stops]
    audit.record_reads(audit_db(), audit.Actor(therapist.id, "calendar-feed"), "client", client_ids,
                       context="calendar feed")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="rounds.ics"'
    return response


def _therapist_by_token(token: str) -> models.Therapist:
    if len(token) < 20 or len(token) > 100:
        abort(404)
    therapist = db().scalar(select(models.Therapist).where(
        models.Therapist.calendar_token == token))
    # The lookup found it by equality; compare again in constant time for good measure.
    if therapist is None or not therapist.active or not hmac.compare_digest(
            therapist.calendar_token or "", token):
        abort(404)
    return therapist


@bp.route("/day/<day>.geojson")
@login_required
def day_geojson(day: str) -> Any:
    """The route of one day (its plan of record) as a GeoJSON FeatureCollection."""
    from web.pages.day import chosen_therapist, parse_day, plan_of_record

    when = parse_day(day)
    therapist = chosen_therapist(request.args.get("therapist"))
    plan = plan_of_record(therapist.id, when)
    if plan is None:
        abort(404)
    route = build_route(plan, therapist, runtime().settings.zone)
    audit.record_reads(audit_db(), current_user.actor, "client", [s.client_id for s in plan.stops],
                       context=f"day_plan {plan.id} geojson")
    response = jsonify(route_geojson(route, day=when.isoformat(), therapist_id=therapist.id))
    response.mimetype = "application/geo+json"
    return response

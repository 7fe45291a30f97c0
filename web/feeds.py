"""Feeds for programs: a therapist's iCalendar feed and the GeoJSON of a day's route.

The calendar feed lives at a secret address (``Therapist.calendar_token``) because calendar
apps cannot sign in; making a new address or turning the feed off (on the account page) stops
the old one at once. It carries the minimum: initials, room and precaution flags, never names.
It covers the published plans from two weeks back to eight weeks ahead, each checked against
the records as they are now like the day page (a stop they now forbid says DO NOT VISIT in
its title and why in its description).

The GeoJSON needs a signed-in session like the pages (the day page embeds the same data, with
the same check).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from flask_login import current_user, login_required

from scheduler import audit, clock, models
from scheduler.accounts.tokens import therapist_by_feed_token
from scheduler.plans import record
from scheduler.plans.view import Detail
from scheduler.present.calendar_file import views_ics
from scheduler.present.geojson import route_geojson
from scheduler.served_address import recorded_url, with_links_at
from web import refusals
from web.database import audit_db, db, runtime
from web.pages.day import chosen_therapist, parse_day

bp = Blueprint("feeds", __name__)

FEED_PAST = timedelta(days=14)
FEED_FUTURE = timedelta(weeks=8)


@bp.route("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """A therapist's published visits as iCalendar, at the feed's secret address."""
    therapist = _therapist_by_token(token)
    # unless base_url is set, the events link to where `rounds serve` listens, else (under
    # gunicorn) to the address this feed was asked at
    settings = with_links_at(runtime().settings, recorded_url(db()) or request.url_root)
    today = clock.utcnow().astimezone(settings.zone).date()
    plans = record.published_plans(db(), therapist.id, today - FEED_PAST, today + FEED_FUTURE)
    views = record.checked_views(db(), plans, settings, detail=Detail.MINIMAL)
    body = views_ics(views, settings, name=f"{settings.practice.name}: {therapist.name}")
    client_ids = [stop.client_id for view in views for stop in view.stops]
    audit.record_reads(audit_db(), audit.Actor(therapist.id, "calendar-feed"), "client", client_ids,
                       context="calendar feed")
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="rounds.ics"'
    return response


def _therapist_by_token(token: str) -> models.Therapist:
    therapist = therapist_by_feed_token(db(), token)
    if therapist is None:
        refusals.note("calendar_feed", None, audit.BAD_TOKEN)  # never the token itself
        abort(404)
    return therapist


@bp.route("/day/<day>.geojson")
@login_required
def day_geojson(day: str) -> Any:
    """The route of one day (its plan of record) as a GeoJSON FeatureCollection."""
    when = parse_day(day)
    therapist = chosen_therapist(request.args.get("therapist"))
    plan = record.plan_of_record(db(), therapist.id, when)
    if plan is None:
        abort(404)
    [view] = record.checked_views(db(), [plan], runtime().settings, detail=Detail.MINIMAL)
    audit.record_reads(audit_db(), current_user.actor, "client", [s.client_id for s in view.stops],
                       context=f"day_plan {plan.id} geojson")
    response = jsonify(route_geojson(view))
    response.mimetype = "application/geo+json"
    return response

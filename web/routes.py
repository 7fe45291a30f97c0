"""A day plan as a route: the stops in order with their times, the legs between them, the
GeoJSON the map draws, and navigation links for each leg.

Pure functions of a plan (no request, no database): the day page, the print view and the
GeoJSON feed all show the same route. Links and GeoJSON carry coordinates, never names: a
private home's address is a patient's address, and URLs end up in logs and histories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from scheduler import models


@dataclass(frozen=True)
class Leg:
    """The drive to a stop: from where, leaving when, how long; with navigation links."""

    origin: tuple[float, float]  # (lat, lon)
    destination: tuple[float, float]
    leave_by: datetime  # local
    drive_minutes: int
    drive_km: float

    @property
    def google_url(self) -> str:
        return "https://www.google.com/maps/dir/?" + urlencode({
            "api": "1", "origin": _pair(self.origin), "destination": _pair(self.destination),
            "travelmode": "driving"})

    @property
    def apple_url(self) -> str:
        return "https://maps.apple.com/?" + urlencode({
            "saddr": _pair(self.origin), "daddr": _pair(self.destination), "dirflg": "d"})


@dataclass(frozen=True)
class RouteStop:
    number: int
    stop: models.PlanStop
    leg: Leg | None  # None when either end has no coordinates
    arrive: datetime  # local
    start: datetime
    end: datetime

    @property
    def location(self) -> tuple[float, float] | None:
        facility = self.stop.facility
        if facility.lat is None or facility.lon is None:
            return None
        return (facility.lat, facility.lon)


@dataclass(frozen=True)
class Route:
    home: tuple[float, float]
    stops: tuple[RouteStop, ...]
    home_leg: Leg | None  # the drive back home after the last stop
    leave_home: datetime | None
    back_home: datetime | None


def build_route(plan: models.DayPlan, therapist: models.Therapist, zone: ZoneInfo) -> Route:
    home = (therapist.home_lat, therapist.home_lon)
    stops: list[RouteStop] = []
    here: tuple[float, float] | None = home
    ordered = sorted(plan.stops, key=lambda s: s.position)
    for number, stop in enumerate(ordered, start=1):
        facility = stop.facility
        there = (facility.lat, facility.lon) if facility.lat is not None else None
        arrive = stop.arrive_at.astimezone(zone)
        leg = None
        if here is not None and there is not None:
            leave_by = arrive - timedelta(minutes=stop.drive_minutes)
            leg = Leg(here, there, leave_by, round(stop.drive_minutes), stop.drive_km)
        stops.append(RouteStop(number, stop, leg, arrive, stop.start_at.astimezone(zone),
                               stop.end_at.astimezone(zone)))
        here = there
    home_leg = None
    back_home = plan.back_home_at.astimezone(zone) if plan.back_home_at else None
    if stops and here is not None:
        last_end = stops[-1].end
        drive = (back_home - last_end) if back_home else timedelta(0)
        home_leg = Leg(here, home, last_end, round(drive.total_seconds() / 60),
                       max(0.0, plan.total_drive_km - sum(s.stop.drive_km for s in stops)))
    leave_home = plan.leave_home_at.astimezone(zone) if plan.leave_home_at else (
        stops[0].leg.leave_by if stops and stops[0].leg else None)
    return Route(home, tuple(stops), home_leg, leave_home, back_home)


def route_geojson(route: Route, *, day: str, therapist_id: int) -> dict[str, Any]:
    """A FeatureCollection: the home base, each stop (numbered), and the route line.

    Coordinates are [lon, lat] as GeoJSON (RFC 7946) wants. Properties hold times, the
    client's initials and room and the precaution flag codes: what the map's pop-ups show.
    """
    features: list[dict[str, Any]] = [_point(route.home, {"kind": "home", "label": "Home base"})]
    line = [_lon_lat(route.home)]
    for item in route.stops:
        location = item.location
        if location is None:
            continue
        client = item.stop.client
        features.append(_point(location, {
            "kind": "stop", "number": item.number, "stop_id": item.stop.id,
            "initials": client.initials, "room": client.room,
            "flags": list(client.precaution_flags or []),
            "place": item.stop.facility.name,
            "arrive": item.arrive.isoformat(), "start": item.start.isoformat(),
            "end": item.end.isoformat(), "state": item.stop.state.value,
        }))
        line.append(_lon_lat(location))
    if route.stops:
        line.append(_lon_lat(route.home))
    if len(line) >= 2:
        features.append({"type": "Feature", "properties": {"kind": "route"},
                         "geometry": {"type": "LineString", "coordinates": line}})
    return {"type": "FeatureCollection",
            "properties": {"day": day, "therapist_id": therapist_id},
            "features": features}


def _point(location: tuple[float, float], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Point", "coordinates": _lon_lat(location)}}


def _lon_lat(location: tuple[float, float]) -> list[float]:
    return [round(location[1], 6), round(location[0], 6)]


def _pair(location: tuple[float, float]) -> str:
    return f"{location[0]:.6f},{location[1]:.6f}"

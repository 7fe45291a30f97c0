"""A day plan's route as GeoJSON (RFC 7946), what the day page's map draws.

A FeatureCollection: the home base, each stop (numbered), and the route line. Coordinates
are [lon, lat] as GeoJSON wants. Properties hold times, the client's initials and room and
the precaution flag codes: what the map's pop-ups show, never names.
"""

from __future__ import annotations

from typing import Any

from scheduler.plans.view import DayPlanView, Point


def route_geojson(view: DayPlanView) -> dict[str, Any]:
    features: list[dict[str, Any]] = [_point(view.home, {"kind": "home", "label": "Home base"})]
    line = [_lon_lat(view.home)]
    for stop in view.stops:
        location = stop.place.location
        if location is None:
            continue
        features.append(_point(location, {
            "kind": "stop", "number": stop.number, "stop_id": stop.id,
            "initials": stop.initials, "room": stop.room, "flags": list(stop.flag_codes),
            "place": stop.place.name, "arrive": stop.arrive.isoformat(),
            "start": stop.start.isoformat(), "end": stop.end.isoformat(),
            "state": stop.state.value, "infection": stop.infection,
            "do_not_visit": bool(stop.do_not_visit),
        }))
        line.append(_lon_lat(location))
    if view.stops:
        line.append(_lon_lat(view.home))
    if len(line) >= 2:
        features.append({"type": "Feature", "properties": {"kind": "route"},
                         "geometry": {"type": "LineString", "coordinates": line}})
    return {"type": "FeatureCollection",
            "properties": {"day": view.day.isoformat(), "therapist_id": view.therapist_id},
            "features": features}


def _point(location: Point, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Point", "coordinates": _lon_lat(location)}}


def _lon_lat(location: Point) -> list[float]:
    return [round(location[1], 6), round(location[0], 6)]

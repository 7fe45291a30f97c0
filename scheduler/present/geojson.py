"""A day plan's route as GeoJSON (RFC 7946), what the day page's map draws.

A FeatureCollection: the home base, each stop (numbered), one marker per building, and the
route line. Coordinates are [lon, lat] as GeoJSON wants. Properties hold times, the client's
initials and room and the precaution flag codes: what the map's pop-ups show, never names.

Stops in one building (the same facility) share one ``building`` feature that lists each of
its stops with its own state ("1 ✓ · 3 ○"), so a marker never takes the colour of its first
stop. Which stops share a building is decided here; spreading markers of different buildings
that would overlap at the current zoom is the map's job (``web/static/day-map.js``), since it
depends on the zoom.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scheduler.models import StopState
from scheduler.plans.view import DayPlanView, Point, StopView

# A sign per state, so a stop's state reads without its colour ("1 ✓ · 3 ○").
STATE_SIGNS = {StopState.PLANNED: "○", StopState.ARRIVED: "◐", StopState.DONE: "✓",
               StopState.SKIPPED: "✗"}
MAP_WORDS = {StopState.PLANNED: "to do", StopState.ARRIVED: "arrived (in progress)",
               StopState.DONE: "done", StopState.SKIPPED: "skipped"}


def map_legend() -> list[tuple[str, str, str]]:
    """(state, sign, words) for each state, in the order of a visit: the key under the map,
    whose colours (web/static/app.css, ``.state-<state>``) match the markers'."""
    return [(state.value, STATE_SIGNS[state], MAP_WORDS[state]) for state in
            (StopState.PLANNED, StopState.ARRIVED, StopState.DONE, StopState.SKIPPED)]


def route_geojson(view: DayPlanView) -> dict[str, Any]:
    features: list[dict[str, Any]] = [_point(view.home, {"kind": "home", "label": "Home base"})]
    line = [_lon_lat(view.home)]
    buildings = buildings_of(view.stops)
    building_of = {stop.id: index for index, group in enumerate(buildings) for stop in group}
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
            "do_not_visit": bool(stop.do_not_visit), "building": building_of[stop.id],
        }))
        line.append(_lon_lat(location))
    features.extend(_building(index, group) for index, group in enumerate(buildings))
    if view.stops:
        line.append(_lon_lat(view.home))
    if len(line) >= 2:
        features.append({"type": "Feature", "properties": {"kind": "route"},
                         "geometry": {"type": "LineString", "coordinates": line}})
    return {"type": "FeatureCollection",
            "properties": {"day": view.day.isoformat(), "therapist_id": view.therapist_id},
            "features": features}


def buildings_of(stops: Iterable[StopView]) -> list[list[StopView]]:
    """The stops with coordinates grouped by building (facility), in the order of each
    building's first stop; within a building in the order of the day."""
    groups: dict[int, list[StopView]] = {}
    for stop in stops:
        if stop.place.location is not None:
            groups.setdefault(stop.place.id, []).append(stop)
    return list(groups.values())


def marker_label(stops: Iterable[StopView]) -> str:
    """The text of a building's marker: each stop's number and the sign of its state."""
    return " · ".join(f"{stop.number} {STATE_SIGNS[stop.state]}" for stop in stops)


def _building(index: int, stops: list[StopView]) -> dict[str, Any]:
    location = stops[0].place.location
    assert location is not None  # buildings_of keeps only stops with coordinates
    title = ", ".join(f"stop {stop.number} {MAP_WORDS[stop.state]}" for stop in stops)
    return _point(location, {
        "kind": "building", "building": index, "place": stops[0].place.name,
        "label": marker_label(stops), "title": f"{stops[0].place.name}: {title}",
        "stops": [{"number": stop.number, "stop_id": stop.id, "state": stop.state.value,
                   "sign": STATE_SIGNS[stop.state]} for stop in stops],
    })


def _point(location: Point, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Point", "coordinates": _lon_lat(location)}}


def _lon_lat(location: Point) -> list[float]:
    return [round(location[1], 6), round(location[0], 6)]

"""A day plan for ``rounds plan``: the readable itinerary and its JSON.

Both show local clock times of the practice's zone and identify clients by initials and id
only, never by name (the command's output ends up in terminals, logs and e-mails): render
views built with :attr:`~scheduler.plans.view.Detail.FULL` at most.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scheduler.models import StopState
from scheduler.plans.view import DayPlanView, StopView
from scheduler.present.words import DO_NOT_VISIT


def _clock(moment: datetime | None) -> str:
    return moment.strftime("%H:%M") if moment is not None else "--:--"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _duration(minutes: float) -> str:
    """Whole minutes, rounded up as the plan's times are (a 28.4-minute drive is planned as 29)."""
    whole = math.ceil(round(minutes, 3))
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


# ---------------------------------------------------------------------------------------------
# Text


def itinerary_text(view: DayPlanView) -> str:
    """The plan as a readable itinerary."""
    lines = [f"{view.therapist_name} (therapist {view.therapist_id}) · {view.day:%a %d %b %Y} · "
             f"version {view.version}, {view.status.value}"
             + (f", re-planned from {_clock(view.replanned_at)}" if view.replanned_at else "")]
    if not view.stops:
        lines.append("  No visits planned.")
    else:
        if view.leave_home is not None:
            lines.append(f"  {_clock(view.leave_home)}  leave home")
        lines.extend(_stop_lines(view))
        if view.back_home is not None:
            lines.append(f"  {_clock(view.back_home)}  back home")
        count = len(view.stops)
        lines.append(f"  {count} visit{'s' * (count != 1)}, driving "
                     f"{_duration(view.drive_minutes)}, {view.drive_km:.1f} km")
        if view.order_rule and any(stop.infection for stop in view.stops):
            lines.append(f"  {view.order_rule}")
    if view.left_out:
        lines.append(f"  Not planned ({len(view.left_out)}):")
        for item in view.left_out:
            entry = item.entry
            minutes = entry.duration_minutes if entry.duration_minutes is not None else "?"
            lines.append(f"    - {item.initials or 'client'} (client {entry.client_id}, series "
                         f"{entry.series_id}, {minutes} min): {entry.reason}")
    lines.append("  " + solver_line(view.solver))
    return "\n".join(lines)


def _stop_lines(view: DayPlanView) -> list[str]:
    """The stops in order, the break where it falls: before the stop it precedes, or between
    the arrival and the visit when it is taken on arriving."""
    lines = []
    for stop in view.stops:
        block = _stop_block(stop)
        if view.break_ is not None and stop.number - 1 == view.break_index:
            if view.break_.start <= stop.arrive:
                lines.append(_break_line(view))
            else:
                block.insert(1, "       " + _break_line(view))
        lines.extend(block)
    if view.break_ is not None and view.break_index == len(view.stops):
        lines.append(_break_line(view))
    return lines


def _break_line(view: DayPlanView) -> str:
    assert view.break_ is not None
    return f"  {_clock(view.break_.start)}  break until {_clock(view.break_.end)}"


def _stop_block(stop: StopView) -> list[str]:
    leg = []
    if stop.drive_minutes or stop.drive_km:
        leg.append(f"drive {_duration(stop.drive_minutes)}, {stop.drive_km:.1f} km")
    else:
        leg.append("same building")
    if stop.overhead_minutes:
        leg.append(f"check-in {stop.overhead_minutes} min")
    room = f", {stop.room}" if stop.room else ""
    state = "" if stop.state == StopState.PLANNED else f" [{stop.state_words}]"
    pin = " (pinned)" if stop.pinned else ""
    lines = [
        f"  {_clock(stop.arrive)}  {stop.number}. {stop.place.name} · {' · '.join(leg)}",
        f"         {_clock(stop.start)}–{_clock(stop.end)} "
        f"{stop.initials} (client {stop.client_id}){room}{pin}{state}",
    ]
    if stop.do_not_visit:
        lines.append(f"         {DO_NOT_VISIT}: {stop.do_not_visit}")
    if stop.infection_words:
        lines.append(f"         {stop.infection_words}")
    if stop.window_note:
        lines.append(f"         {stop.window_note}")
    return lines


def solver_line(solver: Mapping[str, Any]) -> str:
    """How the plan was found, in one line."""
    if not solver or solver.get("note") == "nothing to solve":
        return "Solver: nothing to solve."
    visits, therapists = solver.get("visits", 0), solver.get("therapists", 0)
    parts = [f"Solver: {solver.get('seconds', 0):.2f} s for {visits} visit{'s' * (visits != 1)} "
             f"and {therapists} therapist{'s' * (therapists != 1)}"]
    if solver.get("proved_optimal"):
        parts.append("proved optimal")
    elif solver.get("routes_proved_optimal"):
        parts.append("each route proved optimal for the visits it was given")
    else:
        parts.append("not proved optimal")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------------
# Data


def plan_as_data(view: DayPlanView) -> dict[str, Any]:
    """The plan as JSON-ready data: local ISO times, client initials and ids, no names."""
    return {
        "id": view.plan_id,
        "therapist_id": view.therapist_id,
        "date": view.day.isoformat(),
        "timezone": view.zone.key,
        "version": view.version,
        "status": view.status.value,
        "created_at": _iso(view.created_at),
        "published_at": _iso(view.published_at),
        "replanned_at": _iso(view.replanned_at),
        "leave_home_at": _iso(view.leave_home),
        "back_home_at": _iso(view.back_home),
        "break": ({"start": _iso(view.break_.start), "end": _iso(view.break_.end)}
                  if view.break_ is not None else None),
        "total_drive_minutes": view.drive_minutes,
        "total_drive_km": view.drive_km,
        "stops": [_stop_data(stop) for stop in view.stops],
        "unplaced": [dict(item.entry.to_json(), client_initials=item.initials)
                     for item in view.left_out],
        "solver": dict(view.solver),
    }


def _stop_data(stop: StopView) -> dict[str, Any]:
    return {
        "position": stop.position,
        "series_id": stop.series_id,
        "occurrence_date": stop.occurrence_date.isoformat(),
        "client_id": stop.client_id,
        "client_initials": stop.initials,
        "facility_id": stop.place.id,
        "facility": stop.place.name,
        "room": stop.room,
        "arrive_at": _iso(stop.arrive),
        "start_at": _iso(stop.start),
        "end_at": _iso(stop.end),
        "drive_minutes": stop.drive_minutes,
        "drive_km": stop.drive_km,
        "overhead_minutes": stop.overhead_minutes,
        "state": stop.state.value,
        "arrived_at": _iso(stop.arrived_at),
        "pinned": stop.pinned,
        "window_note": stop.window_note,
        "infection_class": stop.infection,
        "do_not_visit": stop.do_not_visit,  # why the records as they are now forbid it, or None
    }

"""A day plan for people and programs: the readable itinerary of ``rounds plan`` and its JSON.

Both show local clock times of the practice's zone and identify clients by initials and id
only, never by name (the command's output ends up in terminals, logs and e-mails). The richer
renderings (web page, e-mail, iCalendar) live in :mod:`scheduler.itinerary` and ``web/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.models import DayPlan, PlanStop, StopState


def _clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment is not None else "--:--"


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _duration(minutes: float) -> str:
    """Whole minutes, rounded up as the plan's times are (a 28.4-minute drive is planned as 29)."""
    whole = math.ceil(round(minutes, 3))
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _ordered(plan: DayPlan) -> list[PlanStop]:
    return sorted(plan.stops, key=lambda stop: stop.position)


# ---------------------------------------------------------------------------------------------
# Text


def itinerary_text(plan: DayPlan, zone: ZoneInfo,
                   initials: Mapping[int, str] | None = None) -> str:
    """The plan as a readable itinerary; ``initials`` names the clients of unplaced visits."""
    therapist = plan.therapist
    lines = [f"{therapist.name} (therapist {therapist.id}) · {plan.day:%a %d %b %Y} · "
             f"version {plan.version}, {plan.status.value}"
             + (f", re-planned from {_clock(plan.replanned_at, zone)}"
                if plan.replanned_at else "")]
    stops = _ordered(plan)
    if not stops:
        lines.append("  No visits planned.")
    else:
        if plan.leave_home_at is not None:
            lines.append(f"  {_clock(plan.leave_home_at, zone)}  leave home")
        lines.extend(_stop_lines(plan, stops, zone))
        if plan.back_home_at is not None:
            lines.append(f"  {_clock(plan.back_home_at, zone)}  back home")
        lines.append(f"  {len(stops)} visit{'s' * (len(stops) != 1)}, driving "
                     f"{_duration(plan.total_drive_minutes)}, {plan.total_drive_km:.1f} km")
    if plan.unplaced:
        lines.append(f"  Not planned ({len(plan.unplaced)}):")
        for entry in plan.unplaced:
            who = (initials or {}).get(entry["client_id"], "client")
            lines.append(f"    - {who} (client {entry['client_id']}, series "
                         f"{entry['series_id']}, {entry.get('duration_minutes', '?')} min): "
                         f"{entry['reason']}")
    lines.append("  " + solver_line(plan.solver or {}))
    return "\n".join(lines)


def _stop_lines(plan: DayPlan, stops: list[PlanStop], zone: ZoneInfo) -> list[str]:
    """The stops in order, the break where it falls: before a stop it precedes, or between
    the arrival and the visit when it is taken on arriving."""
    lines = []
    pending = plan.break_start_at is not None
    for number, stop in enumerate(stops, start=1):
        block = _stop_block(number, stop, zone)
        if pending and plan.break_start_at <= stop.arrive_at:
            lines.append(_break_line(plan, zone))
            pending = False
        elif pending and plan.break_start_at < stop.start_at:
            block.insert(1, "       " + _break_line(plan, zone))
            pending = False
        lines.extend(block)
    if pending:
        lines.append(_break_line(plan, zone))
    return lines


def _break_line(plan: DayPlan, zone: ZoneInfo) -> str:
    return f"  {_clock(plan.break_start_at, zone)}  break until {_clock(plan.break_end_at, zone)}"


def _stop_block(number: int, stop: PlanStop, zone: ZoneInfo) -> list[str]:
    facility = stop.facility
    leg = []
    if stop.drive_minutes or stop.drive_km:
        leg.append(f"drive {_duration(stop.drive_minutes)}, {stop.drive_km:.1f} km")
    else:
        leg.append("same building")
    if stop.overhead_minutes:
        leg.append(f"check-in {stop.overhead_minutes} min")
    client = stop.client
    room = f", {client.room}" if client.room else ""
    state = "" if stop.state == StopState.PLANNED else f" [{stop.state.value}]"
    pin = " (pinned)" if stop.pinned else ""
    lines = [
        f"  {_clock(stop.arrive_at, zone)}  {number}. {facility.name} · {' · '.join(leg)}",
        f"         {_clock(stop.start_at, zone)}–{_clock(stop.end_at, zone)} "
        f"{client.initials} (client {client.id}){room}{pin}{state}",
    ]
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


def plan_as_data(plan: DayPlan, zone: ZoneInfo,
                 initials: Mapping[int, str] | None = None) -> dict[str, Any]:
    """The plan as JSON-ready data: local ISO times, client initials and ids, no names."""
    return {
        "id": plan.id,
        "therapist_id": plan.therapist_id,
        "date": plan.day.isoformat(),
        "timezone": zone.key,
        "version": plan.version,
        "status": plan.status.value,
        "created_at": _iso(plan.created_at, zone),
        "published_at": _iso(plan.published_at, zone),
        "replanned_at": _iso(plan.replanned_at, zone),
        "leave_home_at": _iso(plan.leave_home_at, zone),
        "back_home_at": _iso(plan.back_home_at, zone),
        "break": ({"start": _iso(plan.break_start_at, zone), "end": _iso(plan.break_end_at, zone)}
                  if plan.break_start_at is not None else None),
        "total_drive_minutes": plan.total_drive_minutes,
        "total_drive_km": plan.total_drive_km,
        "stops": [_stop_data(stop, zone) for stop in _ordered(plan)],
        "unplaced": [dict(entry, client_initials=(initials or {}).get(entry["client_id"]))
                     for entry in plan.unplaced or []],
        "solver": dict(plan.solver or {}),
    }


def _stop_data(stop: PlanStop, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "position": stop.position,
        "series_id": stop.series_id,
        "occurrence_date": stop.occurrence_date.isoformat(),
        "client_id": stop.client_id,
        "client_initials": stop.client.initials,
        "facility_id": stop.facility_id,
        "facility": stop.facility.name,
        "room": stop.client.room,
        "arrive_at": _iso(stop.arrive_at, zone),
        "start_at": _iso(stop.start_at, zone),
        "end_at": _iso(stop.end_at, zone),
        "drive_minutes": stop.drive_minutes,
        "drive_km": stop.drive_km,
        "overhead_minutes": stop.overhead_minutes,
        "state": stop.state.value,
        "pinned": stop.pinned,
        "window_note": stop.window_note,
    }

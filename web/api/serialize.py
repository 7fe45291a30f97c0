"""Records as the API's JSON. Times of day as "HH:MM", dates as "YYYY-MM-DD", instants as
ISO 8601 in the practice's zone with its offset. Secrets (password hashes, feed tokens,
session versions) never leave."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from scheduler import models
from scheduler.plans.view import DayPlanView, StopView
from scheduler.records.precautions import InfectionControl
from scheduler.records.validation import WEEKDAY_CODES


def _hm(value: time | None) -> str | None:
    return f"{value:%H:%M}" if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _weekly(rows: list[Any], start: str, end: str) -> dict[str, list[str]]:
    return {WEEKDAY_CODES[r.weekday]: [f"{getattr(r, start):%H:%M}", f"{getattr(r, end):%H:%M}"]
            for r in sorted(rows, key=lambda r: r.weekday)}


def facility(f: models.Facility) -> dict[str, Any]:
    return {
        "id": f.id, "version": f.version,
        "name": f.name, "kind": f.kind.value, "address": f.address,
        "lat": f.lat, "lon": f.lon,
        "coordinate_source": f.coordinate_source.value if f.coordinate_source else None,
        "overhead_minutes": f.overhead_minutes, "parking_notes": f.parking_notes,
        "infection_control": f.infection_control, "notes": f.notes,
        "hours": _weekly(f.hours, "open", "close"),
    }


def therapist(t: models.Therapist) -> dict[str, Any]:
    return {
        "id": t.id, "version": t.version,
        "name": t.name, "email": t.email, "role": t.role.value, "active": t.active,
        "home_address": t.home_address, "home_lat": t.home_lat, "home_lon": t.home_lon,
        "skills": list(t.skills), "shifts": _weekly(t.shifts, "start", "end"),
        "break_start": _hm(t.break_start), "break_end": _hm(t.break_end),
        "break_minutes": t.break_minutes, "max_visits_per_day": t.max_visits_per_day,
        "max_hands_on_minutes": t.max_hands_on_minutes, "email_time": _hm(t.email_time),
        "email_weekdays": list(t.email_weekdays),
    }


def client(c: models.Client, infection: InfectionControl | None = None) -> dict[str, Any]:
    """A client; ``infection`` (the practice's rule) gives their infection-control class."""
    found = infection.class_of(c.precaution_flags) if infection is not None else None
    return {
        "id": c.id, "version": c.version,
        "first_name": c.first_name, "last_name": c.last_name,
        "initials": c.initials, "facility_id": c.facility_id, "room": c.room,
        "active": c.active, "precaution_flags": list(c.precaution_flags),
        "precaution_notes": c.precaution_notes, "diagnosis": c.diagnosis,
        "care_contact": c.care_contact, "primary_therapist_id": c.primary_therapist_id,
        "infection_class": found.word if found is not None and found.word != "none" else None,
    }


def treatment(t: models.Treatment) -> dict[str, Any]:
    return {
        "id": t.id, "version": t.version,
        "client_id": t.client_id, "kind": t.kind, "label": t.label,
        "facility_id": t.facility_id, "rule": t.rule, "first_date": _day(t.first_date),
        "last_date": _day(t.last_date),
        "start_time": _hm(t.start_time), "duration_minutes": t.duration_minutes,
        "buffer_before_minutes": t.buffer_before_minutes,
        "buffer_after_minutes": t.buffer_after_minutes, "policy": t.policy.value,
    }


def treatment_exception(e: models.TreatmentException) -> dict[str, Any]:
    return {
        "id": e.id, "version": e.version,
        "treatment_id": e.treatment_id, "original_date": _day(e.original_date),
        "action": e.action.value, "new_date": _day(e.new_date),
        "new_start_time": _hm(e.new_start_time),
        "new_duration_minutes": e.new_duration_minutes, "reason": e.reason,
    }


def series(s: models.AppointmentSeries) -> dict[str, Any]:
    return {
        "id": s.id, "version": s.version,
        "client_id": s.client_id, "therapist_id": s.therapist_id,
        "required_skills": list(s.required_skills), "rule": s.rule,
        "first_date": _day(s.first_date), "last_date": _day(s.last_date),
        "duration_minutes": s.duration_minutes,
        "preferred_windows": [list(pair) for pair in s.preferred_windows],
        "priority": s.priority, "during_treatment_id": s.during_treatment_id,
        "notes": s.notes, "active": s.active,
    }


def exception(e: models.SeriesException) -> dict[str, Any]:
    return {
        "id": e.id, "version": e.version,
        "series_id": e.series_id, "original_date": _day(e.original_date),
        "action": e.action.value, "new_date": _day(e.new_date),
        "new_start_time": _hm(e.new_start_time),
        "new_duration_minutes": e.new_duration_minutes, "reason": e.reason,
    }


def plan_stop(s: StopView) -> dict[str, Any]:
    return {
        "id": s.id, "position": s.position, "series_id": s.series_id,
        "occurrence_date": _day(s.occurrence_date), "client_id": s.client_id,
        "facility_id": s.place.id, "arrive_at": s.arrive.isoformat(),
        "start_at": s.start.isoformat(), "end_at": s.end.isoformat(),
        "drive_minutes": s.drive_minutes, "drive_km": s.drive_km,
        "overhead_minutes": s.overhead_minutes, "state": s.state.value,
        "state_at": _iso(s.state_at), "arrived_at": _iso(s.arrived_at), "pinned": s.pinned,
        "window_note": s.window_note, "infection_class": s.infection,
        "do_not_visit": s.do_not_visit,
    }


def day_plan(p: DayPlanView) -> dict[str, Any]:
    """A day plan from its view (built with notes: the API is behind a token)."""
    pause = p.break_
    return {
        "id": p.plan_id, "therapist_id": p.therapist_id, "day": _day(p.day),
        "version": p.version, "status": p.status.value,
        "created_at": p.created_at.isoformat(), "published_at": _iso(p.published_at),
        "replanned_at": _iso(p.replanned_at), "leave_home_at": _iso(p.leave_home),
        "back_home_at": _iso(p.back_home),
        "break_start_at": _iso(pause.start if pause else None),
        "break_end_at": _iso(pause.end if pause else None),
        "total_drive_minutes": p.drive_minutes, "total_drive_km": p.drive_km,
        "unplaced": [{"series_id": item.series_id, "date": _day(item.entry.day),
                      "client_id": item.client_id, "reason": item.reason}
                     for item in p.left_out],
        "solver": dict(p.solver),
        "stops": [plan_stop(s) for s in p.stops],
        "stale": bool(p.stale_causes), "stale_causes": list(p.stale_causes),
        "problems": [{"stop_id": s.id, "reason": s.do_not_visit} for s in p.stops
                     if s.do_not_visit],
        "replaces_version": p.replaces_version,
        "changes": [{"kind": c.kind, "words": c.words} for c in p.changes],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

"""Facilities: hospitals, nursing homes, dialysis clinics... with their weekly visiting hours
and coordinates (typed by a person, or found by the geocoder). Not patient data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.audit import Actor
from scheduler.plans import touches
from scheduler.records import change, versions
from scheduler.records.fields import EXTRA_FIELDS, facility_fields
from scheduler.records.validation import check_facility


def _apply(session: Session, facility: models.Facility, data: Mapping[str, Any],
           creating: bool) -> set[str]:
    values, problems = change.parse("facility", facility_fields(session), data,
                                    creating=creating, extra=EXTRA_FIELDS["facility"])
    hours = change.weekly("hours", data["hours"], problems) if "hours" in data else None
    with session.no_autoflush:
        changed = change.assign(facility, values)
        if {"lat", "lon"} & changed:
            # Coordinates typed by a person win over any geocoder answer from now on.
            facility.coordinate_source = (
                models.CoordinateSource.MANUAL if facility.lat is not None else None
            )
        if hours is not None and change.weekly_rows(facility.hours, "open", "close") != hours:
            facility.hours = [models.VisitingHours(weekday=d, open=o, close=c)
                              for d, o, c in hours]
            changed.add("hours")
        change.check_whole(problems, lambda: check_facility(facility))
    return changed


FACILITY = change.Kind("facility", _apply)


@change.all_or_nothing
def create_facility(session: Session, actor: Actor, data: Mapping[str, Any]) -> models.Facility:
    facility = models.Facility(overhead_minutes=0, parking_notes="", infection_control="",
                               notes="", hours=[])
    return change.create(session, actor, FACILITY, facility, data)


@change.all_or_nothing
def update_facility(session: Session, actor: Actor, facility: models.Facility,
                    data: Mapping[str, Any]) -> models.Facility:
    return change.update(session, actor, FACILITY, facility, data)


@change.all_or_nothing
def set_facility_coordinates(session: Session, actor: Actor, facility: models.Facility,
                             lat: float, lon: float, source: models.CoordinateSource) -> None:
    """Store coordinates found by the geocoder (or typed), checked like any other edit."""
    before = touches.snapshot(facility)
    facility.lat, facility.lon, facility.coordinate_source = lat, lon, source
    check_facility(facility)
    audit.record(session, actor, "update", "facility", facility.id,
                 ("lat", "lon", "coordinate_source"))
    changed = {name for name in ("lat", "lon") if before[name] != getattr(facility, name)}
    # Always a new version: the page's geocoding assigns (and flushes) the answer before
    # calling here, so whether it moved cannot be told; a form opened before must not put
    # the old coordinates back.
    versions.bump(facility)
    touches.record_changed(session, "facility", facility, before, changed, touches.Action.UPDATE)


@change.all_or_nothing
def delete_facility(session: Session, actor: Actor, facility: models.Facility) -> None:
    change.delete(session, actor, FACILITY, facility,
                  [models.Client.facility_id == facility.id,
                   models.Treatment.facility_id == facility.id,
                   models.PlanStop.facility_id == facility.id],
                  "clients, treatments or day plans refer to this facility; "
                  "move them to another facility first")

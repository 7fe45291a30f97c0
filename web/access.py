"""Who may see what, for the web: the domain's lookups (:mod:`scheduler.records.access`)
answered with 404 when a record does not exist or is not the viewer's, exactly alike, so ids
of other people's records reveal nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort

from scheduler import models
from scheduler.records import access
from scheduler.records.access import clients_query, is_admin, series_query

T = TypeVar("T")

__all__ = ["clients_query", "is_admin", "series_query"]


def found(record: T | None) -> T:
    if record is None:
        abort(404)
    return record


def client_or_404(session: Any, viewer: models.Therapist, client_id: int) -> models.Client:
    return found(access.find_client(session, viewer, client_id))


def treatment_or_404(session: Any, viewer: models.Therapist,
                     treatment_id: int) -> models.Treatment:
    return found(access.find_treatment(session, viewer, treatment_id))


def treatment_exception_or_404(session: Any, viewer: models.Therapist,
                               exception_id: int) -> models.TreatmentException:
    return found(access.find_treatment_exception(session, viewer, exception_id))


def series_or_404(session: Any, viewer: models.Therapist,
                  series_id: int) -> models.AppointmentSeries:
    return found(access.find_series(session, viewer, series_id))


def exception_or_404(session: Any, viewer: models.Therapist,
                     exception_id: int) -> models.SeriesException:
    return found(access.find_exception(session, viewer, exception_id))


def therapist_or_404(session: Any, viewer: models.Therapist,
                     therapist_id: int) -> models.Therapist:
    return found(access.find_therapist(session, viewer, therapist_id))


def plan_or_404(session: Any, viewer: models.Therapist, plan_id: int) -> models.DayPlan:
    return found(access.find_plan(session, viewer, plan_id))


def stop_or_404(session: Any, viewer: models.Therapist, stop_id: int) -> models.PlanStop:
    return found(access.find_stop(session, viewer, stop_id))


def facility_or_404(session: Any, facility_id: int) -> models.Facility:
    return found(access.find_facility(session, facility_id))

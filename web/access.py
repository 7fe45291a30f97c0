"""Who may see what, for the web: the domain's lookups (:mod:`scheduler.records.access`)
answered with 404 when a record does not exist or is not the viewer's, exactly alike, so ids
of other people's records reveal nothing. Each refusal is noted for the audit trail
(:mod:`web.refusals`) with its reason, which only the trail tells apart."""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from flask import abort

from scheduler import models
from scheduler.audit import NOT_FOUND
from scheduler.records import access
from scheduler.records.access import clients_query, is_admin, series_query
from scheduler.records.fields import MAX_ID
from web import refusals

T = TypeVar("T")

__all__ = ["clients_query", "is_admin", "series_query"]


def found(record: T | None) -> T:
    if record is None:
        abort(404)
    return record


def refuse(session: Any, model: type[models.Base], entity: str, record_id: int) -> NoReturn:
    """404, noted for the audit trail as a refused attempt on that record, with the reason."""
    in_range = 1 <= record_id <= MAX_ID  # beyond: no such record, and no query to say so
    refusals.note(entity, record_id if in_range else None,
                  access.refusal_reason(session, model, record_id) if in_range
                  else NOT_FOUND)
    abort(404)


def _found(record: T | None, session: Any, model: type[models.Base], entity: str,
           record_id: int) -> T:
    """``record``, or a 404 noted for the audit trail as a refusal with its reason."""
    if record is None:
        refuse(session, model, entity, record_id)
    return record


def client_or_404(session: Any, viewer: models.Therapist, client_id: int) -> models.Client:
    return _found(access.find_client(session, viewer, client_id), session, models.Client,
                  "client", client_id)


def treatment_or_404(session: Any, viewer: models.Therapist,
                     treatment_id: int) -> models.Treatment:
    return _found(access.find_treatment(session, viewer, treatment_id), session,
                  models.Treatment, "treatment", treatment_id)


def treatment_exception_or_404(session: Any, viewer: models.Therapist,
                               exception_id: int) -> models.TreatmentException:
    return _found(access.find_treatment_exception(session, viewer, exception_id), session,
                  models.TreatmentException, "treatment_exception", exception_id)


def series_or_404(session: Any, viewer: models.Therapist,
                  series_id: int) -> models.AppointmentSeries:
    return _found(access.find_series(session, viewer, series_id), session,
                  models.AppointmentSeries, "series", series_id)


def exception_or_404(session: Any, viewer: models.Therapist,
                     exception_id: int) -> models.SeriesException:
    return _found(access.find_exception(session, viewer, exception_id), session,
                  models.SeriesException, "exception", exception_id)


def therapist_or_404(session: Any, viewer: models.Therapist,
                     therapist_id: int) -> models.Therapist:
    return _found(access.find_therapist(session, viewer, therapist_id), session,
                  models.Therapist, "therapist", therapist_id)


def plan_or_404(session: Any, viewer: models.Therapist, plan_id: int) -> models.DayPlan:
    return _found(access.find_plan(session, viewer, plan_id), session, models.DayPlan,
                  "day_plan", plan_id)


def stop_or_404(session: Any, viewer: models.Therapist, stop_id: int) -> models.PlanStop:
    return _found(access.find_stop(session, viewer, stop_id), session, models.PlanStop,
                  "plan_stop", stop_id)


def facility_or_404(session: Any, facility_id: int) -> models.Facility:
    return _found(access.find_facility(session, facility_id), session, models.Facility,
                  "facility", facility_id)

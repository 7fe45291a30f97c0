"""Who may see what: one place for the role and ownership rules of pages, API and feeds.

An admin sees the whole practice. A therapist sees their own days and plans, their own
clients (see :func:`scheduler.records.visible_client_filter`) with those clients' treatments,
the series booked with them (or with anyone, for their clients), every facility (addresses
are not patient data), and their own account. Anything else answers 404, exactly as if it did
not exist, so ids of other people's records reveal nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import Select, or_, select

from scheduler import models
from scheduler.records import visible_client_filter

T = TypeVar("T")


def is_admin(therapist: models.Therapist) -> bool:
    return therapist.role == models.Role.ADMIN


def found(record: T | None) -> T:
    if record is None:
        abort(404)
    return record


def clients_query(viewer: models.Therapist) -> Select[Any]:
    query = select(models.Client)
    if not is_admin(viewer):
        query = query.where(visible_client_filter(viewer.id))
    return query


def client_or_404(session: Any, viewer: models.Therapist, client_id: int) -> models.Client:
    return found(session.scalar(clients_query(viewer).where(models.Client.id == client_id)))


def treatment_or_404(session: Any, viewer: models.Therapist,
                     treatment_id: int) -> models.Treatment:
    treatment = found(session.get(models.Treatment, treatment_id))
    client_or_404(session, viewer, treatment.client_id)
    return treatment


def series_query(viewer: models.Therapist) -> Select[Any]:
    query = select(models.AppointmentSeries)
    if not is_admin(viewer):
        series = models.AppointmentSeries
        query = query.join(models.Client, models.Client.id == series.client_id).where(
            or_(series.therapist_id == viewer.id,
                (series.therapist_id.is_(None)) & visible_client_filter(viewer.id)))
    return query


def series_or_404(session: Any, viewer: models.Therapist,
                  series_id: int) -> models.AppointmentSeries:
    return found(session.scalar(series_query(viewer).where(
        models.AppointmentSeries.id == series_id)))


def exception_or_404(session: Any, viewer: models.Therapist,
                     exception_id: int) -> models.SeriesException:
    exception = found(session.get(models.SeriesException, exception_id))
    series_or_404(session, viewer, exception.series_id)
    return exception


def therapist_or_404(session: Any, viewer: models.Therapist,
                     therapist_id: int) -> models.Therapist:
    if not is_admin(viewer) and therapist_id != viewer.id:
        abort(404)
    return found(session.get(models.Therapist, therapist_id))


def plan_or_404(session: Any, viewer: models.Therapist, plan_id: int) -> models.DayPlan:
    plan = found(session.get(models.DayPlan, plan_id))
    if not is_admin(viewer) and plan.therapist_id != viewer.id:
        abort(404)
    return plan


def stop_or_404(session: Any, viewer: models.Therapist, stop_id: int) -> models.PlanStop:
    stop = found(session.get(models.PlanStop, stop_id))
    plan_or_404(session, viewer, stop.plan_id)
    return stop


def facility_or_404(session: Any, facility_id: int) -> models.Facility:
    return found(session.get(models.Facility, facility_id))

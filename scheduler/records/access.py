"""Who may see which patient records: one definition for pages, API and feeds.

An admin sees the whole practice. A therapist sees their own clients (primary, booked with,
or on their plans) with those clients' treatments, the series booked with them (or open to
anyone, for their clients), their own days and plans, every facility (addresses are not
patient data), and their own account. The lookups here answer None for a record the viewer
may not see, exactly as for one that does not exist; the web answers 404 for both, so ids of
other people's records reveal nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, aliased

from scheduler import models
from scheduler.audit import NOT_FOUND, NOT_YOURS


def visible_client_filter(therapist_id: int) -> Any:
    """SQL condition: the client is this therapist's (primary, booked with, or on their plans).

    A therapist sees their own clients only; this one definition serves pages, API and feeds.
    The inner tables are aliased so the condition also works inside queries that select
    series or stops themselves (only the client is correlated with the outer query).
    """
    client = models.Client
    series = aliased(models.AppointmentSeries)
    stop = aliased(models.PlanStop)
    plan = aliased(models.DayPlan)
    return or_(
        client.primary_therapist_id == therapist_id,
        exists(select(series.id).where(series.client_id == client.id,
                                       series.therapist_id == therapist_id)),
        exists(select(stop.id).join(plan, plan.id == stop.plan_id).where(
            stop.client_id == client.id, plan.therapist_id == therapist_id)),
    )


def is_admin(therapist: models.Therapist) -> bool:
    return therapist.role == models.Role.ADMIN


def clients_query(viewer: models.Therapist) -> Select[Any]:
    """The clients ``viewer`` may see."""
    query = select(models.Client)
    if not is_admin(viewer):
        query = query.where(visible_client_filter(viewer.id))
    return query


def series_query(viewer: models.Therapist) -> Select[Any]:
    """The series ``viewer`` may see: booked with them, or open to anyone for their clients."""
    query = select(models.AppointmentSeries)
    if not is_admin(viewer):
        series = models.AppointmentSeries
        query = query.join(models.Client, models.Client.id == series.client_id).where(
            or_(series.therapist_id == viewer.id,
                (series.therapist_id.is_(None)) & visible_client_filter(viewer.id)))
    return query


def find_client(session: Session, viewer: models.Therapist,
                client_id: int) -> models.Client | None:
    return session.scalar(clients_query(viewer).where(models.Client.id == client_id))


def find_treatment(session: Session, viewer: models.Therapist,
                   treatment_id: int) -> models.Treatment | None:
    treatment = session.get(models.Treatment, treatment_id)
    if treatment is None or find_client(session, viewer, treatment.client_id) is None:
        return None
    return treatment


def find_treatment_exception(session: Session, viewer: models.Therapist,
                             exception_id: int) -> models.TreatmentException | None:
    """A change to one occurrence of a treatment: seen by whoever sees the treatment."""
    exception = session.get(models.TreatmentException, exception_id)
    if exception is None or find_treatment(session, viewer, exception.treatment_id) is None:
        return None
    return exception


def find_series(session: Session, viewer: models.Therapist,
                series_id: int) -> models.AppointmentSeries | None:
    return session.scalar(series_query(viewer).where(models.AppointmentSeries.id == series_id))


def find_exception(session: Session, viewer: models.Therapist,
                   exception_id: int) -> models.SeriesException | None:
    exception = session.get(models.SeriesException, exception_id)
    if exception is None or find_series(session, viewer, exception.series_id) is None:
        return None
    return exception


def find_therapist(session: Session, viewer: models.Therapist,
                   therapist_id: int) -> models.Therapist | None:
    if not is_admin(viewer) and therapist_id != viewer.id:
        return None
    return session.get(models.Therapist, therapist_id)


def find_plan(session: Session, viewer: models.Therapist,
              plan_id: int) -> models.DayPlan | None:
    plan = session.get(models.DayPlan, plan_id)
    if plan is None or (not is_admin(viewer) and plan.therapist_id != viewer.id):
        return None
    return plan


def find_stop(session: Session, viewer: models.Therapist,
              stop_id: int) -> models.PlanStop | None:
    stop = session.get(models.PlanStop, stop_id)
    if stop is None or find_plan(session, viewer, stop.plan_id) is None:
        return None
    return stop


def find_facility(session: Session, facility_id: int) -> models.Facility | None:
    return session.get(models.Facility, facility_id)


def refusal_reason(session: Session, model: type[models.Base], record_id: int) -> str:
    """Why a lookup above answered None, for the audit trail only (the viewer is told
    nothing): "not found" when no such record exists, else "not yours"."""
    return NOT_FOUND if session.get(model, record_id) is None else NOT_YOURS

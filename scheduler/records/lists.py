"""The lists of records the pages and the API show, each as the viewer may see it
(:mod:`.access`). The web asks here and writes no query of its own; API lists come as
queries for :func:`scheduler.db.paginate`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.records.access import clients_query, is_admin, series_query


def facilities(session: Session) -> Sequence[models.Facility]:
    """Every facility, by name (facilities are not patient data: everyone sees them)."""
    return session.scalars(select(models.Facility).order_by(models.Facility.name)).all()


def facilities_query() -> Select[Any]:
    return select(models.Facility).order_by(models.Facility.id)


def therapists(session: Session, *, active_only: bool = False) -> Sequence[models.Therapist]:
    """The practice's therapists by name (for an admin's lists and pickers)."""
    query = select(models.Therapist).order_by(models.Therapist.name)
    if active_only:
        query = query.where(models.Therapist.active.is_(True))
    return session.scalars(query).all()


def therapists_query(viewer: models.Therapist) -> Select[Any]:
    """The therapists ``viewer`` may read: all for an admin, else only themselves."""
    query = select(models.Therapist).order_by(models.Therapist.id)
    if not is_admin(viewer):
        query = query.where(models.Therapist.id == viewer.id)
    return query


def clients(session: Session, viewer: models.Therapist, *,
            include_inactive: bool = False) -> Sequence[models.Client]:
    """The clients ``viewer`` may see, by last and first name."""
    query = clients_query(viewer).order_by(models.Client.last_name, models.Client.first_name)
    if not include_inactive:
        query = query.where(models.Client.active.is_(True))
    return session.scalars(query).all()


def clients_page_query(viewer: models.Therapist) -> Select[Any]:
    return clients_query(viewer).order_by(models.Client.id)


def treatments_query(client: models.Client) -> Select[Any]:
    return select(models.Treatment).where(
        models.Treatment.client_id == client.id).order_by(models.Treatment.id)


def treatment_exceptions_query(treatment: models.Treatment) -> Select[Any]:
    return select(models.TreatmentException).where(
        models.TreatmentException.treatment_id == treatment.id).order_by(
        models.TreatmentException.original_date)


def during_treatments(session: Session, client_id: int) -> Sequence[models.Treatment]:
    """The client's treatments a visit may take place during (chair-side)."""
    return session.scalars(select(models.Treatment).where(
        models.Treatment.client_id == client_id,
        models.Treatment.policy == models.TreatmentPolicy.DURING)).all()


def series(session: Session, viewer: models.Therapist,
           client_id: int | None = None) -> Sequence[models.AppointmentSeries]:
    """The series ``viewer`` may see (of one client), by id."""
    query = series_query(viewer).order_by(models.AppointmentSeries.id)
    if client_id is not None:
        query = query.where(models.AppointmentSeries.client_id == client_id)
    return session.scalars(query).all()


def series_page_query(viewer: models.Therapist) -> Select[Any]:
    return series_query(viewer).order_by(models.AppointmentSeries.id)


def exceptions_query(series_row: models.AppointmentSeries) -> Select[Any]:
    return select(models.SeriesException).where(
        models.SeriesException.series_id == series_row.id).order_by(
        models.SeriesException.original_date)


def time_off_query(viewer: models.Therapist, *, therapist_id: int | None = None,
                   first: date | None = None, last: date | None = None) -> Select[Any]:
    """Time off touching [first, last], first day first; narrowed to one therapist's days
    away (their own entries and the closures), and to the viewer's own unless an admin."""
    query = select(models.TimeOff).order_by(models.TimeOff.first_day, models.TimeOff.id)
    if first is not None:
        query = query.where(models.TimeOff.last_day >= first)
    if last is not None:
        query = query.where(models.TimeOff.first_day <= last)
    for owner in ([therapist_id] if therapist_id is not None else []) + (
            [] if is_admin(viewer) else [viewer.id]):
        query = query.where(or_(models.TimeOff.therapist_id.is_(None),
                                models.TimeOff.therapist_id == owner))
    return query


def find_time_off(session: Session, time_off_id: int) -> models.TimeOff | None:
    return session.get(models.TimeOff, time_off_id)

"""Visit series (recurring appointments, or one-off ones without a rule) and the exceptions
that cancel, move or resize one occurrence. Audited with the client or series they belong to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.audit import Actor
from scheduler.plans import touches
from scheduler.records import change
from scheduler.records.fields import exception_fields, series_fields
from scheduler.records.validation import ValidationError, check_exception, check_series, fail

SERIES = change.Kind("series", change.plain_fields("series", series_fields, check_series),
                     context=lambda series: f"client {series.client_id}")


@change.all_or_nothing
def create_series(session: Session, actor: Actor,
                  data: Mapping[str, Any]) -> models.AppointmentSeries:
    series = models.AppointmentSeries(required_skills=[], preferred_windows=[], priority=50,
                                      notes="", active=True)
    return change.create(session, actor, SERIES, series, data)


@change.all_or_nothing
def update_series(session: Session, actor: Actor, series: models.AppointmentSeries,
                  data: Mapping[str, Any]) -> models.AppointmentSeries:
    return change.update(session, actor, SERIES, series, data)


@change.all_or_nothing
def delete_series(session: Session, actor: Actor, series: models.AppointmentSeries) -> None:
    change.delete(session, actor, SERIES, series, [models.PlanStop.series_id == series.id],
                  "day plans include visits of this series; give it a last date or mark it "
                  "inactive instead")


# ---------------------------------------------------------------------------------------------
# Exceptions: one per occurrence, checked against the series' rule


def _exception_kind(series: models.AppointmentSeries) -> change.Kind:
    """Exceptions are parsed, refused when their occurrence already has one, and checked
    against their series' rule (a new one is added to its series first, so the check sees
    it, and taken out again when refused)."""

    def apply(session: Session, exception: models.SeriesException, data: Mapping[str, Any],
              creating: bool) -> set[str]:
        values, problems = change.parse("exception", exception_fields(session), data,
                                        creating=creating)
        if "original_date" in values and any(
                e.original_date == values["original_date"] and e is not exception
                for e in series.exceptions):
            problems.add("original_date", "this occurrence already has a change; edit that one")
        problems.raise_if_any()
        with session.no_autoflush:
            changed = change.assign(exception, values)
            if creating:
                series.exceptions.append(exception)
            try:
                check_exception(series, exception)
            except ValidationError:
                if creating:
                    series.exceptions.remove(exception)
                raise
        return changed

    return change.Kind("exception", apply, context=lambda _: f"series {series.id}")


@change.all_or_nothing
def create_exception(session: Session, actor: Actor, series: models.AppointmentSeries,
                     data: Mapping[str, Any]) -> models.SeriesException:
    exception = models.SeriesException(reason="")
    return change.create(session, actor, _exception_kind(series), exception, data)


@change.all_or_nothing
def update_exception(session: Session, actor: Actor, exception: models.SeriesException,
                     data: Mapping[str, Any]) -> models.SeriesException:
    return change.update(session, actor, _exception_kind(exception.series), exception, data)


@change.all_or_nothing
def delete_exception(session: Session, actor: Actor, exception: models.SeriesException) -> None:
    # Taken out of its series' list (delete-orphan), not session.delete(): the series in this
    # session must not go on listing it.
    audit.record(session, actor, "delete", "exception", exception.id,
                 context=f"series {exception.series_id}")
    touches.record_changed(session, "exception", exception, touches.snapshot(exception), (),
                         touches.Action.DELETE)
    exception.series.exceptions.remove(exception)
    session.flush()


@change.all_or_nothing
def cancel_occurrence(session: Session, actor: Actor, series: models.AppointmentSeries,
                      day: date, reason: str = "") -> models.SeriesException:
    """Cancel one occurrence, replacing any earlier change to it (a move, a new length).
    Cancelling it again is refused, naming the field, so nobody is told twice that it is."""
    existing = next((e for e in series.exceptions if e.original_date == day), None)
    if existing is not None and existing.action == models.ExceptionAction.CANCEL:
        raise fail("original_date", f"the visit of {day:%a} {day.day} {day:%b} is already "
                                    "cancelled")
    data = {"original_date": day.isoformat(), "action": "cancel", "new_date": None,
            "new_start_time": None, "new_duration_minutes": None, "reason": reason}
    if existing is not None:
        return update_exception(session, actor, existing, data)
    return create_exception(session, actor, series, data)

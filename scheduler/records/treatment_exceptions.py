"""One occurrence of a client's treatment cancelled, or moved to another date, start or length
(the chair time moved from 06:00–10:00 to 08:00–12:00 for one day), as a visit series'
occurrences are (:mod:`.series`). Audited with the treatment they belong to.

The checks live here, beside the kind, rather than in :mod:`.validation`: they are the
treatment's own, and read the treatment's rule through :mod:`scheduler.calendar.treatments`,
so an exception is accepted exactly on the occurrences the calendar places.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.audit import Actor
from scheduler.calendar.rules import RuleError
from scheduler.calendar.treatments import occurs_on
from scheduler.calendar.words import describe_rule
from scheduler.records import change
from scheduler.records.fields import treatment_exception_fields
from scheduler.records.validation import Problems, ValidationError, fail

KIND = "treatment_exception"
NEW_VALUES = ("new_date", "new_start_time", "new_duration_minutes")
_ACTIONS = (models.ExceptionAction.CANCEL, models.ExceptionAction.MOVE)


def check_treatment_exception(treatment: models.Treatment,
                              exception: models.TreatmentException) -> None:
    """An occurrence the treatment's rule gives (from its first to its last date), changed
    once: cancelled, with no new values; or moved, to a new date, start or length (of 1
    minute to 24 hours). Each problem names its field."""
    problems = Problems()
    day, action = exception.original_date, exception.action
    problems.check(_gives(treatment, day), "original_date",
                   f"the treatment has no occurrence on {day:%a} {day} ({_course(treatment)})")
    problems.check(sum(e.original_date == day for e in treatment.exceptions) <= 1,
                   "original_date", "this occurrence already has a change; edit that one")
    problems.check(action in _ACTIONS, "action", f"must be cancel or move, got {action}")
    if action == models.ExceptionAction.CANCEL:
        for name in NEW_VALUES:
            problems.check(getattr(exception, name) is None, name,
                           "a cancelled occurrence takes no new value; leave it empty")
    if action == models.ExceptionAction.MOVE:
        problems.check(any(getattr(exception, name) is not None for name in NEW_VALUES),
                       "new_date", "a move needs a new date, start time or length")
    length = exception.new_duration_minutes
    problems.check(length is None or 0 < length <= 24 * 60, "new_duration_minutes",
                   f"must be from 1 minute to 24 hours (1440 minutes), got {length}")
    problems.raise_if_any()


def _gives(treatment: models.Treatment, day: date) -> bool:
    try:
        return occurs_on(treatment, day, None)
    except RuleError:
        return True  # the rule itself is reported by check_treatment


def _course(treatment: models.Treatment) -> str:
    """E.g. "Mon/Wed/Fri from 2026-01-05", "every weekday from 2026-03-02 to 2026-04-10"."""
    words = f"{describe_rule(treatment.rule, treatment.first_date)} from {treatment.first_date}"
    return words + (f" to {treatment.last_date}" if treatment.last_date is not None else "")


def _kind(treatment: models.Treatment) -> change.Kind:
    """Parsed, then checked against the treatment: a new exception is added to its
    treatment first, so the check sees it, and taken out again when refused."""

    def apply(session: Session, exception: models.TreatmentException, data: Mapping[str, Any],
              creating: bool) -> set[str]:
        values, problems = change.parse(KIND, treatment_exception_fields(session), data,
                                        creating=creating)
        if "original_date" in values and any(
                e.original_date == values["original_date"] and e is not exception
                for e in treatment.exceptions):
            problems.add("original_date", "this occurrence already has a change; edit that one")
        with session.no_autoflush:
            changed = change.assign(exception, values)
            if creating:
                treatment.exceptions.append(exception)
            try:
                change.check_whole(problems,
                                   lambda: check_treatment_exception(treatment, exception))
            except ValidationError:
                if creating:
                    treatment.exceptions.remove(exception)
                raise
        return changed

    return change.Kind(KIND, apply, context=lambda _: f"treatment {treatment.id}")


@change.all_or_nothing
def create_treatment_exception(session: Session, actor: Actor, treatment: models.Treatment,
                               data: Mapping[str, Any]) -> models.TreatmentException:
    exception = models.TreatmentException(reason="")
    return change.create(session, actor, _kind(treatment), exception, data)


@change.all_or_nothing
def update_treatment_exception(session: Session, actor: Actor,
                               exception: models.TreatmentException,
                               data: Mapping[str, Any]) -> models.TreatmentException:
    return change.update(session, actor, _kind(exception.treatment), exception, data)


@change.all_or_nothing
def delete_treatment_exception(session: Session, actor: Actor,
                               exception: models.TreatmentException) -> None:
    """The occurrence is as the rule says again. The treatment's list is read again after,
    so the treatment in this session does not go on listing the change."""
    treatment = exception.treatment
    change.delete(session, actor, _kind(treatment), exception, [], "")
    session.expire(treatment, ["exceptions"])


@change.all_or_nothing
def cancel_treatment_occurrence(session: Session, actor: Actor, treatment: models.Treatment,
                                day: date, reason: str = "") -> models.TreatmentException:
    """Cancel one occurrence, replacing any earlier change to it (a move). Cancelling it
    again is refused, naming the field, as for a visit series."""
    if any(e.original_date == day and e.action == models.ExceptionAction.CANCEL
           for e in treatment.exceptions):
        raise fail("original_date", f"the {treatment.kind} of {day:%a} {day.day} {day:%b} is "
                                    "already cancelled")
    return _set_change(session, actor, treatment, day, {
        "action": "cancel", "new_date": None, "new_start_time": None,
        "new_duration_minutes": None, "reason": reason})


@change.all_or_nothing
def move_treatment_occurrence(session: Session, actor: Actor, treatment: models.Treatment,
                              day: date, *, new_date: date | None = None,
                              new_start_time: time | None = None,
                              new_duration_minutes: int | None = None,
                              reason: str = "") -> models.TreatmentException:
    """Move one occurrence to a new date, start and/or length (what is not given stays as
    the rule has it), replacing any earlier change to it."""
    return _set_change(session, actor, treatment, day, {
        "action": "move", "new_date": new_date.isoformat() if new_date else None,
        "new_start_time": f"{new_start_time:%H:%M}" if new_start_time else None,
        "new_duration_minutes": new_duration_minutes, "reason": reason})


def _set_change(session: Session, actor: Actor, treatment: models.Treatment, day: date,
                data: dict[str, Any]) -> models.TreatmentException:
    existing = next((e for e in treatment.exceptions if e.original_date == day), None)
    data = {"original_date": day.isoformat(), **data}
    if existing is not None:
        return update_treatment_exception(session, actor, existing, data)
    return create_treatment_exception(session, actor, treatment, data)

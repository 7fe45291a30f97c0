"""Time off as a record: adding and removing a therapist's days away or a practice closure.

Changes go as every record's (:mod:`.change`): parsed field by field, checked as a whole by
:func:`~.validation.check_time_off`, inside a SAVEPOINT, with an audit row naming the
fields. Nothing here commits. What time off means for a day is :mod:`scheduler.calendar.time_off`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from scheduler import audit, models
from scheduler.audit import Actor
from scheduler.plans import touches
from scheduler.records import validation
from scheduler.records.fields import parse_practice_date
from scheduler.records.validation import FieldProblem, Problems, ValidationError

REASON_MAX = 80


FIELDS = ("first_day", "last_day", "reason")


REQUIRED = ("first_day", "last_day")


def _parse(data: Mapping[str, Any], allowed: Sequence[str]) -> tuple[dict[str, Any], Problems]:
    problems = Problems()
    if not isinstance(data, Mapping):
        problems.add("body", "expected a JSON object")
        return {}, problems
    for name in data:
        if name not in allowed:
            problems.add(str(name), "unknown field")
    values: dict[str, Any] = {"reason": ""}
    for name in REQUIRED:
        raw = data.get(name)
        if raw is None or raw == "":
            problems.add(name, "is required")
            continue
        try:
            if not isinstance(raw, str):
                raise validation.fail(name, "expected a date as YYYY-MM-DD")
            values[name] = parse_practice_date(name, raw)
        except ValidationError as error:
            problems.found.extend(error.problems)
    reason = data.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        problems.add("reason", "expected text")
    elif "\x00" in reason:
        problems.add("reason", "must not contain NUL characters")
    elif len(reason.strip()) > REASON_MAX:
        problems.add("reason", f"must be at most {REASON_MAX} characters")
    else:
        values["reason"] = reason.strip()
    return values, problems


def problems_in(session: Session, data: Mapping[str, Any]) -> list[FieldProblem]:
    """What is wrong with the days and reason of ``data`` (whoever it is for); nothing is
    written. Lets a caller report a bad owner together with the other fields' problems."""
    try:
        _checked_entry(session, None, data)
    except ValidationError as error:
        return list(error.problems)
    return []


def _checked_entry(session: Session, therapist_id: int | None,
                   data: Mapping[str, Any]) -> models.TimeOff:
    """A new, unsaved entry from ``data``; ValidationError naming each bad field."""
    values, problems = _parse(data, FIELDS)
    entry = models.TimeOff(therapist_id=therapist_id, **values)
    try:
        validation.check_time_off(session, entry)
    except ValidationError as error:
        reported = {p.field for p in problems.found}
        problems.found.extend(p for p in error.problems if p.field not in reported)
    except TypeError:  # a date missing: the parse problems already say so
        pass
    problems.raise_if_any()
    return entry


def add(session: Session, actor: Actor, therapist_id: int | None,
        data: Mapping[str, Any]) -> models.TimeOff:
    """Add time off for the therapist (None: a practice closure) from ``first_day``,
    ``last_day`` (YYYY-MM-DD) and ``reason``. Raises ValidationError naming each field."""
    with session.begin_nested():
        entry = _checked_entry(session, therapist_id, data)
        session.add(entry)
        session.flush()
        audit.record(session, actor, "create", "time_off", entry.id, FIELDS,
                     context="practice" if therapist_id is None else f"therapist {therapist_id}")
        touches.record_changed(session, "time_off", entry, None, FIELDS, touches.Action.CREATE)
    return entry


def remove(session: Session, actor: Actor, entry: models.TimeOff) -> None:
    with session.begin_nested():
        audit.record(session, actor, "delete", "time_off", entry.id)
        touches.record_changed(session, "time_off", entry, None, (), touches.Action.DELETE)
        session.delete(entry)
        session.flush()


def as_data(entry: models.TimeOff) -> dict[str, Any]:
    """For the API: no names, the reason as typed."""
    return {"id": entry.id, "therapist_id": entry.therapist_id,
            "first_day": entry.first_day.isoformat(), "last_day": entry.last_day.isoformat(),
            "reason": entry.reason}

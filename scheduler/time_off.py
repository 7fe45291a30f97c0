"""Time off: the days a therapist is away, and the days the whole practice is closed.

One record kind (:class:`~scheduler.models.TimeOff`) serves both: with a therapist it is their
vacation, sick day or conference; without one, a practice closure (Thanksgiving). The calendar
(:mod:`scheduler.calendar`) reads the entries once with the rest of the practice and gives a
therapist who is off no working time that day, so planning, ``rounds visits``, the day page
and the morning e-mail all treat the day as they treat a weekday without a shift, and say why
in the words of :func:`describe`.

Changes go as in :mod:`scheduler.records`: parsed field by field, checked as a whole by
:func:`scheduler.validation.check_time_off`, inside a SAVEPOINT, with an audit row naming the
fields (the records module audits every kind of record, not only patient ones). Nothing here
commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler import audit, models, validation
from scheduler.audit import Actor
from scheduler.records import parse_practice_date
from scheduler.validation import FieldProblem, Problems, ValidationError

REASON_MAX = 80
FIELDS = ("first_day", "last_day", "reason")
REQUIRED = ("first_day", "last_day")


# ---------------------------------------------------------------------------------------------
# In words


def _day(value: date) -> str:
    return f"{value:%b} {value.day}"


def span_words(entry: models.TimeOff) -> str:
    """"Dec 24–Dec 26", or "Nov 26" for a single day."""
    if entry.first_day == entry.last_day:
        return _day(entry.first_day)
    return f"{_day(entry.first_day)}–{_day(entry.last_day)}"


def describe(entry: models.TimeOff, therapist_name: str = "") -> str:
    """Why nobody (or this therapist) works: "Devon is off: Vacation (Dec 24–Dec 26)",
    "practice closed: Thanksgiving". Said on the day page, in planning's left-out visits and
    by ``rounds visits``; the reason is team words, never patient data."""
    if entry.therapist_id is None:
        return f"practice closed: {entry.reason}" if entry.reason else "practice closed"
    who = therapist_name.split()[0] if therapist_name.strip() else "the therapist"
    reason = f": {entry.reason}" if entry.reason else ""
    return f"{who} is off{reason} ({span_words(entry)})"


# ---------------------------------------------------------------------------------------------
# Who is off when


def covers(entry: models.TimeOff, day: date) -> bool:
    return entry.first_day <= day <= entry.last_day


def entry_on(entries: Iterable[models.TimeOff], therapist_id: int,
             day: date) -> models.TimeOff | None:
    """The entry that takes ``day`` from the therapist; a practice closure comes first, since
    it says more (nobody works) than a vacation that happens to fall on it."""
    mine = None
    for entry in entries:
        if not covers(entry, day):
            continue
        if entry.therapist_id is None:
            return entry
        if entry.therapist_id == therapist_id and mine is None:
            mine = entry
    return mine


def between(session: Session, first: date, last: date,
            therapist_id: int | None = None) -> list[models.TimeOff]:
    """Entries touching [first, last]: everyone's, or one therapist's and the closures."""
    query = (select(models.TimeOff)
             .where(models.TimeOff.first_day <= last, models.TimeOff.last_day >= first)
             .order_by(models.TimeOff.first_day, models.TimeOff.id))
    if therapist_id is not None:
        query = query.where(or_(models.TimeOff.therapist_id.is_(None),
                                models.TimeOff.therapist_id == therapist_id))
    return list(session.scalars(query))


def off_on(session: Session, therapist: models.Therapist, day: date) -> str | None:
    """Why the therapist does not work ``day``, in words, or None when they may."""
    entry = entry_on(between(session, day, day, therapist.id), therapist.id, day)
    return describe(entry, therapist.name) if entry is not None else None


def off_therapist_ids(session: Session, day: date, therapist_ids: Iterable[int]) -> set[int]:
    """Which of these therapists are off ``day`` (everyone, when the practice is closed)."""
    wanted = set(therapist_ids)
    entries = between(session, day, day)
    if any(e.therapist_id is None for e in entries):
        return wanted
    return {e.therapist_id for e in entries if e.therapist_id in wanted}


def listed(session: Session, therapist_id: int | None) -> list[models.TimeOff]:
    """A therapist's entries (None: the practice closures), latest first."""
    column = models.TimeOff.therapist_id
    condition = column.is_(None) if therapist_id is None else column == therapist_id
    return list(session.scalars(select(models.TimeOff).where(condition).order_by(
        models.TimeOff.first_day.desc(), models.TimeOff.id.desc())))


# ---------------------------------------------------------------------------------------------
# Changes


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
    return entry


def remove(session: Session, actor: Actor, entry: models.TimeOff) -> None:
    with session.begin_nested():
        audit.record(session, actor, "delete", "time_off", entry.id)
        session.delete(entry)
        session.flush()


def as_data(entry: models.TimeOff) -> dict[str, Any]:
    """For the API: no names, the reason as typed."""
    return {"id": entry.id, "therapist_id": entry.therapist_id,
            "first_day": entry.first_day.isoformat(), "last_day": entry.last_day.isoformat(),
            "reason": entry.reason}

"""The occurrences of an appointment series, after its exceptions (cancel, move, resize).

Models are accepted by duck typing (:class:`SeriesLike`, :class:`ExceptionLike`), so tests pass
small frozen dataclasses and the calendar passes database rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from scheduler.calendar.expand import occurrence_dates, occurs_on
from scheduler.calendar.rules import RuleError
from scheduler.calendar.words import describe_rule

# ---------------------------------------------------------------------------------------------
# Appointment series and their exceptions


class ExceptionLike(Protocol):
    """What is read from a :class:`scheduler.models.SeriesException`."""

    @property
    def original_date(self) -> date: ...
    @property
    def action(self) -> str: ...  # "cancel", "move", "resize" (or the ExceptionAction enum)
    @property
    def new_date(self) -> date | None: ...
    @property
    def new_start_time(self) -> time | None: ...
    @property
    def new_duration_minutes(self) -> int | None: ...


class SeriesLike(Protocol):
    """What is read from a :class:`scheduler.models.AppointmentSeries` (``id`` is optional)."""

    @property
    def rule(self) -> str | None: ...
    @property
    def first_date(self) -> date: ...
    @property
    def last_date(self) -> date | None: ...
    @property
    def duration_minutes(self) -> int: ...
    @property
    def exceptions(self) -> Iterable[ExceptionLike]: ...


CANCEL, MOVE, RESIZE = "cancel", "move", "resize"


class Occurrence(NamedTuple):
    """One visit of a series on one date, after the series' exceptions.

    ``original_date`` is the date the rule gave (what an exception or a plan refers to);
    ``date`` is where it happens. ``fixed_start`` is a wall-clock start a person set by
    moving it; ``moved`` says an exception moved it (in date or time).

    A named tuple rather than a frozen dataclass: as immutable, and built three times
    faster, which counts at ~100,000 occurrences a year for a 20-therapist practice.
    """

    series_id: int | None
    original_date: date
    date: date
    duration_minutes: int
    fixed_start: time | None = None
    moved: bool = False


def _action(exception: ExceptionLike) -> str:
    return str(getattr(exception.action, "value", exception.action)).lower()


def expand_series(series: SeriesLike, start_date: date, end_date: date, *,
                  zone: ZoneInfo | None = None) -> list[Occurrence]:
    """The occurrences of one series from ``start_date`` to ``end_date`` (both included).

    Exceptions apply: CANCEL removes an occurrence; MOVE gives it another date and/or a
    fixed start time (so one moved into the range from outside appears and one moved out
    disappears) and may give it another length; RESIZE gives it another length. An
    exception on a date the rule does not produce is ignored here; :func:`exception_problems`
    reports it. Sorted by date, then original date.
    """
    dates = occurrence_dates(series.rule, series.first_date, (start_date, end_date),
                             series.last_date, zone=zone)
    exceptions = series.exceptions
    if not exceptions and not dates:  # the common case when a day is planned: kept tight
        return []
    series_id = getattr(series, "id", None)
    duration = series.duration_minutes
    if not exceptions:
        return [Occurrence(series_id, day, day, duration) for day in dates]
    by_date = {e.original_date: e for e in exceptions}
    found = []
    for original in dates:
        exception = by_date.get(original)
        occurrence = (Occurrence(series_id, original, original, duration) if exception is None
                      else _apply(series_id, duration, original, exception))
        if occurrence is not None and start_date <= occurrence.date <= end_date:
            found.append(occurrence)
    for original, exception in by_date.items():
        # Moved in from outside the range: its original date was not expanded above.
        if (start_date <= original <= end_date or _action(exception) != MOVE
                or exception.new_date is None or not start_date <= exception.new_date <= end_date
                or not _series_occurs_on(series, original, zone)):
            continue
        occurrence = _apply(series_id, duration, original, exception)
        if occurrence is not None:
            found.append(occurrence)
    found.sort(key=lambda o: (o.date, o.original_date))
    return found


def _apply(series_id: int | None, duration: int, original: date,
           exception: ExceptionLike) -> Occurrence | None:
    action = _action(exception)
    new_length = exception.new_duration_minutes
    length = new_length if new_length is not None and new_length > 0 else duration
    if action == CANCEL:
        return None
    if action == MOVE:
        day = exception.new_date or original
        start = exception.new_start_time
        return Occurrence(series_id, original, day, length, start,
                          moved=day != original or start is not None)
    if action == RESIZE:
        return Occurrence(series_id, original, original, length)
    return Occurrence(series_id, original, original, duration)  # unknown action: ignored


def _series_occurs_on(series: SeriesLike, day: date, zone: ZoneInfo | None) -> bool:
    return occurs_on(series.rule, series.first_date, day, series.last_date, zone=zone)


def exception_problems(series: SeriesLike, *, zone: ZoneInfo | None = None) -> list[str]:
    """What is wrong with a series' exceptions, in words (empty when nothing is)."""
    problems = []
    seen: set[date] = set()
    for exception in sorted(series.exceptions, key=lambda e: e.original_date):
        day = exception.original_date
        action = _action(exception)
        if day in seen:
            problems.append(f"{day}: more than one exception for the same occurrence")
        seen.add(day)
        try:
            occurs = _series_occurs_on(series, day, zone)
        except RuleError:
            occurs = True  # the rule itself is reported by validate_rule
        if not occurs:
            problems.append(f"{day}: the series has no occurrence on that date "
                            f"({describe_rule(series.rule, series.first_date)})")
        if action not in (CANCEL, MOVE, RESIZE):
            problems.append(f"{day}: unknown action {action!r} (use cancel, move or resize)")
        if action == MOVE and exception.new_date is None and exception.new_start_time is None:
            problems.append(f"{day}: a move needs a new date or a new start time")
        if action == RESIZE and exception.new_duration_minutes is None:
            problems.append(f"{day}: a change of length needs the new length")
        length = exception.new_duration_minutes
        if length is not None and length <= 0:
            problems.append(f"{day}: the new length must be at least 1 minute, got {length}")
    return problems

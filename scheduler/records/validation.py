"""Checks on what people type, with messages that name the field and the problem.

Two kinds of check live here:
- *parsers* turn raw text or JSON values into typed values (``parse_time("end", "25:00")``
  fails with "end: expected a time as HH:MM ..."), for the API, the forms and the demo loader;
- *record checks* look at a whole record before it is saved (end before start, a rule that
  cannot be parsed, a visit longer than any window it could ever have, a series for an
  inactive client).

Both raise :class:`ValidationError`, which carries every problem found, not just the first, so
a form can show each message beside its field. Callers save inside one transaction and roll it
back on error, so a rejected change never loses what was already saved.

A little over 400 lines, one thing: the record checks are built from the parsers above them.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from scheduler import models
from scheduler.calendar.expand import first_occurrence, validate_rule
from scheduler.calendar.rules import RuleError
from scheduler.calendar.series import exception_problems
from scheduler.calendar.words import describe_rule
from scheduler.records.precautions import validate_flags

T = TypeVar("T")

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                 "Sundays")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(ValueError):
    """One or more fields are wrong. ``problems`` lists each with its field."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def by_field(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem.message)
        return grouped


class Problems:
    """Collects problems while checking a record, then raises them together."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(FieldProblem(field, message))

    def check(self, condition: bool, field: str, message: str) -> bool:
        if not condition:
            self.add(field, message)
        return condition

    def collect(self, parse: Callable[[], T]) -> T | None:
        """``parse()``'s value, or None with its problems kept, so that one answer can name
        every bad field of a request instead of the first."""
        try:
            return parse()
        except ValidationError as error:
            self.found.extend(error.problems)
            return None

    def raise_if_any(self) -> None:
        if self.found:
            raise ValidationError(self.found)


def fail(field: str, message: str) -> ValidationError:
    return ValidationError([FieldProblem(field, message)])


# ---------------------------------------------------------------------------------------------
# Parsers for raw values


_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_time(field: str, raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    match = _HHMM.match(str(raw).strip()) if isinstance(raw, str) else None
    if not match:
        raise fail(field, f"expected a time as HH:MM (24-hour clock), got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # not calendar.month_name: locale
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def not_a_date(text: str) -> str | None:
    """Why ``text``, written as YYYY-MM-DD, names no day ("2026-02-30 is not a date:
    February 2026 has 28 days"), or None when it does or is not written that way. A person
    who typed the right format made a slip of the calendar, not of the format: say which."""
    match = _YMD.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    shown = match.group(0)
    if not 1 <= month <= 12:
        return f"{shown} is not a date: months go from 01 to 12"
    if year == 0:
        return f"{shown} is not a date: years start at 0001"
    if day == 0:
        return f"{shown} is not a date: days start at 01"
    days = calendar.monthrange(year, month)[1]
    if day > days:
        return f"{shown} is not a date: {_MONTHS[month - 1]} {year} has {days} days"
    return None


def parse_date(field: str, raw: Any) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        why = not_a_date(raw) if isinstance(raw, str) else None
        raise fail(field, why or f"expected a date as YYYY-MM-DD, got {raw!r}") from None


def parse_int(field: str, raw: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    if isinstance(raw, bool):
        raise fail(field, f"expected a whole number, got {raw!r}")
    try:
        value = int(raw) if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        raise fail(field, f"expected a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise fail(field, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise fail(field, f"must be at most {maximum}, got {value}")
    return value


def parse_float(field: str, raw: Any, *, minimum: float, maximum: float) -> float:
    if isinstance(raw, bool):
        raise fail(field, f"expected a number, got {raw!r}")
    try:
        value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except ValueError:
        raise fail(field, f"expected a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise fail(field, f"must be between {minimum} and {maximum}, got {value}")
    return value


def parse_weekday(field: str, raw: Any) -> int:
    code = str(raw).strip().upper()
    if code not in WEEKDAY_CODES:
        raise fail(field, f"unknown weekday code {raw!r}; use one of {', '.join(WEEKDAY_CODES)}")
    return WEEKDAY_CODES.index(code)


def parse_time_range(field: str, raw: Any) -> tuple[time, time]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise fail(field, f"expected a pair [start, end] of HH:MM times, got {raw!r}")
    start, end = parse_time(f"{field}.start", raw[0]), parse_time(f"{field}.end", raw[1])
    if end <= start:
        raise fail(field, f"ends ({end:%H:%M}) before it starts ({start:%H:%M})")
    return start, end


def parse_weekly_hours(field: str, raw: Any) -> list[tuple[int, time, time]]:
    """{"MO": ["09:00", "17:00"], ...} -> [(0, 09:00, 17:00), ...]; a missing day is closed."""
    if not isinstance(raw, Mapping):
        raise fail(field, "expected weekday codes mapped to [start, end] pairs")
    problems = Problems()
    rows = []
    for code, pair in raw.items():
        try:
            weekday = parse_weekday(f"{field}.{code}", code)
            start, end = parse_time_range(f"{field}.{code}", pair)
        except ValidationError as error:
            problems.found.extend(error.problems)
            continue
        rows.append((weekday, start, end))
    problems.raise_if_any()
    return sorted(rows)


# ---------------------------------------------------------------------------------------------
# Record checks


def check_coordinates(problems: Problems, lat_field: str, lat: float | None, lon_field: str,
                      lon: float | None) -> None:
    if lat is not None:
        problems.check(-90 <= lat <= 90, lat_field,
                       f"latitude must be between -90 and 90, got {lat}")
    if lon is not None:
        problems.check(-180 <= lon <= 180, lon_field,
                       f"longitude must be between -180 and 180, got {lon}")
    problems.check((lat is None) == (lon is None), lat_field,
                   "give both latitude and longitude, or neither")


def _check_weekly(problems: Problems, field: str, rows: Iterable[Any], start: str,
                  end: str) -> None:
    for row in rows:
        begin, finish = getattr(row, start), getattr(row, end)
        name = WEEKDAY_CODES[row.weekday] if 0 <= row.weekday <= 6 else str(row.weekday)
        if not 0 <= row.weekday <= 6:
            problems.add(f"{field}.weekday", f"weekday must be 0-6, got {row.weekday}")
        elif finish <= begin:
            problems.add(f"{field}.{name}",
                         f"ends ({finish:%H:%M}) before it starts ({begin:%H:%M})")


def check_facility(facility: models.Facility) -> None:
    problems = Problems()
    problems.check(bool(facility.name and facility.name.strip()), "name", "is required")
    problems.check(bool(facility.address and facility.address.strip()), "address", "is required")
    check_coordinates(problems, "lat", facility.lat, "lon", facility.lon)
    problems.check((facility.overhead_minutes or 0) >= 0, "overhead_minutes",
                   f"must not be negative, got {facility.overhead_minutes}")
    _check_weekly(problems, "hours", facility.hours, "open", "close")
    problems.raise_if_any()


def check_therapist(therapist: models.Therapist) -> None:
    problems = Problems()
    problems.check(bool(therapist.name and therapist.name.strip()), "name", "is required")
    problems.check(bool(re.match(r"^[^@\s]+@[^@\s]+$", therapist.email or "")), "email",
                   f"is not an e-mail address: {therapist.email!r}")
    check_coordinates(problems, "home_lat", therapist.home_lat, "home_lon", therapist.home_lon)
    _check_weekly(problems, "shifts", therapist.shifts, "start", "end")
    if therapist.break_minutes:
        problems.check(therapist.break_minutes > 0, "break_minutes",
                       f"must not be negative, got {therapist.break_minutes}")
        if problems.check(therapist.break_start is not None and therapist.break_end is not None,
                          "break_start", "a break needs the window it may be taken in"):
            assert therapist.break_start is not None and therapist.break_end is not None
            window = _minutes(therapist.break_end) - _minutes(therapist.break_start)
            problems.check(window >= therapist.break_minutes, "break_end",
                           f"the break window ({window} min) is shorter than the break "
                           f"({therapist.break_minutes} min)")
    for name in ("max_visits_per_day", "max_hands_on_minutes"):
        value = getattr(therapist, name)
        problems.check(value is None or value > 0, name, f"must be positive, got {value}")
    if therapist.email_time is not None:
        problems.check(therapist.email_time >= time(3, 0), "email_time",
                       "must be 03:00 or later (the clocks change between 02:00 and 03:00)")
    for code in therapist.email_weekdays or []:
        problems.check(code in WEEKDAY_CODES, "email_weekdays", f"unknown weekday code {code!r}")
    problems.raise_if_any()


def check_client(client: models.Client) -> None:
    problems = Problems()
    problems.check(bool(client.first_name and client.first_name.strip()), "first_name",
                   "is required")
    problems.check(bool(client.last_name and client.last_name.strip()), "last_name",
                   "is required")
    problems.check(client.facility_id is not None or client.facility is not None, "facility_id",
                   "is required")
    for message in validate_flags(client.precaution_flags or []):
        problems.add("precaution_flags", message)
    problems.raise_if_any()


def check_treatment(treatment: models.Treatment) -> None:
    problems = Problems()
    problems.check(bool(treatment.kind and treatment.kind.strip()), "kind", "is required")
    _check_rule(problems, "rule", treatment.rule, treatment.first_date)
    problems.check(treatment.duration_minutes is not None and treatment.duration_minutes > 0,
                   "duration_minutes", f"must be positive, got {treatment.duration_minutes}")
    problems.check(treatment.duration_minutes is None or treatment.duration_minutes <= 24 * 60,
                   "duration_minutes", "must be at most 24 hours")
    for name in ("buffer_before_minutes", "buffer_after_minutes"):
        value = getattr(treatment, name) or 0
        problems.check(value >= 0, name, f"must not be negative, got {value}")
    if treatment.last_date is not None and not any(p.field == "rule" for p in problems.found):
        _check_last_date(problems, treatment.rule, treatment.first_date, treatment.last_date)
    problems.raise_if_any()


def _check_last_date(problems: Problems, rule: str, first: date, last: date) -> None:
    """The course ends on or after it starts, and the rule still gives a date in between."""
    if problems.check(last >= first, "last_date", f"ends ({last}) before it starts ({first})"):
        found = first_occurrence(rule, first)
        problems.check(found is not None and found <= last, "last_date",
                       f"{describe_rule(rule, first)} gives no date from {first} to {last}, "
                       "so it would never take place")


def check_series(session: Session, series: models.AppointmentSeries) -> None:
    """A series must make sense alone, and against its client, therapist and treatments."""
    problems = Problems()
    client = series.client or (session.get(models.Client, series.client_id)
                               if series.client_id else None)
    if client is not None or problems.check(False, "client_id", "no such client"):
        assert client is not None
        problems.check(client.active, "client_id",
                       "the client is inactive; reactivate the client before booking visits")
    if series.rule is not None:
        _check_rule(problems, "rule", series.rule, series.first_date)
    problems.check(series.duration_minutes is not None and series.duration_minutes > 0,
                   "duration_minutes", f"must be positive, got {series.duration_minutes}")
    problems.check(series.priority is not None and 0 <= series.priority <= 100, "priority",
                   f"must be between 0 and 100, got {series.priority}")
    if series.last_date is not None and series.first_date is not None:
        problems.check(series.last_date >= series.first_date, "last_date",
                       f"ends ({series.last_date}) before it starts ({series.first_date})")
    windows = _check_preferred_windows(problems, series.preferred_windows or [])
    if series.therapist_id is None and series.therapist is None:
        problems.check(bool(series.required_skills), "required_skills",
                       "choose a therapist, or the skills any therapist must have")
    during = series.during_treatment or (session.get(models.Treatment, series.during_treatment_id)
                                          if series.during_treatment_id else None)
    if during is not None and client is not None:
        problems.check(during.client_id == client.id, "during_treatment_id",
                       "the treatment belongs to another client")
        problems.check(during.policy == models.TreatmentPolicy.DURING, "during_treatment_id",
                       "the treatment does not allow visits during it (its policy is 'avoid')")
    if not problems.found and series.duration_minutes:
        longest = _longest_possible_window(client, windows, during)
        if longest is not None and series.duration_minutes > longest[0]:
            problems.add("duration_minutes",
                         f"a {series.duration_minutes}-minute visit is longer than any window it "
                         f"could have: {longest[1]} allows at most {longest[0]} minutes")
    problems.raise_if_any()


def check_exception(series: models.AppointmentSeries, exception: models.SeriesException) -> None:
    problems = Problems()
    action = exception.action
    if action == models.ExceptionAction.MOVE:
        problems.check(exception.new_date is not None or exception.new_start_time is not None,
                       "new_date", "a move needs a new date or a new start time")
    if action == models.ExceptionAction.RESIZE:
        problems.check(exception.new_duration_minutes is not None
                       and exception.new_duration_minutes > 0, "new_duration_minutes",
                       f"must be positive, got {exception.new_duration_minutes}")
    for message in exception_problems(series):
        problems.add("original_date", message)
    problems.raise_if_any()


# Longer than a year is almost surely a typo in the year ("2026-12-24" to "2027-12-26"); a
# leave that long is better modelled by deactivating the therapist.
TIME_OFF_MAX_DAYS = 366


def check_time_off(session: Session, entry: models.TimeOff) -> None:
    """Days in order, at most a year, and a therapist (if any) that exists."""
    problems = Problems()
    if entry.first_day is not None and entry.last_day is not None:
        if problems.check(entry.last_day >= entry.first_day, "last_day",
                          f"is before the first day ({entry.first_day.isoformat()})"):
            days = (entry.last_day - entry.first_day).days + 1
            problems.check(days <= TIME_OFF_MAX_DAYS, "last_day",
                           f"the time off would last {days} days; at most "
                           f"{TIME_OFF_MAX_DAYS} are allowed (is the year right?)")
    if entry.therapist_id is not None:
        problems.check(session.get(models.Therapist, entry.therapist_id) is not None,
                       "therapist_id", f"no therapist with id {entry.therapist_id}")
    problems.raise_if_any()


def _check_rule(problems: Problems, field: str, rule: str | None,
                first_date: date | None) -> None:
    if not rule or not rule.strip():
        problems.add(field, "is required")
        return
    try:
        validate_rule(rule, first_date)
    except RuleError as error:
        problems.add(field, str(error))


def _check_preferred_windows(problems: Problems, raw: list[Any]) -> list[tuple[time, time]]:
    windows = []
    for index, pair in enumerate(raw):
        try:
            windows.append(parse_time_range(f"preferred_windows[{index}]", pair))
        except ValidationError as error:
            problems.found.extend(error.problems)
    ordered = sorted(windows)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        problems.check(start >= end, "preferred_windows", "windows overlap; merge them into one")
    return windows


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _longest_possible_window(
    client: models.Client | None, windows: list[tuple[time, time]],
    during: models.Treatment | None,
) -> tuple[int, str] | None:
    """The longest stretch any occurrence could ever get, and the rule that caps it.

    Only rules that hold on every date are used (preferred windows, the facility's longest
    visiting day, a `during` treatment's length), so this never rejects a series that some
    day could fit.
    """
    caps: list[tuple[int, str]] = []
    if windows:
        longest = max(windows, key=lambda w: _minutes(w[1]) - _minutes(w[0]))
        caps.append((_minutes(longest[1]) - _minutes(longest[0]),
                     f"the preferred window {longest[0]:%H:%M}–{longest[1]:%H:%M}"))
    facility = client.facility if client is not None else None
    if facility is not None and facility.hours:
        day = max(facility.hours, key=lambda h: _minutes(h.close) - _minutes(h.open))
        caps.append((_minutes(day.close) - _minutes(day.open),
                     f"visiting hours {day.open:%H:%M}–{day.close:%H:%M}"))
    if during is not None:
        caps.append((during.duration_minutes, f"the {during.kind} it must take place during"))
    return min(caps) if caps else None

"""The rules on one visit's time, built from the records (duck typed: see the ``*Like``
protocols): the therapist's shift, the facility's visiting hours, the series' preferred
windows, the client's treatments (``avoid`` ones as blocks with their buffers, a ``during``
one as a bound), each labelled in words for the "why not" answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from scheduler.calendar.bounds import (
    DURING,
    PREFERRED,
    SHIFT,
    VISITING_HOURS,
    Block,
    Bound,
    Constraint,
    Interval,
)
from scheduler.calendar.local_time import local_epoch
from scheduler.calendar.treatments import TreatmentLike, treatment_epoch_intervals
from scheduler.calendar.words import describe_rule

# ---------------------------------------------------------------------------------------------
# Building the labelled rules from records


class HoursLike(Protocol):
    """A :class:`scheduler.models.VisitingHours` row."""

    @property
    def weekday(self) -> int: ...
    @property
    def open(self) -> time: ...
    @property
    def close(self) -> time: ...


class ShiftLike(Protocol):
    """A :class:`scheduler.models.Shift` row."""

    @property
    def weekday(self) -> int: ...
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...


_WEEKDAY_PLURALS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
                    "Sundays")
_MIDNIGHT = time()

# The builders below are called for every visit of every day. The rules they build depend
# only on plain values (times, a rule, a day), so each is computed once per distinct value
# and day: the records are read into tuples first, and the cached function sees no objects
# that could change under it.


def local_interval(day: date, start: time, end: time, zone: ZoneInfo) -> Interval:
    """Unix seconds of a local [start, end) on ``day``; an end at or before the start (00:00
    for midnight) is on the next day."""
    end_day = day if end > start else day + timedelta(days=1)
    return local_epoch(day, start, zone), local_epoch(end_day, end, zone)


def _hhmm(value: time, end: bool = False) -> str:
    if end and value == _MIDNIGHT:
        return "24:00"
    return f"{value.hour:02d}:{value.minute:02d}"


def _times(times: Iterable[tuple[time, time]]) -> str:
    return ", ".join(f"{_hhmm(start)}–{_hhmm(end, end=True)}" for start, end in times)


@lru_cache(maxsize=8192)
def _weekly_bound(kind: str, rows: tuple[tuple[int, time, time], ...], day: date,
                  zone: ZoneInfo) -> Bound:
    """Visiting hours or shifts on ``day`` from weekday rows (overnight rows of the day
    before reach into it too)."""
    weekday, yesterday = day.weekday(), day - timedelta(days=1)
    intervals, times = [], []
    for row_weekday, start, end in rows:
        if row_weekday == weekday:
            intervals.append(local_interval(day, start, end, zone))
            times.append((start, end))
        elif row_weekday == yesterday.weekday() and end <= start and end != _MIDNIGHT:
            intervals.append(local_interval(yesterday, start, end, zone))
    times.sort()
    if kind == VISITING_HOURS:
        label = (f"visiting hours {_times(times)}" if times
                 else f"closed on {_WEEKDAY_PLURALS[weekday]}")
        return Bound(label, tuple(intervals), kind, "visiting hours", ("open", "close"))
    label = f"shift {_times(times)}" if times else f"no shift on {_WEEKDAY_PLURALS[weekday]}"
    return Bound(label, tuple(intervals), kind, "shift")


def visiting_hours_bound(hours: Iterable[HoursLike], day: date, zone: ZoneInfo) -> Bound:
    """The facility's visiting hours on ``day``; a weekday without hours is closed."""
    weekdays = (day.weekday(), (day.weekday() - 1) % 7)
    rows = tuple([(h.weekday, h.open, h.close) for h in hours if h.weekday in weekdays])
    return _weekly_bound(VISITING_HOURS, rows, day, zone)


def shift_bound(shifts: Iterable[ShiftLike], day: date, zone: ZoneInfo) -> Bound:
    """The therapist's shift(s) on ``day``; a weekday without a shift is a day off."""
    weekdays = (day.weekday(), (day.weekday() - 1) % 7)
    rows = tuple([(s.weekday, s.start, s.end) for s in shifts if s.weekday in weekdays])
    return _weekly_bound(SHIFT, rows, day, zone)


def preferred_bound(windows: Iterable[Sequence[str | time]], day: date,
                    zone: ZoneInfo) -> Bound | None:
    """The series' preferred windows (``[["09:00", "12:00"], ...]``); None when there are
    none, which means any time."""
    pairs = tuple((pair[0], pair[1]) for pair in windows)
    return _preferred_bound(pairs, day, zone) if pairs else None


@lru_cache(maxsize=8192)
def _preferred_bound(pairs: tuple[tuple[str | time, str | time], ...], day: date,
                     zone: ZoneInfo) -> Bound:
    times = sorted((_clock_time(start), _clock_time(end)) for start, end in pairs)
    intervals = tuple(local_interval(day, start, end, zone) for start, end in times)
    return Bound(f"preferred {_times(times)}", intervals, PREFERRED, "preferred window")


def _clock_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (AttributeError, ValueError):
        raise ValueError(f"preferred_windows: expected a time as HH:MM, got {value!r}") from None


class ClientTreatmentLike(TreatmentLike, Protocol):
    """What the builders read from a :class:`scheduler.models.Treatment`."""

    @property
    def kind(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def policy(self) -> str: ...  # "avoid" or "during" (or the TreatmentPolicy enum)
    @property
    def buffer_before_minutes(self) -> int: ...
    @property
    def buffer_after_minutes(self) -> int: ...
    @property
    def facility_id(self) -> int | None: ...


class _TreatmentValues(NamedTuple):
    """What a treatment's blocks depend on, read once from the record."""

    name: str
    rule: str | None
    first_date: date
    last_date: date | None
    start_time: time
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    policy: str
    away: bool  # at another facility than the client's own


def _values(treatment: ClientTreatmentLike,
            home_facility_id: int | None = None) -> _TreatmentValues:
    policy = treatment.policy or "avoid"
    elsewhere = treatment.facility_id
    return _TreatmentValues(
        (treatment.label or treatment.kind or "treatment").strip(),
        treatment.rule,
        treatment.first_date,
        getattr(treatment, "last_date", None),
        treatment.start_time,
        treatment.duration_minutes,
        treatment.buffer_before_minutes or 0,
        treatment.buffer_after_minutes or 0,
        str(getattr(policy, "value", policy)).lower(),
        home_facility_id is not None and elsewhere not in (None, home_facility_id),
    )


def treatment_label(treatment: ClientTreatmentLike, buffers: bool = True) -> str:
    """E.g. "dialysis Mon/Wed/Fri 06:00–10:00 + 60 min after"."""
    return _label(_values(treatment), buffers)


@lru_cache(maxsize=8192)
def _label(values: _TreatmentValues, buffers: bool = True) -> str:
    end = (datetime.combine(values.first_date, values.start_time)
           + timedelta(minutes=values.duration_minutes)).time()
    label = (f"{values.name} {describe_rule(values.rule, values.first_date)} "
             f"{_hhmm(values.start_time)}–{_hhmm(end, end=True)}")
    before, after = values.buffer_before_minutes, values.buffer_after_minutes
    parts = [f"{before} min before"] * bool(before and buffers) \
        + [f"{after} min after"] * bool(after and buffers)
    if parts:
        label += " + " + " and ".join(parts)
    if values.away and buffers:
        label += " (away at another facility)"
    return label


def treatment_blocks(treatments: Iterable[ClientTreatmentLike], day: date, zone: ZoneInfo,
                     home_facility_id: int | None = None) -> list[Block]:
    """A block for each occurrence of each `avoid` treatment whose time or buffers touch
    ``day``. `during` treatments are skipped: they bound a visit only when it asks for one
    (:func:`during_bound`). A treatment at another facility than ``home_facility_id`` still
    blocks, since the client is away; its label says so."""
    blocks: list[Block] = []
    for treatment in treatments:
        policy = treatment.policy or "avoid"
        if policy != "avoid" and str(getattr(policy, "value", policy)).lower() != "avoid":
            continue
        before = (treatment.buffer_before_minutes or 0) * 60
        after = (treatment.buffer_after_minutes or 0) * 60
        intervals = treatment_epoch_intervals(treatment, day, zone, before, after)
        if intervals:  # words only for the treatments that touch the day
            label = _label(_values(treatment, home_facility_id))
            blocks.extend([Block(label, interval, before, after) for interval in intervals])
    return blocks


def during_bound(treatment: ClientTreatmentLike, day: date, zone: ZoneInfo) -> Bound:
    """The treatment a visit must lie inside (chair-side during dialysis); on a day without
    it the bound is empty and says so."""
    return _during_bound(_values(treatment), day, zone)


@lru_cache(maxsize=8192)
def _during_bound(values: _TreatmentValues, day: date, zone: ZoneInfo) -> Bound:
    intervals = treatment_epoch_intervals(values, day, zone)
    if intervals:
        return Bound(f"during {_label(values, False)}", tuple(intervals), DURING, values.name)
    label = (f"{_label(values, False)} does not take place on {day:%a} {day.isoformat()}, "
             "and the visit must be during it")
    return Bound(label, (), DURING, values.name)


def visit_constraints(
    day: date,
    zone: ZoneInfo,
    *,
    hours: Iterable[HoursLike] | None = None,
    shifts: Iterable[ShiftLike] | None = None,
    preferred: Iterable[Sequence[str | time]] = (),
    treatments: Iterable[ClientTreatmentLike] = (),
    during: ClientTreatmentLike | None = None,
    home_facility_id: int | None = None,
) -> list[Constraint]:
    """Every rule for one visit on ``day``, labelled; ``None`` for hours or shifts leaves
    that rule out (an empty list means closed / no shift)."""
    constraints: list[Constraint] = []
    if shifts is not None:
        constraints.append(shift_bound(shifts, day, zone))
    if hours is not None:
        constraints.append(visiting_hours_bound(hours, day, zone))
    wanted = preferred_bound(preferred, day, zone)
    if wanted is not None:
        constraints.append(wanted)
    if during is not None:
        constraints.append(during_bound(during, day, zone))
    constraints.extend(treatment_blocks(treatments, day, zone, home_facility_id))
    return constraints

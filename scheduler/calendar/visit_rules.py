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
from scheduler.calendar.local_time import from_epoch, local_epoch
from scheduler.calendar.treatments import (
    Displaced,
    TreatmentChange,
    TreatmentLike,
    TreatmentOccurrence,
    changes_of,
    displaced_occurrences,
    treatment_epoch_intervals,
    treatment_occurrences,
)
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
    """What a treatment's blocks depend on, read once from the record: the cache key of
    :func:`_during_bound`, so its last date and every exception are in it (an occurrence
    moved after a day was computed must not be served from the cache)."""

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
    exceptions: tuple[TreatmentChange, ...] = ()


def _values(treatment: ClientTreatmentLike, home_facility_id: int | None = None, *,
            changes: bool = True) -> _TreatmentValues:
    """The treatment's values; without its exceptions when only its rule's label is wanted
    (they are read for every block of every visit otherwise)."""
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
        changes_of(treatment) if changes else (),
    )


def treatment_label(treatment: ClientTreatmentLike, buffers: bool = True) -> str:
    """E.g. "dialysis Mon/Wed/Fri 06:00–10:00 + 60 min after"."""
    return _label(_values(treatment, changes=False), buffers)


def _label(values: _TreatmentValues, buffers: bool = True) -> str:
    return _rule_label(values._replace(exceptions=()) if values.exceptions else values, buffers)


@lru_cache(maxsize=8192)
def _rule_label(values: _TreatmentValues, buffers: bool) -> str:
    """The label of the rule itself (the same whatever the exceptions, so cached without)."""
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
    ``day``, after the treatment's exceptions (a cancelled occurrence blocks nothing, a
    moved one blocks its new time, and its label says it was moved). `during` treatments
    are skipped: they bound a visit only when it asks for one (:func:`during_bound`). A
    treatment at another facility than ``home_facility_id`` still blocks, since the client
    is away; its label says so."""
    blocks: list[Block] = []
    for treatment in treatments:
        policy = treatment.policy or "avoid"
        if policy != "avoid" and str(getattr(policy, "value", policy)).lower() != "avoid":
            continue
        before = (treatment.buffer_before_minutes or 0) * 60
        after = (treatment.buffer_after_minutes or 0) * 60
        if getattr(treatment, "exceptions", None):
            occurrences = treatment_occurrences(treatment, day, zone, before, after)
            if occurrences:  # words only for the treatments that touch the day
                label = _label(_values(treatment, home_facility_id, changes=False))
                blocks.extend([Block(_moved_label(label, o, day, zone) if o.moved else label,
                                     (o.start, o.end), before, after) for o in occurrences])
            continue
        intervals = treatment_epoch_intervals(treatment, day, zone, before, after)
        if intervals:
            label = _label(_values(treatment, home_facility_id, changes=False))
            blocks.extend([Block(label, interval, before, after) for interval in intervals])
    return blocks


def during_bound(treatment: ClientTreatmentLike, day: date, zone: ZoneInfo) -> Bound:
    """The treatment a visit must lie inside (chair-side during dialysis), where it is that
    day after its exceptions; on a day without it (none in the rule, cancelled, moved to
    another day) the bound is empty and says why."""
    return _during_bound(_values(treatment), day, zone)


@lru_cache(maxsize=8192)
def _during_bound(values: _TreatmentValues, day: date, zone: ZoneInfo) -> Bound:
    occurrences = treatment_occurrences(values, day, zone)
    label = _label(values, False)
    if occurrences:
        for moved in (o for o in occurrences if o.moved):
            label = _moved_label(label, moved, day, zone)
        return Bound(f"during {label}", tuple((o.start, o.end) for o in occurrences), DURING,
                     values.name)
    displaced = displaced_occurrences(values, day, zone)
    if displaced:
        return Bound(f"{label} {_displaced_words(displaced[0], zone)}, and the visit must be "
                     "during it", (), DURING, values.name)
    label = (f"{label} does not take place on {day:%a} {day.isoformat()}, "
             "and the visit must be during it")
    return Bound(label, (), DURING, values.name)


def _span(occurrence: TreatmentOccurrence, zone: ZoneInfo) -> str:
    """"08:00–12:00" as the clocks show it (a start in the spring gap, 02:30, shows as 03:30;
    the end after the real length)."""
    start, end = from_epoch(occurrence.start, zone), from_epoch(occurrence.end, zone)
    return f"{_hhmm(start.time())}–{_hhmm(end.time(), end=True)}"


def _moved_label(label: str, occurrence: TreatmentOccurrence, day: date, zone: ZoneInfo) -> str:
    """E.g. "…, moved to 08:00–12:00 on this day", "…, moved from Mon 2026-12-07 to
    08:00–12:00 on this day"."""
    original = occurrence.original_date
    source = f" from {original:%a} {original.isoformat()}" if original != occurrence.date else ""
    where = ("on this day" if occurrence.date == day
             else f"on {occurrence.date:%a} {occurrence.date.isoformat()}")
    return f"{label}, moved{source} to {_span(occurrence, zone)} {where}"


def _displaced_words(displaced: Displaced, zone: ZoneInfo) -> str:
    """E.g. "is cancelled on Mon 2026-12-07", "is moved from Mon 2026-12-07 to Tue
    2026-12-08 08:00–12:00"."""
    original = displaced.original_date
    when = f"{original:%a} {original.isoformat()}"
    moved = displaced.moved_to
    if moved is None:
        return f"is cancelled on {when}"
    return (f"is moved from {when} to {moved.date:%a} {moved.date.isoformat()} "
            f"{_span(moved, zone)}")


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

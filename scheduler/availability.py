"""When a visit may happen on one day, and why not at any other time.

    allowed = shift ∩ visiting hours ∩ preferred windows (∩ the `during` treatment)
              − every `avoid` treatment of the client, buffers included

The rules come in two shapes, each carrying its label in words:

- a :class:`Bound` is time the whole visit must lie within ("shift 07:30–16:30",
  "visiting hours 09:00–17:00", "preferred 09:00–12:00", "during dialysis ...");
- a :class:`Block` is time no part of the visit may touch ("dialysis Mon/Wed/Fri
  06:00–10:00 + 60 min after"), with its buffers.

:func:`compute_availability` turns a day's rules into an :class:`Availability`: the windows
where the *whole* visit fits (a free stretch [a, b] lets the visit start from a until
b − length), each remembering the rules that made its two edges; every piece of time taken
away with the rule that took it; and, when nothing is left, the reasons in words.

All arithmetic is on whole Unix seconds (what the optimizer takes), so the days the clocks
change need no special case here: the local times are turned into instants once, by
:mod:`scheduler.recurrence`, before the intervals are built. The builders at the end make
labelled rules from model-like objects (duck typed, see the ``*Like`` protocols).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from scheduler.recurrence import (
    TreatmentLike,
    describe_rule,
    from_epoch,
    local_day_epochs,
    local_epoch,
    to_epoch,
    treatment_epoch_intervals,
)

Interval = tuple[int, int]  # [start, end) in Unix seconds

SHIFT = "shift"
VISITING_HOURS = "visiting hours"
PREFERRED = "preferred"
DURING = "during"
OTHER = "other"
# Bounds are applied in this order, so the time outside all of them is put down to the first
# (the therapist's shift), and each later bound is named for what it takes from the rest.
_KIND_ORDER = {SHIFT: 0, VISITING_HOURS: 1, PREFERRED: 2, DURING: 3, OTHER: 4}

DAY_START = "start of the day"
DAY_END = "end of the day"


# ---------------------------------------------------------------------------------------------
# The rules


@dataclass(frozen=True)
class Bound:
    """Time the whole visit must lie within: one or more intervals, and their words.

    ``name`` and ``verbs`` word the edges: name "shift" with verbs ("starts", "ends") says
    "shift ends 16:30" for the time taken after it. A bound with no intervals takes the
    whole day, worded by its ``label`` ("closed on Sundays").
    """

    label: str
    intervals: tuple[Interval, ...]
    kind: str = OTHER
    name: str = ""
    verbs: tuple[str, str] = ("starts", "ends")
    order: tuple[object, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", _merge(self.intervals, self.label))
        # The fixed order bounds are applied in (see _KIND_ORDER), computed once.
        object.__setattr__(self, "order", (_KIND_ORDER.get(self.kind, len(_KIND_ORDER)),
                                           self.kind, self.label, self.intervals, self.name,
                                           self.verbs))


@dataclass(frozen=True)
class Block:
    """Time no part of the visit may touch: ``interval`` plus the buffers (seconds) around it."""

    label: str
    interval: Interval
    buffer_before: int = 0
    buffer_after: int = 0
    span: Interval = field(init=False, repr=False, compare=False)  # interval with buffers

    def __post_init__(self) -> None:
        start, end = self.interval
        if end < start:
            raise ValueError(f"{self.label}: ends before it starts")
        if self.buffer_before < 0 or self.buffer_after < 0:
            raise ValueError(f"{self.label}: buffers must not be negative")
        object.__setattr__(self, "interval", (int(start), int(end)))
        object.__setattr__(self, "span", (int(start) - self.buffer_before,
                                          int(end) + self.buffer_after))


Constraint = Bound | Block


def _merge(intervals: Iterable[Sequence[int]], label: str) -> tuple[Interval, ...]:
    """Sorted, overlapping and touching intervals joined, empty ones dropped."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals):
        if end < start:
            raise ValueError(f"{label}: an interval ends before it starts")
        if end == start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


# ---------------------------------------------------------------------------------------------
# The result


# The pieces of a result are named tuples: there are several per visit and tens of thousands
# of visits a year, and a named tuple is built four times faster than a frozen dataclass.


class Free(NamedTuple):
    """A stretch of free time, and the rules that made its edges (labels)."""

    start: int
    end: int
    opened_by: str
    closed_by: str


class Window(NamedTuple):
    """Where the whole visit fits: it may start from ``start_from`` to ``start_until``.

    ``free_start``/``free_end`` is the free stretch itself (``start_until`` is
    ``free_end`` minus the visit's length); ``opened_by``/``closed_by`` are the labels of
    the rules that made the stretch's edges.
    """

    free_start: int
    free_end: int
    start_from: int
    start_until: int
    opened_by: str
    closed_by: str

    @property
    def start_window(self) -> Interval:
        return self.start_from, self.start_until


class Removal(NamedTuple):
    """A piece of the day a rule took away: ``rule`` is its label, ``why`` words the piece."""

    start: int
    end: int
    rule: str
    why: str


@dataclass(frozen=True)
class Availability:
    """The windows of one visit on one day, and what took the rest of the day away.

    ``removed`` attributes each piece of time: the bounds in the order shift, visiting
    hours, preferred windows, during, others, each for what it takes from the time the ones
    before it left (so the night goes to the shift, "shift starts 07:30"); each block for
    the time it takes from what the bounds allow (two overlapping treatments are both named
    for the minutes they share).
    """

    day: date
    zone: ZoneInfo
    duration: int  # seconds
    day_start: int
    day_end: int
    windows: tuple[Window, ...]
    free: tuple[Free, ...]  # every free stretch, also those too short for the visit
    fixed_start: int | None = None
    _taken: tuple[tuple[int, int, Constraint], ...] = field(default=(), repr=False)

    @property
    def is_empty(self) -> bool:
        return not self.windows

    @property
    def duration_minutes(self) -> int:
        return self.duration // 60

    def epoch_windows(self) -> list[Interval]:
        """The start windows as Unix seconds, as the optimizer's ``time_windows`` takes them."""
        return [w.start_window for w in self.windows]

    def fits(self, start: int | datetime) -> bool:
        """Whether the visit may start at ``start`` (whatever the fixed start)."""
        at = start if isinstance(start, int) else to_epoch(start)
        return any(f.start <= at and at + self.duration <= f.end for f in self.free)

    def clock(self, seconds: int) -> str:
        """"HH:MM" of an instant, "24:00" at the end of the day, with the zone's abbreviation
        on the days the clocks change (when 01:30 can mean two instants)."""
        if seconds == self.day_end:
            text = "24:00"
            moment = from_epoch(seconds - 1, self.zone)
        else:
            moment = from_epoch(seconds, self.zone)
            text = moment.strftime("%H:%M")
            if moment.date() != self.day:
                text = f"{moment:%a} {text}"
        if self.day_end - self.day_start != 86_400:
            text += f" {moment:%Z}"
        return text

    @cached_property
    def removed(self) -> tuple[Removal, ...]:
        """Every piece of the day taken away, with the rule that took it, in time order."""
        pieces = [Removal(start, end, rule.label, self._why(rule, start, end))
                  for start, end, rule in self._taken]
        return tuple(sorted(pieces, key=lambda r: (r.start, r.end, r.rule)))

    def _why(self, rule: Constraint, start: int, end: int) -> str:
        if isinstance(rule, Block):
            return rule.label
        if not rule.intervals:
            return rule.label
        name = rule.name or rule.label
        opens, closes = rule.verbs
        ended = [e for _, e in rule.intervals if e <= start]
        begins = [s for s, _ in rule.intervals if s >= end]
        if ended and begins:
            return (f"{name} {closes} {self.clock(ended[-1])}, "
                    f"{opens} again {self.clock(begins[0])}")
        if begins:
            return f"{name} {opens} {self.clock(begins[0])}"
        if ended:
            return f"{name} {closes} {self.clock(ended[-1])}"
        return rule.label

    def why_not(self, start: int | datetime) -> list[str]:
        """Why the visit cannot start at ``start``: the words of every rule in its way."""
        at = start if isinstance(start, int) else to_epoch(start)
        if self.fits(at):
            return []
        words = []
        if at < self.day_start or at + self.duration > self.day_end:
            words.append("the visit would not lie within the day")
        for removal in self.removed:
            if removal.start < at + self.duration and removal.end > at \
                    and removal.why not in words:
                words.append(removal.why)
        return words

    @cached_property
    def reasons(self) -> tuple[str, ...]:
        """Why there is no window, in words; empty when there is one."""
        if self.windows:
            return ()
        reasons = []
        if self.fixed_start is not None:
            reasons.append(f"the fixed start {self.clock(self.fixed_start)} does not fit: "
                           + "; ".join(self.why_not(self.fixed_start)))
            if visit_fits_any_window(self):
                return tuple(reasons)  # other starts would do: the fixed one is the reason
        by_why: dict[str, list[Removal]] = {}
        for removal in self.removed:
            by_why.setdefault(removal.why, []).append(removal)
        for why, pieces in by_why.items():
            spans = ", ".join(f"{self.clock(p.start)}–{self.clock(p.end)}" for p in pieces)
            reasons.append(f"{why} (takes {spans})")
        minutes = self.duration_minutes
        if not self.free:
            reasons.append("no free time is left that day")
        for piece in self.free:
            reasons.append(
                f"only free between {self.clock(piece.start)} and {self.clock(piece.end)} "
                f"(between {piece.opened_by} and {piece.closed_by}), "
                f"shorter than the {minutes}-minute visit")
        return tuple(reasons)


# ---------------------------------------------------------------------------------------------
# The computation


def compute_availability(
    day: date,
    zone: ZoneInfo,
    duration_minutes: int,
    constraints: Iterable[Constraint],
    fixed_start: time | datetime | int | None = None,
) -> Availability:
    """The windows of a visit of ``duration_minutes`` on ``day`` under ``constraints``.

    With ``fixed_start`` (a local time that day, an aware datetime or Unix seconds: a moved
    occurrence or a pinned stop) the only possible start is that one: the result has one
    window of that single start if the whole visit fits there, none otherwise. The order of
    ``constraints`` does not matter; the result is the same for any order.
    """
    if duration_minutes <= 0:
        raise ValueError(f"the visit's length must be positive, got {duration_minutes} minutes")
    duration = duration_minutes * 60
    day_start, day_end = local_day_epochs(day, zone)
    bounds: list[Bound] = []
    blocks: list[Block] = []
    for constraint in constraints:
        if isinstance(constraint, Bound):
            bounds.append(constraint)
        elif isinstance(constraint, Block):
            blocks.append(constraint)
        else:
            raise TypeError(f"a constraint must be a Bound or a Block, got {constraint!r}")
    bounds.sort(key=_bound_order)
    blocks.sort(key=_block_order)  # a fixed order, so that any input order gives one result

    taken: list[tuple[int, int, Constraint]] = []
    segments = [(day_start, day_end, DAY_START, DAY_END)]
    for bound in bounds:
        segments = _intersect(segments, bound, taken)
    bounded = segments
    for block in blocks:
        _take(bounded, block, taken)
        segments = _subtract(segments, block)

    free = tuple(map(Free._make, segments))
    start = _fixed_epoch(fixed_start, day, zone)
    if start is None:
        windows = tuple(Window(a, b, a, b - duration, left, right)
                        for a, b, left, right in segments if b - a >= duration)
    else:
        windows = tuple(Window(a, b, start, start, left, right)
                        for a, b, left, right in segments
                        if a <= start and start + duration <= b)
    return Availability(day=day, zone=zone, duration=duration, day_start=day_start,
                        day_end=day_end, windows=windows, free=free, fixed_start=start,
                        _taken=tuple(taken))


def _bound_order(bound: Bound) -> tuple[object, ...]:
    return bound.order


def _block_order(block: Block) -> tuple[object, ...]:
    return block.span, block.interval, block.label, block.buffer_before


Segment = tuple[int, int, str, str]  # start, end, label of the left edge, of the right edge


def _intersect(segments: list[Segment], bound: Bound,
               taken: list[tuple[int, int, Constraint]]) -> list[Segment]:
    """Keep the parts of ``segments`` inside ``bound``; the rest goes to ``taken``.

    An edge keeps its old label when the bound's edge coincides with it, so the rule that
    came first (in the fixed order) is named for it.
    """
    kept: list[Segment] = []
    intervals = bound.intervals
    label = bound.label
    for a, b, left, right in segments:
        cursor = a
        for c, d in intervals:
            if d <= a:
                continue
            if c >= b:
                break
            low = c if c > a else a
            high = d if d < b else b
            if low > cursor:
                taken.append((cursor, low, bound))
            kept.append((low, high, label if c > a else left, label if d < b else right))
            cursor = high
        if cursor < b:
            taken.append((cursor, b, bound))
    return kept


def _take(bounded: list[Segment], block: Block,
          taken: list[tuple[int, int, Constraint]]) -> None:
    """Record what ``block`` takes from the time the bounds allow, whatever other blocks take."""
    start, end = block.span
    for a, b, _, _ in bounded:
        low, high = max(a, start), min(b, end)
        if low < high:
            taken.append((low, high, block))


def _subtract(segments: list[Segment], block: Block) -> list[Segment]:
    """Cut ``block`` (with its buffers) out of ``segments``."""
    start, end = block.span
    if end <= start:
        return segments
    kept: list[Segment] = []
    for segment in segments:
        a, b, left, right = segment
        if end <= a or start >= b:
            kept.append(segment)
            continue
        if a < start:
            kept.append((a, start, left, block.label))
        if end < b:
            kept.append((end, b, block.label, right))
    return kept


def _fixed_epoch(fixed: time | datetime | int | None, day: date, zone: ZoneInfo) -> int | None:
    if fixed is None or isinstance(fixed, int):
        return fixed
    if isinstance(fixed, datetime):
        return to_epoch(fixed)
    return local_epoch(day, fixed, zone)


# ---------------------------------------------------------------------------------------------
# Validation helpers


def longest_free_minutes(availability: Availability) -> int:
    """The longest free stretch of the day, in whole minutes (0 when none is left)."""
    return max(((f.end - f.start) // 60 for f in availability.free), default=0)


def visit_fits_any_window(availability: Availability, duration_minutes: int | None = None) -> bool:
    """Whether a visit of ``duration_minutes`` (the availability's own length by default)
    fits in some free stretch of that day; the fixed start, if any, is not held to."""
    length = availability.duration if duration_minutes is None else duration_minutes * 60
    return any(f.end - f.start >= length for f in availability.free)


def describe_availability(availability: Availability) -> dict[str, object]:
    """The availability as plain data (ISO-8601 times, words), e.g. for ``--json`` output."""

    def iso(seconds: int) -> str:
        return from_epoch(seconds, availability.zone).isoformat()

    return {
        "date": availability.day.isoformat(),
        "duration_minutes": availability.duration_minutes,
        "windows": [{"free_from": iso(w.free_start), "free_until": iso(w.free_end),
                     "start_from": iso(w.start_from), "start_until": iso(w.start_until),
                     "opened_by": w.opened_by, "closed_by": w.closed_by}
                    for w in availability.windows],
        "removed": [{"from": iso(r.start), "until": iso(r.end), "rule": r.rule, "why": r.why}
                    for r in availability.removed],
        "reasons": list(availability.reasons),
    }


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
    rows = tuple(sorted((h.weekday, h.open, h.close) for h in hours))
    return _weekly_bound(VISITING_HOURS, rows, day, zone)


def shift_bound(shifts: Iterable[ShiftLike], day: date, zone: ZoneInfo) -> Bound:
    """The therapist's shift(s) on ``day``; a weekday without a shift is a day off."""
    rows = tuple(sorted((s.weekday, s.start, s.end) for s in shifts))
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


def _values(treatment: TreatmentLike, home_facility_id: int | None = None) -> _TreatmentValues:
    policy = getattr(treatment, "policy", None) or "avoid"
    elsewhere = getattr(treatment, "facility_id", None)
    return _TreatmentValues(
        name=(getattr(treatment, "label", "") or getattr(treatment, "kind", "")
              or "treatment").strip(),
        rule=treatment.rule,
        first_date=treatment.first_date,
        last_date=getattr(treatment, "last_date", None),
        start_time=treatment.start_time,
        duration_minutes=treatment.duration_minutes,
        buffer_before_minutes=getattr(treatment, "buffer_before_minutes", 0) or 0,
        buffer_after_minutes=getattr(treatment, "buffer_after_minutes", 0) or 0,
        policy=str(getattr(policy, "value", policy)).lower(),
        away=home_facility_id is not None and elsewhere not in (None, home_facility_id),
    )


def treatment_label(treatment: TreatmentLike, buffers: bool = True) -> str:
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


def treatment_blocks(treatments: Iterable[TreatmentLike], day: date, zone: ZoneInfo,
                     home_facility_id: int | None = None) -> list[Block]:
    """A block for each occurrence of each `avoid` treatment whose time or buffers touch
    ``day``. `during` treatments are skipped: they bound a visit only when it asks for one
    (:func:`during_bound`). A treatment at another facility than ``home_facility_id`` still
    blocks, since the client is away; its label says so."""
    blocks: list[Block] = []
    for treatment in treatments:
        values = _values(treatment, home_facility_id)
        if values.policy == "avoid":
            blocks.extend(_blocks(values, day, zone))
    return blocks


@lru_cache(maxsize=16_384)
def _blocks(values: _TreatmentValues, day: date, zone: ZoneInfo) -> tuple[Block, ...]:
    before, after = values.buffer_before_minutes * 60, values.buffer_after_minutes * 60
    intervals = treatment_epoch_intervals(values, day, zone, before, after)
    label = _label(values)
    return tuple(Block(label, interval, before, after) for interval in intervals)


def during_bound(treatment: TreatmentLike, day: date, zone: ZoneInfo) -> Bound:
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
    treatments: Iterable[TreatmentLike] = (),
    during: TreatmentLike | None = None,
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

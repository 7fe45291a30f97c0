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
:mod:`.local_time`, before the intervals are built. The rules themselves are in
:mod:`.bounds`; :mod:`.visit_rules` builds them from the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from scheduler.calendar.bounds import DAY_END, DAY_START, Block, Bound, Constraint, Interval
from scheduler.calendar.local_time import from_epoch, local_day_epochs, local_epoch, to_epoch

# ---------------------------------------------------------------------------------------------
# The result


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


class Availability:
    """The windows of one visit on one day, and what took the rest of the day away.

    ``windows`` are where the whole visit fits; ``free`` every free stretch, also those too
    short for the visit. ``removed`` attributes each piece of time taken: the bounds in the
    order shift, visiting hours, preferred windows, during, others, each for what it takes
    from the time the ones before it left (so the night goes to the shift, "shift starts
    07:30"); each block for the time it takes from what the bounds allow (two overlapping
    treatments are both named for the minutes they share). ``reasons`` says in words why
    there is no window. Times are Unix seconds; the words are only built when asked for.
    """

    __slots__ = ("day", "zone", "duration", "day_start", "day_end", "windows", "fixed_start",
                 "_segments", "_taken", "_free", "_removed", "_reasons")

    def __init__(self, day: date, zone: ZoneInfo, duration: int, day_start: int, day_end: int,
                 windows: tuple[Window, ...], segments: tuple[Segment, ...],
                 fixed_start: int | None, taken: tuple[tuple[int, int, Constraint], ...]):
        self.day, self.zone, self.duration = day, zone, duration  # duration in seconds
        self.day_start, self.day_end = day_start, day_end
        self.windows, self.fixed_start = windows, fixed_start
        self._segments, self._taken = segments, taken
        self._free: tuple[Free, ...] | None = None
        self._removed: tuple[Removal, ...] | None = None
        self._reasons: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return (f"Availability(day={self.day}, duration={self.duration}, "
                f"windows={self.windows!r})")

    @property
    def free(self) -> tuple[Free, ...]:
        """Every free stretch of the day, also those too short for the visit."""
        if self._free is None:
            self._free = tuple(map(Free._make, self._segments))
        return self._free

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
        return any(a <= at and at + self.duration <= b for a, b, _, _ in self._segments)

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

    @property
    def removed(self) -> tuple[Removal, ...]:
        """Every piece of the day taken away, with the rule that took it, in time order."""
        if self._removed is None:
            pieces = [Removal(start, end, rule.label, self._why(rule, start, end))
                      for start, end, rule in self._taken]
            self._removed = tuple(sorted(pieces, key=lambda r: (r.start, r.end, r.rule)))
        return self._removed

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

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why there is no window, in words; empty when there is one."""
        if self._reasons is None:
            self._reasons = () if self.windows else self._explain()
        return self._reasons

    def _explain(self) -> tuple[str, ...]:
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
    # A fixed order (bounds by kind, blocks by time; see the field order of each), so that any
    # order of the input gives the same result.
    bounds.sort()
    blocks.sort()

    taken: list[tuple[int, int, Constraint]] = []
    segments: list[Segment] = [(day_start, day_end, DAY_START, DAY_END)]
    for bound in bounds:
        segments = _intersect(segments, bound, taken)
    bounded = segments
    for block in blocks:
        _take(bounded, block, taken)
        segments = _subtract(segments, block)

    start = _fixed_epoch(fixed_start, day, zone)
    if start is None:
        windows = tuple([Window(a, b, a, b - duration, left, right)
                         for a, b, left, right in segments if b - a >= duration])
    else:
        windows = tuple([Window(a, b, start, start, left, right)
                         for a, b, left, right in segments
                         if a <= start and start + duration <= b])
    return Availability(day, zone, duration, day_start, day_end, windows, tuple(segments),
                        start, tuple(taken))


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

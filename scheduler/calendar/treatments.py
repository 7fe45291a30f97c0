"""When a client's recurring treatment happens on a local day, as Unix-second intervals.

A treatment's rule gives its occurrences from ``first_date`` to ``last_date`` (the course
ends; COUNT and UNTIL in the rule hold too); its exceptions then change one occurrence each,
as a visit series' do (:mod:`.series`): a cancelled one is gone, a moved one happens at its
new date, start and length instead, so the chair time moved from 06:00–10:00 to 08:00–12:00
for one day is where ``avoid`` blocks and ``during`` bounds are that day.

Models are accepted by duck typing (:class:`TreatmentLike`, :class:`ChangeLike`): tests pass
small frozen dataclasses, the calendar database rows, and :mod:`.visit_rules` its cached
plain values (:class:`TreatmentChange`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from scheduler.calendar.expand import compile_rule
from scheduler.calendar.local_time import from_epoch, local_day_epochs, local_epoch

# ---------------------------------------------------------------------------------------------
# Treatments and their changed occurrences


class ChangeLike(Protocol):
    """What is read from a :class:`scheduler.models.TreatmentException`."""

    @property
    def original_date(self) -> date: ...
    @property
    def action(self) -> str: ...  # "cancel" or "move" (or the ExceptionAction enum)
    @property
    def new_date(self) -> date | None: ...
    @property
    def new_start_time(self) -> time | None: ...
    @property
    def new_duration_minutes(self) -> int | None: ...


class TreatmentLike(Protocol):
    """What is read from a :class:`scheduler.models.Treatment` to place it in time.

    ``last_date`` (a treatment course that ends) and ``exceptions`` (an iterable of
    :class:`ChangeLike`) are read too when present, so that small test objects without them
    still do. The availability builders also read ``kind``, ``label``, ``policy``,
    ``buffer_before_minutes``, ``buffer_after_minutes`` and ``facility_id``.
    """

    @property
    def rule(self) -> str | None: ...
    @property
    def first_date(self) -> date: ...
    @property
    def start_time(self) -> time: ...
    @property
    def duration_minutes(self) -> int: ...


CANCEL, MOVE, RESIZE = "cancel", "move", "resize"


class TreatmentChange(NamedTuple):
    """One exception as plain, hashable values: what the caches in :mod:`.visit_rules` key on,
    so an occurrence moved after a day was computed is never served from the cache."""

    original_date: date
    action: str
    new_date: date | None
    new_start_time: time | None
    new_duration_minutes: int | None

    @classmethod
    def of(cls, change: ChangeLike) -> TreatmentChange:
        return cls(change.original_date, action_of(change), change.new_date,
                   change.new_start_time, change.new_duration_minutes)


def action_of(change: ChangeLike) -> str:
    """"cancel", "move" or "resize", from the enum or the plain word."""
    return str(getattr(change.action, "value", change.action)).lower()


def changes_of(treatment: TreatmentLike) -> tuple[TreatmentChange, ...]:
    """The treatment's exceptions as plain values, by original date."""
    found = getattr(treatment, "exceptions", None) or ()
    return tuple(sorted((TreatmentChange.of(e) for e in found), key=lambda c: c.original_date))


class TreatmentOccurrence(NamedTuple):
    """One occurrence placed in time: [start, end) in Unix seconds, the date the rule gave
    (``original_date``) and where it happens (``date``, ``start_time``); ``moved`` says an
    exception moved it (in date, start or length)."""

    start: int
    end: int
    original_date: date
    date: date
    start_time: time
    moved: bool = False


# ---------------------------------------------------------------------------------------------
# Placing the occurrences


def treatment_occurrences(
    treatment: TreatmentLike, day: date, zone: ZoneInfo,
    reach_before: int = 0, reach_after: int = 0,
) -> list[TreatmentOccurrence]:
    """The treatment's occurrences that touch local ``day``, after its exceptions, by start.

    An occurrence touches the day if [start − reach_before, end + reach_after) overlaps it
    (the reaches are seconds, for buffers): one starting at 23:00 the day before and running
    past midnight counts. A length is real elapsed time, so a 4-hour treatment across the
    spring-forward gap ends 5 wall-clock hours after it starts.

    A cancelled occurrence is gone; a moved one is placed at its new date, start and length
    (one moved into this day from another appears, one moved out disappears). An exception
    on a date the rule does not give (or outside first/last date) is ignored here; the
    records' checks refuse it.
    """
    length = treatment.duration_minutes * 60
    start_time = treatment.start_time
    changes = getattr(treatment, "exceptions", None) or ()
    by_original = {c.original_date: c for c in changes} if changes else {}
    found = []
    for ordinal in _rule_ordinals(treatment, day, zone, _clock(start_time), length,
                                  reach_before, reach_after):
        original = date.fromordinal(ordinal)
        if original in by_original:
            continue  # placed below, with its change
        start = local_epoch(original, start_time, zone)
        found.append(TreatmentOccurrence(start, start + length, original, original, start_time))
    for change in by_original.values():
        placed = _changed(treatment, change, day, zone, reach_before, reach_after)
        if placed is not None:
            found.append(placed)
    if len(found) > 1:
        found.sort()
    day_start, day_end = local_day_epochs(day, zone)
    return [o for o in found
            if o.start - reach_before < day_end and o.end + reach_after > day_start]


def treatment_epoch_intervals(
    treatment: TreatmentLike, day: date, zone: ZoneInfo,
    reach_before: int = 0, reach_after: int = 0,
) -> list[tuple[int, int]]:
    """[start, end) Unix seconds of the occurrences :func:`treatment_occurrences` gives.

    Without exceptions (nearly every treatment on nearly every day) the rule's occurrences
    are placed directly, as plain pairs: planning asks this for every treatment of every
    visit.
    """
    if getattr(treatment, "exceptions", None):
        return [(o.start, o.end)
                for o in treatment_occurrences(treatment, day, zone, reach_before, reach_after)]
    length, start_time = treatment.duration_minutes * 60, treatment.start_time
    ordinals = _rule_ordinals(treatment, day, zone, _clock(start_time), length, reach_before,
                              reach_after)
    if not ordinals:
        return []
    day_start, day_end = local_day_epochs(day, zone)
    found = []
    for ordinal in ordinals:
        start = local_epoch(date.fromordinal(ordinal), start_time, zone)
        if start - reach_before < day_end and start + length + reach_after > day_start:
            found.append((start, start + length))
    return found


def treatment_intervals(treatment: TreatmentLike, day: date,
                        zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Aware (start, end) of the treatment's occurrences that touch the local ``day``."""
    return [(from_epoch(start, zone), from_epoch(end, zone))
            for start, end in treatment_epoch_intervals(treatment, day, zone)]


class Displaced(NamedTuple):
    """An occurrence the rule puts on the day that an exception took away: cancelled
    (``moved_to`` None) or moved to another time that no longer touches the day."""

    original_date: date
    moved_to: TreatmentOccurrence | None


def displaced_occurrences(treatment: TreatmentLike, day: date,
                          zone: ZoneInfo) -> list[Displaced]:
    """The rule's own occurrences touching ``day`` that were cancelled or moved off it: what
    explains, in words, why a treatment the rule gives that day is not there."""
    changes = getattr(treatment, "exceptions", None) or ()
    if not changes:
        return []
    by_original = {c.original_date: c for c in changes}
    length, start_time = treatment.duration_minutes * 60, treatment.start_time
    day_start, day_end = local_day_epochs(day, zone)
    found = []
    for ordinal in _rule_ordinals(treatment, day, zone, _clock(start_time), length, 0, 0):
        original = date.fromordinal(ordinal)
        change = by_original.get(original)
        start = local_epoch(original, start_time, zone)
        if change is None or not (start < day_end and start + length > day_start):
            continue
        placed = None if action_of(change) == CANCEL else _place(treatment, change, zone)
        if placed is None or not (placed.start < day_end and placed.end > day_start):
            found.append(Displaced(original, placed))
    return found


def _clock(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _reach(day: date, clock: int, length: int, reach_before: int,
           reach_after: int) -> tuple[int, int]:
    """The ordinals of the days whose occurrence at ``clock`` for ``length`` seconds can
    reach into ``day``: the day itself, earlier days when the occurrence and its buffer run
    past midnight, the next day when its buffer before starts before midnight. An hour of
    slack covers the days the clocks change."""
    ordinal = day.toordinal()
    low = ordinal - (clock + length + reach_after + 3600) // 86_400
    high = ordinal + (reach_before - clock + 3600 + 86_399) // 86_400 if reach_before else ordinal
    return low, high


def _rule_ordinals(treatment: TreatmentLike, day: date, zone: ZoneInfo, clock: int,
                   length: int, reach_before: int, reach_after: int) -> list[int]:
    """The dates (as ordinals) the rule gives, within first/last date, whose occurrence at
    the usual time can reach into ``day``."""
    low, high = _reach(day, clock, length, reach_before, reach_after)
    rule, first_date = treatment.rule, treatment.first_date  # read once: rows are slow to read
    first = first_date.toordinal()
    if low < first:
        low = first
    last = getattr(treatment, "last_date", None)
    if last is not None and last.toordinal() < high:
        high = last.toordinal()
    if low > high:
        return []
    if rule is None:
        return [first] if low <= first <= high else []
    occurs = compile_rule(rule, first_date, zone).occurs
    return [o for o in range(low, high + 1) if occurs(o)]


def _changed(treatment: TreatmentLike, change: ChangeLike, day: date, zone: ZoneInfo,
             reach_before: int, reach_after: int) -> TreatmentOccurrence | None:
    """Where a changed occurrence happens, if that can touch ``day`` and its original date
    is one the rule gives; None otherwise (and for a cancelled one)."""
    action = action_of(change)
    if action == CANCEL:
        return None
    length = _length(treatment, change) * 60
    where = change.new_date or change.original_date
    clock = _clock(change.new_start_time or treatment.start_time)
    low, high = _reach(day, clock, length, reach_before, reach_after)
    if not low <= where.toordinal() <= high or not occurs_on(treatment, change.original_date,
                                                              zone):
        return None
    return _place(treatment, change, zone)


def _place(treatment: TreatmentLike, change: ChangeLike,
           zone: ZoneInfo) -> TreatmentOccurrence | None:
    """A moved occurrence at its new date, start and length (None for a cancelled one)."""
    if action_of(change) == CANCEL:
        return None
    where = change.new_date or change.original_date
    start_time = change.new_start_time or treatment.start_time
    start = local_epoch(where, start_time, zone)
    length = _length(treatment, change)
    moved = (where != change.original_date or start_time != treatment.start_time
             or length != treatment.duration_minutes)
    return TreatmentOccurrence(start, start + length * 60, change.original_date, where,
                               start_time, moved)


def _length(treatment: TreatmentLike, change: ChangeLike) -> int:
    minutes = change.new_duration_minutes
    return minutes if minutes is not None and minutes > 0 else treatment.duration_minutes


def occurs_on(treatment: TreatmentLike, day: date, zone: ZoneInfo | None) -> bool:
    """Whether the treatment's rule gives ``day``, within its first and last date."""
    last = getattr(treatment, "last_date", None)
    if day < treatment.first_date or (last is not None and day > last):
        return False
    if treatment.rule is None:
        return day == treatment.first_date
    return compile_rule(treatment.rule, treatment.first_date, zone).occurs(day.toordinal())


"""The two shapes of a rule on a visit's time, each carrying its label in words.

- a :class:`Bound` is time the whole visit must lie within ("shift 07:30–16:30",
  "visiting hours 09:00–17:00", "preferred 09:00–12:00", "during dialysis ...");
- a :class:`Block` is time no part of the visit may touch ("dialysis Mon/Wed/Fri
  06:00–10:00 + 60 min after"), with its buffers.

:mod:`.availability` combines them; :mod:`.visit_rules` builds them from the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

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
#
# The rules and the pieces of a result are named tuples rather than frozen dataclasses: a few
# are built for every visit, tens of thousands of visits a year, and a named tuple is built
# three to four times faster. They are just as immutable.


class _BoundFields(NamedTuple):
    order: int  # from the kind; first, so that sorting bounds puts them in the order they apply
    label: str
    intervals: tuple[Interval, ...]
    kind: str
    name: str
    verbs: tuple[str, str]


class Bound(_BoundFields):
    """Time the whole visit must lie within: one or more intervals, and their words.

    ``Bound(label, intervals, kind="other", name="", verbs=("starts", "ends"))``; the
    intervals are sorted and overlapping ones joined. ``name`` and ``verbs`` word the
    edges: name "shift" with verbs ("starts", "ends") says "shift ends 16:30" for the time
    taken after it. A bound with no intervals takes the whole day, worded by its ``label``
    ("closed on Sundays"). ``kind`` (shift, visiting hours, preferred, during, other) sets
    ``order``, the order bounds are applied in.
    """

    __slots__ = ()

    def __new__(cls, label: str, intervals: Iterable[Sequence[int]], kind: str = OTHER,
                name: str = "", verbs: tuple[str, str] = ("starts", "ends")) -> Bound:
        order = _KIND_ORDER.get(kind, len(_KIND_ORDER))
        return super().__new__(cls, order, label, _merge(intervals, label), kind, name, verbs)


class _BlockFields(NamedTuple):
    span: Interval  # first, so that sorting blocks orders them in time
    label: str
    interval: Interval
    buffer_before: int
    buffer_after: int


class Block(_BlockFields):
    """Time no part of the visit may touch.

    ``Block(label, interval, buffer_before=0, buffer_after=0)``, buffers in seconds;
    ``span`` is the interval with its buffers, all the time the block takes.
    """

    __slots__ = ()

    def __new__(cls, label: str, interval: Sequence[int], buffer_before: int = 0,
                buffer_after: int = 0) -> Block:
        start, end = interval
        if end < start:
            raise ValueError(f"{label}: ends before it starts")
        if buffer_before < 0 or buffer_after < 0:
            raise ValueError(f"{label}: buffers must not be negative")
        return super().__new__(cls, (start - buffer_before, end + buffer_after), label,
                               (start, end), buffer_before, buffer_after)


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

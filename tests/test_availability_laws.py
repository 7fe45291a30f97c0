"""The laws of availability, checked on random days, rules and visits (hypothesis).

Random rules are whole minutes from the local midnight, on ordinary days and on the days the
clocks change (23- and 25-hour days), which lets a slow, obvious oracle decide minute by
minute what is free: a minute is free when every bound holds it and no block (with its
buffers) touches it.
"""

from __future__ import annotations

import random
from datetime import date
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.calendar.availability import Availability, compute_availability
from scheduler.calendar.bounds import DAY_START, Block, Bound, Constraint
from scheduler.calendar.local_time import local_day_epochs

CHICAGO = ZoneInfo("America/Chicago")
DAYS = [date(2026, 3, 8), date(2026, 3, 9), date(2026, 7, 1), date(2026, 11, 1),
        date(2027, 3, 14), date(2027, 11, 7)]
KINDS = ["shift", "visiting hours", "preferred", "during", "other"]


@st.composite
def days(draw: st.DrawFn) -> tuple[date, int, int]:
    day = draw(st.sampled_from(DAYS))
    start, end = local_day_epochs(day, CHICAGO)
    return day, start, end


def minute_interval(draw: st.DrawFn, start: int, end: int) -> tuple[int, int]:
    """An interval in whole minutes from midnight, reaching up to two hours past either end."""
    span = (end - start) // 60
    first = draw(st.integers(-120, span + 60))
    length = draw(st.integers(0, 600))
    return start + first * 60, start + (first + length) * 60


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[date, int, int, list[Constraint], int]:
    day, start, end = draw(days())
    constraints: list[Constraint] = []
    for index in range(draw(st.integers(0, 4))):
        intervals = [minute_interval(draw, start, end) for _ in range(draw(st.integers(0, 3)))]
        constraints.append(Bound(f"bound {index}", tuple(intervals), draw(st.sampled_from(KINDS)),
                                 name=f"bound {index}"))
    for index in range(draw(st.integers(0, 5))):
        constraints.append(Block(f"block {index}", minute_interval(draw, start, end),
                                 draw(st.integers(0, 90)) * 60, draw(st.integers(0, 90)) * 60))
    duration = draw(st.integers(1, 240))
    return day, start, end, constraints, duration


def bounds_of(constraints: list[Constraint]) -> list[Bound]:
    return [c for c in constraints if isinstance(c, Bound)]


def blocks_of(constraints: list[Constraint]) -> list[Block]:
    return [c for c in constraints if isinstance(c, Block)]


def free_minutes(start: int, end: int, constraints: list[Constraint]) -> set[int]:
    """The oracle: the start of every free minute of the day."""
    free = set()
    for minute in range(start, end, 60):
        inside = all(any(a <= minute and minute + 60 <= b for a, b in bound.intervals)
                     for bound in bounds_of(constraints))
        touched = any(s < minute + 60 and minute < e
                      for s, e in (block.span for block in blocks_of(constraints)))
        if inside and not touched:
            free.add(minute)
    return free


def overlaps(first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Whether two half-open intervals share time (an empty one shares none)."""
    return max(first[0], second[0]) < min(first[1], second[1])


def minutes_of(pieces: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in pieces for m in range(a, b, 60)}


def free_pieces(availability: Availability) -> list[tuple[int, int]]:
    return [(f.start, f.end) for f in availability.free]


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_free_time_is_exactly_what_every_rule_allows(scenario) -> None:
    day, start, end, constraints, duration = scenario
    availability = compute_availability(day, CHICAGO, duration, constraints)
    pieces = free_pieces(availability)
    assert minutes_of(pieces) == free_minutes(start, end, constraints)
    # The free stretches are sorted, non-empty, and apart (never two touching pieces).
    assert all(a < b for a, b in pieces)
    assert all(b1 < a2 for (_, b1), (a2, _) in zip(pieces, pieces[1:], strict=False))


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_window_fits_the_whole_visit_inside_every_bound_and_clear_of_every_block(
        scenario) -> None:
    day, start, end, constraints, duration = scenario
    availability = compute_availability(day, CHICAGO, duration, constraints)
    seconds = duration * 60
    for window in availability.windows:
        assert start <= window.free_start and window.free_end <= end
        assert window.free_end - window.free_start >= seconds
        assert window.start_from == window.free_start
        assert window.start_until == window.free_end - seconds
        for bound in bounds_of(constraints):
            assert any(a <= window.free_start and window.free_end <= b
                       for a, b in bound.intervals)
        for block in blocks_of(constraints):
            s, e = block.span
            assert not overlaps((s, e), (window.free_start, window.free_end))
    # Every free stretch long enough is a window; the others are not.
    long_enough = [(f.start, f.end) for f in availability.free if f.end - f.start >= seconds]
    assert [(w.free_start, w.free_end) for w in availability.windows] == long_enough


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_adding_a_rule_never_adds_time(scenario, data: st.DataObject) -> None:
    day, start, end, constraints, duration = scenario
    before = minutes_of(free_pieces(compute_availability(day, CHICAGO, duration, constraints)))
    extra: Constraint
    if data.draw(st.booleans()):
        extra = Block("new treatment", minute_interval(data.draw, start, end),
                      data.draw(st.integers(0, 60)) * 60, data.draw(st.integers(0, 60)) * 60)
    else:
        extra = Bound("new bound", (minute_interval(data.draw, start, end),))
    after = compute_availability(day, CHICAGO, duration, [*constraints, extra])
    assert minutes_of(free_pieces(after)) <= before
    if isinstance(extra, Block):
        assert not any(overlaps(extra.span, (f.start, f.end)) for f in after.free)


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_order_of_the_rules_does_not_matter(scenario, rnd: random.Random) -> None:
    day, _, _, constraints, duration = scenario
    first = compute_availability(day, CHICAGO, duration, constraints)
    shuffled = list(constraints)
    rnd.shuffle(shuffled)
    second = compute_availability(day, CHICAGO, duration, shuffled)
    assert second.windows == first.windows
    assert second.free == first.free
    assert second.removed == first.removed
    assert second.reasons == first.reasons


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_every_piece_of_the_day_is_free_or_taken_by_a_named_rule(scenario) -> None:
    day, start, end, constraints, duration = scenario
    availability = compute_availability(day, CHICAGO, duration, constraints)
    taken = minutes_of([(r.start, r.end) for r in availability.removed])
    free = minutes_of(free_pieces(availability))
    assert taken | free == set(range(start, end, 60))
    assert not taken & free
    labels = {c.label for c in constraints}
    assert all(r.rule in labels and r.why for r in availability.removed)
    # A block is named only for time it really covers.
    for removal in availability.removed:
        for block in blocks_of(constraints):
            if removal.rule == block.label:
                s, e = block.span
                assert s <= removal.start and removal.end <= e
    # Nothing fits: there are reasons, in words; something fits: there are none.
    assert bool(availability.reasons) == availability.is_empty


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_each_window_edge_comes_from_the_rule_it_names(scenario) -> None:
    day, start, end, constraints, duration = scenario
    availability = compute_availability(day, CHICAGO, duration, constraints)
    by_label = {c.label: c for c in constraints}
    for piece in availability.free:
        left = by_label.get(piece.opened_by)
        if piece.opened_by == DAY_START:
            assert piece.start == start
        elif isinstance(left, Block):
            assert left.span[1] == piece.start
        else:
            assert isinstance(left, Bound)
            assert piece.start in [a for a, _ in left.intervals]
        right = by_label.get(piece.closed_by)
        if isinstance(right, Block):
            assert right.span[0] == piece.end
        elif isinstance(right, Bound):
            assert piece.end in [b for _, b in right.intervals]
        else:
            assert piece.end == end


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.data())
def test_a_fixed_start_gives_a_window_exactly_when_the_visit_fits_there(
        scenario, data: st.DataObject) -> None:
    day, start, end, constraints, duration = scenario
    free = compute_availability(day, CHICAGO, duration, constraints)
    fixed = start + data.draw(st.integers(-30, (end - start) // 60 + 30)) * 60
    pinned = compute_availability(day, CHICAGO, duration, constraints, fixed_start=fixed)
    oracle = free_minutes(start, end, constraints)
    fits = all(m in oracle for m in range(fixed, fixed + duration * 60, 60))
    assert (not pinned.is_empty) == fits == free.fits(fixed)
    assert (free.why_not(fixed) == []) == fits
    if fits:
        (window,) = pinned.windows
        assert window.start_from == window.start_until == fixed
    else:
        assert pinned.reasons[0].startswith("the fixed start")

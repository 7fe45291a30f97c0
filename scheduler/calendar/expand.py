"""Expanding a checked rule over dates, fast.

Planning expands thousands of series; dateutil takes about 2 µs per occurrence. Daily and
weekly rules (nearly all of them: dialysis Mon/Wed/Fri, radiation every weekday, weekly
visits, every 2 weeks) are periodic in days, so they are expanded with integer arithmetic on
day ordinals (:class:`_Periodic`); the tests check it against dateutil on random rules. Every
other rule goes through dateutil, whose answers are kept so that a rule is iterated once per
process (:class:`_Generated`). Compiled rules are cached by (rule, first date).

Written by hand rather than calling dateutil for every rule because of that speed: the week
page and a month of planning expand every series of the practice.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterator
from datetime import date, datetime, time
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from scheduler.calendar.rules import Rule, RuleError, parse_rule

# ---------------------------------------------------------------------------------------------
# Expanding a rule over dates


def occurrence_dates(
    rule: str | None,
    first_date: date,
    between: tuple[date, date],
    last_date: date | None = None,
    *,
    zone: ZoneInfo | None = None,
) -> list[date]:
    """The dates ``rule`` yields from ``between[0]`` to ``between[1]`` (both included).

    COUNT is counted from ``first_date``, not from the start of the range; UNTIL and
    ``last_date`` are both honoured. ``None`` means a single occurrence on ``first_date``.
    ``zone`` only matters for an UNTIL given in UTC (see :meth:`Rule.last_date`).
    """
    low = max(between[0], first_date).toordinal()
    high = between[1].toordinal() if last_date is None else min(between[1], last_date).toordinal()
    if low > high:
        return []
    if rule is None:
        return [first_date] if low <= first_date.toordinal() <= high else []
    return [date.fromordinal(o) for o in compile_rule(rule, first_date, zone).ordinals(low, high)]


def occurs_on(
    rule: str | None,
    first_date: date,
    day: date,
    last_date: date | None = None,
    *,
    zone: ZoneInfo | None = None,
) -> bool:
    """Whether ``rule`` yields ``day``; the same answer as :func:`occurrence_dates`, faster."""
    if day < first_date or (last_date is not None and day > last_date):
        return False
    if rule is None:
        return day == first_date
    return compile_rule(rule, first_date, zone).occurs(day.toordinal())


def first_occurrence(rule: str | None, first_date: date, *,
                     zone: ZoneInfo | None = None) -> date | None:
    """The first date ``rule`` yields, or None if it yields none (UNTIL before the first)."""
    if rule is None:
        return first_date
    found = compile_rule(rule, first_date, zone).first_from(first_date.toordinal())
    return None if found is None else date.fromordinal(found)


_GREGORIAN_CYCLE_DAYS = 146_097  # 400 years, exactly 20,871 weeks: the calendar repeats
_MAX_ORDINAL = date.max.toordinal()


class _Expansion(Protocol):
    """A compiled rule, over day ordinals (``date.toordinal()``)."""

    def ordinals(self, low: int, high: int) -> list[int]: ...  # from low to high, included

    def occurs(self, ordinal: int) -> bool: ...

    def first_from(self, low: int) -> int | None: ...  # the first occurrence on or after low


@lru_cache(maxsize=16_384)
def compile_rule(rule_text: str, first_date: date, zone: ZoneInfo | None) -> _Expansion:
    """The rule compiled for expansion from ``first_date``; cached, as planning asks about the
    same few hundred rules for every day of every therapist."""
    rule = parse_rule(rule_text)
    last = rule.last_date(zone)
    if last is not None and last < first_date:
        return _NEVER
    if rule.freq in ("DAILY", "WEEKLY") and not rule.by_set_pos:
        return _Periodic.build(rule, first_date, last)
    return _Generated.build(rule, first_date, last)


class _Never:
    """A rule that yields no date (UNTIL before the first date, or an impossible pattern)."""

    def ordinals(self, low: int, high: int) -> list[int]:
        return []

    def occurs(self, ordinal: int) -> bool:
        return False

    def first_from(self, low: int) -> int | None:
        return None


_NEVER = _Never()


def _weekday_of(ordinal: int) -> int:
    return (ordinal + 6) % 7  # date.fromordinal(1) is a Monday


class _Periodic:
    """A daily or weekly rule: a fixed pattern of days repeating every ``period`` days.

    Occurrences are ``anchor + k * period + offset`` for k >= 0 and each offset, from the
    first date on, up to ``last``, kept only if the month / month-day filters (BYMONTH, and
    BYMONTHDAY for DAILY) accept the date. This is RFC 5545's meaning for these rules; the
    tests compare it with dateutil on random rules.
    """

    def __init__(self, start: int, anchor: int, period: int, offsets: tuple[int, ...],
                 months: frozenset[int], month_days: frozenset[int], last: int | None):
        self.start, self.anchor, self.period = start, anchor, period
        self.offsets, self.offset_set = offsets, frozenset(offsets)
        self.months, self.month_days = months, month_days
        self.last = last

    @classmethod
    def build(cls, rule: Rule, first_date: date, last_date: date | None) -> _Expansion:
        start = first_date.toordinal()
        days = {wd for _, wd in rule.by_day} or {_weekday_of(start)}
        if rule.freq == "WEEKLY":
            # Weeks begin on WKST; the week holding the first date is week 0.
            anchor = start - (_weekday_of(start) - rule.wkst) % 7
            period = 7 * rule.interval
            offsets = tuple(sorted((wd - rule.wkst) % 7 for wd in days))
        elif rule.by_day:  # DAILY filtered by weekday: the pattern repeats every lcm(n, 7)
            anchor, period = start, math.lcm(rule.interval, 7)
            offsets = tuple(j for j in range(0, period, rule.interval)
                            if _weekday_of(start + j) in days)
        else:
            anchor, period, offsets = start, rule.interval, (0,)
        last = None if last_date is None else last_date.toordinal()
        pattern = cls(start, anchor, period, offsets, frozenset(rule.by_month),
                      frozenset(rule.by_month_day), last)
        # A pattern that matches at all does so within the calendar's 400-year cycle.
        if next(pattern._iterate(start, start + _GREGORIAN_CYCLE_DAYS), None) is None:
            return _NEVER
        if rule.count is not None:
            pattern.last = pattern._nth(rule.count)
        return pattern

    def _nth(self, n: int) -> int:
        """The n-th occurrence (counted from 1), or the last there is before ``last``."""
        found = None
        for found in self._iterate(self.start, self.last):  # noqa: B007
            n -= 1
            if n == 0:
                break
        assert found is not None  # the caller checked that the pattern yields
        return found

    def _accepts(self, ordinal: int) -> bool:
        if not (self.months or self.month_days):
            return True
        day = date.fromordinal(ordinal)
        if self.months and day.month not in self.months:
            return False
        if self.month_days:
            from_end = day.day - _days_in_month(day.year, day.month) - 1  # -1 = last day
            return day.day in self.month_days or from_end in self.month_days
        return True

    def _iterate(self, low: int, high: int | None) -> Iterator[int]:
        low = max(low, self.start)
        high = _MAX_ORDINAL if high is None else min(high, _MAX_ORDINAL)  # no dates after 9999
        if self.last is not None:
            high = min(high, self.last)
        anchor, period, offsets = self.anchor, self.period, self.offsets
        base = anchor + (low - anchor) // period * period
        while base <= high:
            for offset in offsets:
                ordinal = base + offset
                if ordinal < low:
                    continue
                if ordinal > high:
                    return
                if self._accepts(ordinal):
                    yield ordinal
            base += period

    def ordinals(self, low: int, high: int) -> list[int]:
        if self.months or self.month_days:
            return list(self._iterate(low, high))
        # The common case, as a plain loop: every series of every day comes through here.
        low = max(low, self.start)
        high = min(high, _MAX_ORDINAL if self.last is None else self.last)
        anchor, period, offsets = self.anchor, self.period, self.offsets
        found = []
        base = anchor + (low - anchor) // period * period
        while base <= high:
            for offset in offsets:
                ordinal = base + offset
                if low <= ordinal <= high:
                    found.append(ordinal)
            base += period
        return found

    def first_from(self, low: int) -> int | None:
        return next(self._iterate(low, None), None)  # the pattern recurs, or stops at last

    def occurs(self, ordinal: int) -> bool:
        if ordinal < self.start or (self.last is not None and ordinal > self.last):
            return False
        return (ordinal - self.anchor) % self.period in self.offset_set and self._accepts(ordinal)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


class _Generated:
    """Any other rule, expanded by dateutil once and remembered.

    dateutil iterates from the first date; the dates it has yielded are kept (a list for
    ranges, a set for membership) and the iterator is resumed only when a later date is
    asked for. A lock makes the resumption safe when requests run in threads.
    """

    def __init__(self, iterator: Iterator[datetime]):
        self._iterator = iterator
        self._ordinals: list[int] = []
        self._known: set[int] = set()
        self._exhausted = False
        self._lock = threading.Lock()

    @classmethod
    def build(cls, rule: Rule, first_date: date, last_date: date | None) -> _Expansion:
        if not _pattern_ever_yields(rule, first_date):
            return _NEVER
        until = None if last_date is None else datetime.combine(last_date, time())
        return cls(iter(_dateutil_rule(rule, first_date, count=rule.count, until=until)))

    def _extend(self, high: int) -> None:
        """Iterate until a date after ``high`` is known (or the rule ends)."""
        if self._exhausted or (self._ordinals and self._ordinals[-1] > high):
            return
        with self._lock:
            while not self._exhausted and not (self._ordinals and self._ordinals[-1] > high):
                found = next(self._iterator, None)
                if found is None:
                    self._exhausted = True
                else:
                    self._ordinals.append(found.toordinal())
                    self._known.add(self._ordinals[-1])

    def ordinals(self, low: int, high: int) -> list[int]:
        self._extend(high)
        start = bisect.bisect_left(self._ordinals, low)
        end = bisect.bisect_right(self._ordinals, high)
        return self._ordinals[start:end]

    def first_from(self, low: int) -> int | None:
        self._extend(low - 1)
        index = bisect.bisect_left(self._ordinals, low)
        return self._ordinals[index] if index < len(self._ordinals) else None

    def occurs(self, ordinal: int) -> bool:
        self._extend(ordinal)
        return ordinal in self._known


def _dateutil_rule(rule: Rule, first_date: date, *, count: int | None,
                   until: datetime | None) -> du.rrule:
    plain_days = [du.weekdays[wd] for n, wd in rule.by_day if n is None]
    numbered = [du.weekdays[wd](n) for n, wd in rule.by_day if n is not None]
    return du.rrule(
        getattr(du, rule.freq),
        dtstart=datetime.combine(first_date, time()),
        interval=rule.interval,
        wkst=rule.wkst,  # explicit: dateutil's default follows the global calendar module
        count=count,
        until=until,
        bysetpos=rule.by_set_pos or None,
        bymonth=rule.by_month or None,
        bymonthday=rule.by_month_day or None,
        byweekday=(plain_days + numbered) or None,
    )


def _pattern_ever_yields(rule: Rule, first_date: date) -> bool:
    """Whether the rule's pattern (COUNT and UNTIL aside) yields any date at all.

    dateutil looks for the next date until the year 9999, which takes seconds for a pattern
    that never matches (BYSETPOS=6 with one weekday a month, a 5th Monday of February on a
    non-leap cycle...). The calendar repeats exactly every 400 years, weekdays included, so
    the same pattern started 400·n years later behaves identically: start it within a few
    centuries of 9999, where dateutil's search ends quickly either way.
    """
    shift = max(0, -(-(9500 - first_date.year) // 400)) * 400
    probe = _dateutil_rule(rule, first_date.replace(year=first_date.year + shift),
                           count=None, until=None)
    return next(iter(probe), None) is not None


def validate_rule(rule: str, first_date: date | None = None, *,
                  zone: ZoneInfo | None = None) -> None:
    """Raise :class:`RuleError` naming the problem if Rounds cannot use ``rule``.

    With ``first_date`` it also checks that the rule yields at least one date from then on
    (an UNTIL before the first date, or BYSETPOS=6 of a single weekday a month, never does).
    """
    parsed = parse_rule(rule)
    if first_date is not None and first_occurrence(rule, first_date, zone=zone) is None:
        last = parsed.last_date(zone)
        if last is not None and last < first_date:
            raise RuleError(f"the rule ends (UNTIL {last.isoformat()}) before its first date "
                            f"{first_date.isoformat()}")
        raise RuleError(f"the rule never produces a date from {first_date.isoformat()} on")

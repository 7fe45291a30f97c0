"""Recurrence rules in words for people: "Mon/Wed/Fri", "2nd Tuesday of the month"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from scheduler.calendar.rules import (
    MONTH_ABBREVIATIONS,
    WEEKDAY_ABBREVIATIONS,
    WEEKDAY_NAMES,
    Rule,
    RuleError,
    parse_rule,
)

# ---------------------------------------------------------------------------------------------
# Rules in words


_ORDINAL_WORDS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last",
                  -2: "2nd-to-last", -3: "3rd-to-last", -4: "4th-to-last", -5: "5th-to-last"}
_WORKWEEK = frozenset(range(5))


def _ordinal(n: int) -> str:
    if n in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[n]
    if n < 0:
        return f"{_ordinal(-n)}-to-last"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _days(weekdays: Iterable[int]) -> str:
    """"every weekday", "every day" or "Mon/Wed/Fri"."""
    chosen = frozenset(weekdays)
    if chosen == _WORKWEEK:
        return "every weekday"
    if len(chosen) == 7:
        return "every day"
    return "/".join(WEEKDAY_ABBREVIATIONS[wd] for wd in sorted(chosen))


def _days_after_on(weekdays: Iterable[int]) -> str:
    chosen = frozenset(weekdays)
    if chosen == _WORKWEEK:
        return "Mon–Fri"
    return "/".join(WEEKDAY_ABBREVIATIONS[wd] for wd in sorted(chosen))


def _every(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


@lru_cache(maxsize=4096)
def describe_rule(rule: str | None, first_date: date | None = None) -> str:
    """A rule in words for people: "Mon/Wed/Fri", "every 2 weeks on Tue", "2nd Tuesday of
    the month", "monthly on day 31, until 2027-01-31", "every weekday, 10 times".

    ``first_date`` names what the rule leaves to it (the weekday of a weekly rule without
    BYDAY, the day of a monthly one). An invalid rule is described as such, not raised.
    """
    if rule is None:
        return "once" if first_date is None else f"once, on {first_date.isoformat()}"
    try:
        parsed = parse_rule(rule)
    except RuleError:
        return "an invalid rule"
    words = _describe_core(parsed, first_date)
    if parsed.by_month and parsed.freq != "YEARLY":
        words += " in " + "/".join(MONTH_ABBREVIATIONS[m - 1] for m in parsed.by_month)
    if parsed.count is not None:
        words += ", once" if parsed.count == 1 else f", {parsed.count} times"
    if parsed.until is not None:
        words += f", until {parsed.until.isoformat()}"
    return words


def _describe_core(rule: Rule, first_date: date | None) -> str:
    weekdays = [wd for n, wd in rule.by_day if n is None]
    if rule.freq == "DAILY":
        if not weekdays:
            return _every(rule.interval, "day")
        if rule.interval == 1:
            return _days(weekdays) if len(weekdays) > 1 else f"every {_days(weekdays)}"
        return f"every {rule.interval} days, on {_days_after_on(weekdays)}"
    if rule.freq == "WEEKLY":
        if not weekdays and first_date is not None:
            weekdays = [first_date.weekday()]
        if rule.interval == 1:
            if not weekdays:
                return "weekly"
            return _days(weekdays) if len(weekdays) > 1 else f"every {_days(weekdays)}"
        on = f" on {_days_after_on(weekdays)}" if weekdays else ""
        return f"every {rule.interval} weeks{on}"
    if rule.freq == "MONTHLY":
        return _describe_monthly(rule, first_date, weekdays)
    return _describe_yearly(rule, first_date)


def _describe_monthly(rule: Rule, first_date: date | None, weekdays: list[int]) -> str:
    of_month = "of the month" if rule.interval == 1 else f"of every {_ordinal(rule.interval)} month"
    numbered = [(n, wd) for n, wd in rule.by_day if n is not None]
    if numbered:
        return f"{_numbered_days(numbered)} {of_month}"
    if rule.by_set_pos and weekdays:
        positions = _and([_ordinal(p) for p in rule.by_set_pos])
        if frozenset(weekdays) == _WORKWEEK:
            which = "weekday"
        elif len(weekdays) == 1:
            which = WEEKDAY_NAMES[weekdays[0]]
        else:
            which = "of " + _days_after_on(weekdays)
        return f"{positions} {which} {of_month}"
    if rule.by_month_day or (not weekdays and first_date is not None):
        days = rule.by_month_day or (first_date.day,)  # type: ignore[union-attr]
        every = "monthly" if rule.interval == 1 else _every(rule.interval, "month")
        positive = [str(d) for d in days if d > 0]
        negative = ["the last day" if d == -1 else f"the {_ordinal(d)} day"
                    for d in days if d < 0]
        if positive and not negative:
            label = "day" if len(positive) == 1 else "days"
            return f"{every} on {label} {_and(positive)}"
        day_words = ([f"day {_and(positive)}"] if positive else []) + negative
        return f"{every} on {_and(day_words)}"
    if weekdays:
        return _days(weekdays) + ("" if rule.interval == 1 else f", {of_month}")
    return "monthly" if rule.interval == 1 else _every(rule.interval, "month")


def _numbered_days(numbered: list[tuple[int, int]]) -> str:
    """"2nd Tuesday", "1st and 3rd Tuesday", "1st Monday and last Friday"."""
    by_weekday: dict[int, list[int]] = {}
    for n, wd in numbered:
        by_weekday.setdefault(wd, []).append(n)
    groups = []
    for wd, ordinals in by_weekday.items():
        ordinals.sort(key=lambda n: (n < 0, abs(n)))
        groups.append(f"{_and([_ordinal(n) for n in ordinals])} {WEEKDAY_NAMES[wd]}")
    return _and(groups)


def _describe_yearly(rule: Rule, first_date: date | None) -> str:
    every = "yearly" if rule.interval == 1 else _every(rule.interval, "year")
    months = rule.by_month or ((first_date.month,) if first_date is not None else ())
    month_names = "/".join(MONTH_ABBREVIATIONS[m - 1] for m in months)
    numbered = [(n, wd) for n, wd in rule.by_day if n is not None]
    if numbered:
        where = f" of {month_names}" if rule.by_month else " of the year"
        return f"{every} on the {_numbered_days(numbered)}{where}"
    if rule.by_day:
        return f"{_days(wd for _, wd in rule.by_day)} in {month_names or 'every month'}"
    days = rule.by_month_day or ((first_date.day,) if first_date is not None else ())
    if months and days:
        if len(months) == 1 and len(days) == 1 and days[0] > 0:
            return f"{every} on {month_names} {days[0]}"
        return f"{every} on day {_and([str(d) for d in days])} of {month_names}"
    return every

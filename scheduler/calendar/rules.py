"""Reading RFC 5545 recurrence rules: checked part by part, with problems in words.

What RFC 5545 says and dateutil implements is not rewritten here. What is ours:

- *Validation in words.* dateutil accepts or rejects a rule with terse messages; a person
  typing a rule needs to be told "unknown weekday code 'XX' in BYDAY". :func:`parse_rule`
  reads the rule part by part and names the problem; only supported parts are accepted.
- *Dates, not datetimes.* A rule here says on which *dates* something happens; the time of
  day is a separate field (a treatment's start time, a visit placed by the optimizer), so
  BYHOUR/BYMINUTE/BYSECOND and DTSTART are refused and the rule is expanded over dates
  (:mod:`.expand`). Wall-clock times become instants only at the end (:mod:`.local_time`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

# ---------------------------------------------------------------------------------------------
# Reading a rule


class RuleError(ValueError):
    """A recurrence rule Rounds cannot use; the message names the problem in words."""


WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_PART_ORDER = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST",
               "COUNT", "UNTIL")
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
_UNSUPPORTED_PARTS = ("BYYEARDAY", "BYWEEKNO", "BYEASTER", "RSCALE", "SKIP")
MAX_RULE_LENGTH = 255  # the width of the rule columns
MAX_INTERVAL = 1000
MAX_COUNT = 10_000  # years of daily visits; more is a typo, and COUNT is counted out in full

_WORD = re.compile(r"^[A-Z][A-Z-]*$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_NATURAL = re.compile(r"^[0-9]+$")
_BYDAY_ITEM = re.compile(r"^([+-]?\d+)?([A-Z]+)$")
_UNTIL = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$")


@dataclass(frozen=True)
class Rule:
    """A parsed, checked rule. Weekdays are 0 = Monday ... 6 = Sunday, as ``date.weekday()``."""

    freq: str
    interval: int = 1
    by_day: tuple[tuple[int | None, int], ...] = ()  # (ordinal or None, weekday)
    by_month_day: tuple[int, ...] = ()
    by_month: tuple[int, ...] = ()
    by_set_pos: tuple[int, ...] = ()
    count: int | None = None
    until: date | None = None
    until_time: time | None = None  # the time part of a date-time UNTIL, as written
    until_is_utc: bool = False  # UNTIL ended in "Z"
    wkst: int = 0

    def last_date(self, zone: ZoneInfo | None = None) -> date | None:
        """The last date UNTIL allows.

        Times of day are separate fields, so a date-time UNTIL counts by its date: a UTC
        one ("...Z") by its date in ``zone`` (in UTC when no zone is given), a floating one
        by the date written.
        """
        if self.until is None:
            return None
        if self.until_time is None or not self.until_is_utc or zone is None:
            return self.until
        return datetime.combine(self.until, self.until_time, tzinfo=UTC).astimezone(zone).date()

    @property
    def text(self) -> str:
        """The rule in a canonical spelling (upper case, parts in a fixed order)."""
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.by_month:
            parts.append("BYMONTH=" + ",".join(map(str, self.by_month)))
        if self.by_month_day:
            parts.append("BYMONTHDAY=" + ",".join(map(str, self.by_month_day)))
        if self.by_day:
            parts.append("BYDAY=" + ",".join(
                f"{'' if n is None else n}{WEEKDAY_CODES[wd]}" for n, wd in self.by_day))
        if self.by_set_pos:
            parts.append("BYSETPOS=" + ",".join(map(str, self.by_set_pos)))
        if self.wkst != 0:
            parts.append(f"WKST={WEEKDAY_CODES[self.wkst]}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            until = self.until.strftime("%Y%m%d")
            if self.until_time is not None:
                until += self.until_time.strftime("T%H%M%S") + ("Z" if self.until_is_utc else "")
            parts.append(f"UNTIL={until}")
        return ";".join(parts)


def normalize_rule(rule: str) -> str:
    """The canonical spelling of a valid rule (what to store), e.g. "FREQ=WEEKLY;BYDAY=MO,WE"."""
    return parse_rule(rule).text


@lru_cache(maxsize=4096)
def parse_rule(rule: str) -> Rule:
    """Read and check an RRULE value such as ``FREQ=WEEKLY;INTERVAL=2;BYDAY=TU``.

    An ``RRULE:`` prefix is allowed; names and values are case-insensitive.
    """
    parts = _split_parts(rule)
    if "FREQ" not in parts:
        raise RuleError("the rule has no FREQ (for example FREQ=WEEKLY)")
    freq = _freq(parts["FREQ"])
    interval = _bounded_int("INTERVAL", parts.get("INTERVAL", "1"), 1, MAX_INTERVAL)
    by_month = _int_list("BYMONTH", parts.get("BYMONTH"), 1, 12, "a month number 1 to 12")
    by_month_day = _int_list("BYMONTHDAY", parts.get("BYMONTHDAY"), 1, 31,
                             "a day of the month, 1 to 31 or -1 to -31", signed=True)
    by_set_pos = _int_list("BYSETPOS", parts.get("BYSETPOS"), 1, 366,
                           "a position, 1 to 366 or -1 to -366", signed=True)
    by_day = _by_day(parts.get("BYDAY"), freq, bool(by_month))
    wkst = _weekday_code("WKST", parts["WKST"]) if "WKST" in parts else 0
    count = _bounded_int("COUNT", parts["COUNT"], 1, MAX_COUNT) if "COUNT" in parts else None
    if count is not None and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL cannot both be given (RFC 5545): keep one of them")
    until, until_time, until_is_utc = (_until(parts["UNTIL"]) if "UNTIL" in parts
                                       else (None, None, False))
    parsed = Rule(freq=freq, interval=interval, by_day=by_day, by_month_day=by_month_day,
                  by_month=by_month, by_set_pos=by_set_pos, count=count, until=until,
                  until_time=until_time, until_is_utc=until_is_utc, wkst=wkst)
    _check_combination(parsed)
    return parsed


def _split_parts(rule: str) -> dict[str, str]:
    if not isinstance(rule, str):
        raise RuleError(f"the rule must be text such as FREQ=WEEKLY;BYDAY=MO, got {rule!r}")
    text = rule.strip()
    if not text:
        raise RuleError("the rule is empty")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"the rule is longer than {MAX_RULE_LENGTH} characters")
    if "DTSTART" in text.upper():
        raise RuleError("DTSTART does not belong in the rule: the first date and the start "
                        "time are separate fields")
    if "\n" in text or "\r" in text:
        raise RuleError("the rule must be a single line (one RRULE value)")
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:"):]
    parts: dict[str, str] = {}
    for raw in text.split(";"):
        part = raw.strip()
        if not part:
            continue
        name, sep, value = (piece.strip().upper() for piece in part.partition("="))
        if not sep or not _WORD.match(name):
            raise RuleError(f"{part!r} is not a NAME=VALUE part of a rule "
                            "(for example FREQ=WEEKLY;BYDAY=MO,WE)")
        if name in _TIME_PARTS:
            raise RuleError(f"{name} is not supported: the time of day is a separate field "
                            "(the start time), not part of the rule")
        if name in _UNSUPPORTED_PARTS:
            raise RuleError(f"{name} is not supported by Rounds")
        if name not in _PART_ORDER:
            raise RuleError(f"unknown rule part {name!r}")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        if not value:
            raise RuleError(f"{name} has no value")
        parts[name] = value
    return parts


def _freq(value: str) -> str:
    if value in FREQUENCIES:
        return value
    if value in ("HOURLY", "MINUTELY", "SECONDLY"):
        raise RuleError(f"FREQ={value} is not supported: use DAILY, WEEKLY, MONTHLY or YEARLY")
    raise RuleError(f"unknown FREQ {value!r} (use DAILY, WEEKLY, MONTHLY or YEARLY)")


def _bounded_int(name: str, value: str, low: int, high: int) -> int:
    if not _NATURAL.match(value) or not low <= int(value) <= high:
        raise RuleError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _int_list(name: str, value: str | None, low: int, high: int, what: str,
              signed: bool = False) -> tuple[int, ...]:
    if value is None:
        return ()
    numbers = []
    for item in value.split(","):
        item = item.strip()
        number = int(item) if _INTEGER.match(item) else None
        if number is None or not (low <= abs(number) <= high) or (number < 0 and not signed):
            raise RuleError(f"{name} must list {what}; {item!r} is not one")
        numbers.append(number)
    return tuple(sorted(set(numbers)))


def _weekday_code(name: str, code: str) -> int:
    if code not in WEEKDAY_CODES:
        raise RuleError(f"unknown weekday code {code!r} in {name} "
                        f"(use {', '.join(WEEKDAY_CODES)})")
    return WEEKDAY_CODES.index(code)


def _by_day(value: str | None, freq: str, has_by_month: bool) -> tuple[tuple[int | None, int], ...]:
    if value is None:
        return ()
    items = []
    # An ordinal counts within the month (MONTHLY, or YEARLY with BYMONTH) or within the year.
    max_ordinal = 53 if freq == "YEARLY" and not has_by_month else 5
    for raw in value.split(","):
        item = raw.strip()
        match = _BYDAY_ITEM.match(item)
        if not match:
            raise RuleError(f"BYDAY item {item!r} is not a weekday code such as MO or 2TU")
        ordinal_text, code = match.groups()
        weekday = _weekday_code("BYDAY", code)
        ordinal = int(ordinal_text) if ordinal_text else None
        if ordinal is not None:
            if freq not in ("MONTHLY", "YEARLY"):
                raise RuleError(f"BYDAY={item}: a numbered weekday (such as 2TU or -1FR) needs "
                                "FREQ=MONTHLY or FREQ=YEARLY")
            if ordinal == 0 or abs(ordinal) > max_ordinal:
                raise RuleError(f"BYDAY={item}: the number must be 1 to {max_ordinal} "
                                f"or -1 to -{max_ordinal}")
        items.append((ordinal, weekday))
    return tuple(sorted(set(items), key=lambda x: (x[1], x[0] or 0)))


def _until(value: str) -> tuple[date, time | None, bool]:
    match = _UNTIL.match(value)
    problem = (f"UNTIL must be a date such as 20270131 or a date-time such as "
               f"20270131T235959Z, got {value!r}")
    if not match:
        raise RuleError(problem)
    year, month, day, hour, minute, second, zulu = match.groups()
    try:
        until = date(int(year), int(month), int(day))
        clock = None if hour is None else time(int(hour), int(minute), int(second))
    except ValueError:
        raise RuleError(problem + " (no such date or time)") from None
    return until, clock, bool(zulu)


def _check_combination(rule: Rule) -> None:
    """Parts that are each fine but do not go together, or can never produce a date."""
    if rule.by_month_day and rule.freq == "WEEKLY":
        raise RuleError("BYMONTHDAY cannot be used with FREQ=WEEKLY (RFC 5545); "
                        "use FREQ=MONTHLY")
    if rule.by_set_pos:
        if rule.freq == "DAILY":
            raise RuleError("BYSETPOS needs FREQ=WEEKLY, MONTHLY or YEARLY")
        if not (rule.by_day or rule.by_month_day or rule.by_month):
            raise RuleError("BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to pick from")
    if rule.by_month_day:
        months = rule.by_month or tuple(range(1, 13))
        if not any(abs(d) <= _DAYS_IN_MONTH_LEAP[m] for m in months for d in rule.by_month_day):
            named = "/".join(MONTH_ABBREVIATIONS[m - 1] for m in months)
            days = ", ".join(map(str, rule.by_month_day))
            raise RuleError(f"the rule can never happen: {named} has no day {days}")


_DAYS_IN_MONTH_LEAP = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

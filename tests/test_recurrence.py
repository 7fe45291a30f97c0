"""Recurrence: rules checked in words, expanded over dates, placed on the wall clock.

Expected dates are worked out by hand from a calendar (2026-01-01 is a Thursday; the clocks
change in Chicago on Sundays 2026-03-08, 2026-11-01, 2027-03-14 and 2027-11-07), or taken from
the examples in RFC 5545 section 3.8.5.3. The fast daily/weekly expansion is compared with
dateutil on random rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler import models
from scheduler.calendar.expand import first_occurrence, occurrence_dates, occurs_on, validate_rule
from scheduler.calendar.local_time import local_datetime, local_day_bounds, local_epoch, to_epoch
from scheduler.calendar.rules import RuleError, normalize_rule, parse_rule
from scheduler.calendar.series import Occurrence, exception_problems, expand_series
from scheduler.calendar.treatments import treatment_epoch_intervals, treatment_intervals
from scheduler.calendar.words import describe_rule

CHICAGO = ZoneInfo("America/Chicago")
HOUR = 3600


def d(text: str) -> date:
    return date.fromisoformat(text)


def dates(*texts: str) -> list[date]:
    return [d(t) for t in texts]


def year(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


# ---------------------------------------------------------------------------------------------
# Checking rules


@pytest.mark.parametrize(("rule", "message"), [
    ("", "the rule is empty"),
    ("   ", "the rule is empty"),
    ("garbage", "'garbage' is not a NAME=VALUE part"),
    ("FREQ=WEEKLY;BYDAY=MO,XX", "unknown weekday code 'XX' in BYDAY"),
    ("FREQ=WEEKLY;WKST=XY", "unknown weekday code 'XY' in WKST"),
    ("BYDAY=MO,WE", "the rule has no FREQ"),
    ("FREQ=SOMETIMES", "unknown FREQ 'SOMETIMES'"),
    ("FREQ=HOURLY", "FREQ=HOURLY is not supported"),
    ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 1000, got '0'"),
    ("FREQ=WEEKLY;INTERVAL=-2", "INTERVAL must be a whole number"),
    ("FREQ=WEEKLY;INTERVAL=two", "INTERVAL must be a whole number"),
    ("FREQ=WEEKLY;INTERVAL=²", "INTERVAL must be a whole number"),
    ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1"),
    ("FREQ=DAILY;COUNT=5;UNTIL=20270101", "COUNT and UNTIL cannot both be given"),
    ("FREQ=DAILY;UNTIL=2027-01-01", "UNTIL must be a date such as 20270131"),
    ("FREQ=DAILY;UNTIL=20270230", "no such date"),
    ("FREQ=DAILY;BYHOUR=9", "BYHOUR is not supported: the time of day is a separate field"),
    ("FREQ=DAILY;BYMINUTE=30", "BYMINUTE is not supported"),
    ("FREQ=DAILY;BYSECOND=0", "BYSECOND is not supported"),
    ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO is not supported"),
    ("FREQ=WEEKLY;FOO=1", "unknown rule part 'FOO'"),
    ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "DTSTART does not belong in the rule"),
    ("FREQ=DAILY;DTSTART=20260101", "DTSTART does not belong in the rule"),
    ("FREQ=DAILY\nFREQ=WEEKLY", "a single line"),
    ("FREQ=WEEKLY;FREQ=DAILY", "FREQ is given twice"),
    ("FREQ=WEEKLY;BYDAY=", "BYDAY has no value"),
    ("FREQ=WEEKLY;BYDAY=2TU", "a numbered weekday (such as 2TU or -1FR) needs FREQ=MONTHLY"),
    ("FREQ=MONTHLY;BYDAY=6TU", "the number must be 1 to 5"),
    ("FREQ=MONTHLY;BYDAY=0TU", "the number must be 1 to 5"),
    ("FREQ=YEARLY;BYDAY=54MO", "the number must be 1 to 53"),
    ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY must list a day of the month"),
    ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY must list a day of the month"),
    ("FREQ=YEARLY;BYMONTH=13", "BYMONTH must list a month number 1 to 12"),
    ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY cannot be used with FREQ=WEEKLY"),
    ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH"),
    ("FREQ=DAILY;BYDAY=MO;BYSETPOS=1", "BYSETPOS needs FREQ=WEEKLY, MONTHLY or YEARLY"),
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0", "BYSETPOS must list a position"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "can never happen: Feb has no day 30"),
    ("FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31,-31", "can never happen"),
    ("FREQ=WEEKLY;" + "BYDAY=MO,TU;" * 30, "longer than 255 characters"),
])
def test_a_bad_rule_is_named_in_words(rule: str, message: str) -> None:
    with pytest.raises(RuleError) as error:
        validate_rule(rule)
    assert message in str(error.value)


def test_a_rule_that_is_not_text_is_refused() -> None:
    with pytest.raises(RuleError, match="must be text"):
        validate_rule(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", [
    "FREQ=DAILY",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "freq=weekly;byday=mo,we,fr",
    "RRULE:FREQ=WEEKLY;BYDAY=TU",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;WKST=SU",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=+1MO",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=DAILY;COUNT=10",
    "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270131",
    "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270131T235959Z",
    "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270131T120000",
    "FREQ=WEEKLY; BYDAY=MO ;",
])
def test_good_rules_are_accepted(rule: str) -> None:
    validate_rule(rule)
    # The canonical spelling means the same rule.
    assert parse_rule(normalize_rule(rule)) == parse_rule(rule)


def test_normalize_rule_spells_a_rule_one_way() -> None:
    assert normalize_rule("rrule:byday=fr,mo,we;freq=weekly") == "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    assert (normalize_rule("FREQ=MONTHLY;BYDAY=-1FR,2TU;INTERVAL=2")
            == "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU,-1FR")


def test_with_a_first_date_a_rule_must_produce_a_date() -> None:
    validate_rule("FREQ=WEEKLY;BYDAY=MO", d("2026-03-02"))
    with pytest.raises(RuleError, match="ends .UNTIL 2026-01-31. before its first date"):
        validate_rule("FREQ=WEEKLY;UNTIL=20260131", d("2026-03-02"))
    # Never a sixth Monday in a month: dateutil alone would search until the year 9999.
    with pytest.raises(RuleError, match="never produces a date"):
        validate_rule("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", d("2026-03-02"))
    # Every 7th day from a Monday is never a Tuesday.
    with pytest.raises(RuleError, match="never produces a date"):
        validate_rule("FREQ=DAILY;INTERVAL=7;BYDAY=TU", d("2026-03-02"))


# ---------------------------------------------------------------------------------------------
# Expanding rules over dates


def test_weekly_on_chosen_days() -> None:
    got = occurrence_dates("FREQ=WEEKLY;BYDAY=MO,WE,FR", d("2026-03-02"),
                           (d("2026-03-01"), d("2026-03-15")))
    assert got == dates("2026-03-02", "2026-03-04", "2026-03-06",
                        "2026-03-09", "2026-03-11", "2026-03-13")


def test_nothing_before_the_first_date_nor_after_the_last() -> None:
    got = occurrence_dates("FREQ=WEEKLY;BYDAY=MO,WE,FR", d("2026-03-04"),
                           (d("2026-03-01"), d("2026-03-31")), last_date=d("2026-03-11"))
    assert got == dates("2026-03-04", "2026-03-06", "2026-03-09", "2026-03-11")


def test_weekly_without_byday_repeats_the_first_dates_weekday() -> None:
    got = occurrence_dates("FREQ=WEEKLY", d("2026-03-05"), (d("2026-03-01"), d("2026-03-31")))
    assert got == dates("2026-03-05", "2026-03-12", "2026-03-19", "2026-03-26")


def test_every_two_weeks() -> None:
    got = occurrence_dates("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", d("2026-03-03"),
                           (d("2026-03-01"), d("2026-04-30")))
    assert got == dates("2026-03-03", "2026-03-17", "2026-03-31", "2026-04-14", "2026-04-28")


def test_every_two_weeks_counts_weeks_from_the_week_of_the_first_date() -> None:
    # First date Thursday 2026-03-05: its week (Mon 2 Mar) is week 0, so the Tuesday of that
    # week is before the first date and skipped; the next is in the week of 16 Mar.
    got = occurrence_dates("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", d("2026-03-05"),
                           (d("2026-03-01"), d("2026-03-31")))
    assert got == dates("2026-03-05", "2026-03-17", "2026-03-19", "2026-03-31")


@pytest.mark.parametrize(("rule", "expected"), [
    # RFC 5545 3.8.5.3: "changing only WKST from MO to SU yields different results",
    # DTSTART 1997-08-05 (a Tuesday).
    ("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
     ["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"]),
    ("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
     ["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"]),
])
def test_rfc_5545_wkst_examples(rule: str, expected: list[str]) -> None:
    assert occurrence_dates(rule, d("1997-08-05"), year(1997)) == dates(*expected)


@pytest.mark.parametrize(("rule", "first", "expected"), [
    # RFC 5545 3.8.5.3 examples (DTSTART given in each).
    ("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", "1997-09-05",
     ["1997-09-05", "1997-10-03", "1997-11-07", "1997-12-05", "1998-01-02", "1998-02-06",
      "1998-03-06", "1998-04-03", "1998-05-01", "1998-06-05"]),
    ("FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", "1997-09-22",
     ["1997-09-22", "1997-10-20", "1997-11-17", "1997-12-22", "1998-01-19", "1998-02-16"]),
    ("FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1", "1997-09-30",
     ["1997-09-30", "1997-10-01", "1997-10-31", "1997-11-01", "1997-11-30", "1997-12-01",
      "1997-12-31", "1998-01-01", "1998-01-31", "1998-02-01"]),
    ("FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU", "1997-09-07",
     ["1997-09-07", "1997-09-28", "1997-11-02", "1997-11-30", "1998-01-04", "1998-01-25",
      "1998-03-01", "1998-03-29", "1998-05-03", "1998-05-31"]),
    ("FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3;COUNT=3", "1997-09-04",
     ["1997-09-04", "1997-10-07", "1997-11-06"]),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2;COUNT=4", "1997-09-29",
     ["1997-09-29", "1997-10-30", "1997-11-27", "1997-12-30"]),
    ("FREQ=DAILY;INTERVAL=10;COUNT=5", "1997-09-02",
     ["1997-09-02", "1997-09-12", "1997-09-22", "1997-10-02", "1997-10-12"]),
    ("FREQ=WEEKLY;INTERVAL=2;WKST=SU;COUNT=8;BYDAY=TU,TH", "1997-09-02",
     ["1997-09-02", "1997-09-04", "1997-09-16", "1997-09-18", "1997-09-30", "1997-10-02",
      "1997-10-14", "1997-10-16"]),
])
def test_rfc_5545_examples(rule: str, first: str, expected: list[str]) -> None:
    got = occurrence_dates(rule, d(first), (d(first), d(first) + timedelta(days=365)))
    assert got == dates(*expected)


def test_nth_weekday_of_the_month() -> None:
    assert occurrence_dates("FREQ=MONTHLY;BYDAY=2TU", d("2026-01-01"),
                            (d("2026-01-01"), d("2026-04-30"))) == \
        dates("2026-01-13", "2026-02-10", "2026-03-10", "2026-04-14")
    assert occurrence_dates("FREQ=MONTHLY;BYDAY=-1FR", d("2026-01-01"),
                            (d("2026-01-01"), d("2026-04-30"))) == \
        dates("2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24")


def test_last_weekday_of_the_month() -> None:
    # May 2026 ends on a Sunday: its last weekday is Friday the 29th.
    got = occurrence_dates("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", d("2026-04-01"),
                           (d("2026-04-01"), d("2026-06-30")))
    assert got == dates("2026-04-30", "2026-05-29", "2026-06-30")


@pytest.mark.parametrize(("rule", "first", "expected"), [
    # Months without a 31st are skipped (RFC 5545), never moved to the 30th.
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-01-31",
     ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31",
      "2026-12-31"]),
    # A monthly rule without BYMONTHDAY takes the first date's day: the same.
    ("FREQ=MONTHLY", "2026-01-31",
     ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31",
      "2026-12-31"]),
    ("FREQ=MONTHLY;BYMONTHDAY=30", "2026-01-01",
     ["2026-01-30", "2026-03-30", "2026-04-30", "2026-05-30", "2026-06-30", "2026-07-30",
      "2026-08-30", "2026-09-30", "2026-10-30", "2026-11-30", "2026-12-30"]),
    # 2026 is not a leap year: no February 29th.
    ("FREQ=MONTHLY;BYMONTHDAY=29", "2026-01-01",
     ["2026-01-29", "2026-03-29", "2026-04-29", "2026-05-29", "2026-06-29", "2026-07-29",
      "2026-08-29", "2026-09-29", "2026-10-29", "2026-11-29", "2026-12-29"]),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-01",
     ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30",
      "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31"]),
])
def test_monthly_on_the_29th_to_31st(rule: str, first: str, expected: list[str]) -> None:
    assert occurrence_dates(rule, d(first), year(2026)) == dates(*expected)


def test_monthly_on_the_29th_in_a_leap_year_and_the_last_day() -> None:
    feb_2028 = (d("2028-02-01"), d("2028-02-29"))
    assert occurrence_dates("FREQ=MONTHLY;BYMONTHDAY=29", d("2026-01-01"), feb_2028) == \
        dates("2028-02-29")
    assert occurrence_dates("FREQ=MONTHLY;BYMONTHDAY=-1", d("2026-01-01"), feb_2028) == \
        dates("2028-02-29")


def test_yearly_on_february_29th_only_in_leap_years() -> None:
    got = occurrence_dates("FREQ=YEARLY", d("2024-02-29"), (d("2024-01-01"), d("2033-12-31")))
    assert got == dates("2024-02-29", "2028-02-29", "2032-02-29")


def test_count_is_counted_from_the_first_date_not_the_range() -> None:
    # Mondays from 2026-01-05: Jan 5, 12, 19, 26, Feb 2 are the five.
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=5"
    assert occurrence_dates(rule, d("2026-01-05"), (d("2026-02-01"), d("2026-03-31"))) == \
        dates("2026-02-02")
    assert occurrence_dates(rule, d("2026-01-05"), (d("2026-02-03"), d("2026-12-31"))) == []


def test_count_on_a_rule_dateutil_expands() -> None:
    rule = "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"
    assert occurrence_dates(rule, d("2026-01-01"), (d("2026-02-01"), d("2026-12-31"))) == \
        dates("2026-02-10", "2026-03-10")


def test_until_is_inclusive() -> None:
    got = occurrence_dates("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260316", d("2026-03-02"), year(2026))
    assert got == dates("2026-03-02", "2026-03-09", "2026-03-16")


def test_a_utc_until_counts_by_its_local_date() -> None:
    # 2026-03-17T03:00Z is still the 16th (22:00 CDT) in Chicago, and the 17th in UTC.
    rule = "FREQ=DAILY;UNTIL=20260317T030000Z"
    in_chicago = occurrence_dates(rule, d("2026-03-15"), year(2026), zone=CHICAGO)
    in_utc = occurrence_dates(rule, d("2026-03-15"), year(2026))
    assert in_chicago == dates("2026-03-15", "2026-03-16")
    assert in_utc == dates("2026-03-15", "2026-03-16", "2026-03-17")


def test_last_date_and_until_together_the_earlier_wins() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260316"
    assert occurrence_dates(rule, d("2026-03-02"), year(2026), last_date=d("2026-03-10")) == \
        dates("2026-03-02", "2026-03-09")
    assert occurrence_dates(rule, d("2026-03-02"), year(2026), last_date=d("2026-12-31")) == \
        dates("2026-03-02", "2026-03-09", "2026-03-16")


def test_no_rule_is_a_single_occurrence() -> None:
    assert occurrence_dates(None, d("2026-03-04"), year(2026)) == dates("2026-03-04")
    assert occurrence_dates(None, d("2026-03-04"), (d("2026-03-05"), d("2026-03-31"))) == []
    assert occurs_on(None, d("2026-03-04"), d("2026-03-04"))
    assert not occurs_on(None, d("2026-03-04"), d("2026-03-05"))
    assert first_occurrence(None, d("2026-03-04")) == d("2026-03-04")


def test_a_rule_that_never_happens_expands_to_nothing_quickly() -> None:
    assert first_occurrence("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", d("2026-01-01")) is None
    assert occurrence_dates("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", d("2026-01-01"),
                            year(2026)) == []
    assert not occurs_on("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", d("2026-01-01"), d("2026-01-05"))
    assert occurrence_dates("FREQ=DAILY;UNTIL=20251231", d("2026-01-01"), year(2026)) == []


def test_rules_that_run_past_the_year_9999_stop_there() -> None:
    rule = "FREQ=DAILY;INTERVAL=1000;COUNT=10000;BYMONTH=1"
    validate_rule(rule, d("2026-01-01"))
    got = occurrence_dates(rule, d("2026-01-01"), (d("2026-01-01"), date.max))
    assert got[0] >= d("2026-01-01") and got[-1] <= date.max
    assert all(day.month == 1 for day in got)
    assert occurrence_dates("FREQ=WEEKLY;COUNT=5", d("9999-12-01"), (d("9999-01-01"), date.max)) \
        == dates("9999-12-01", "9999-12-08", "9999-12-15", "9999-12-22", "9999-12-29")


def test_first_occurrence() -> None:
    assert first_occurrence("FREQ=MONTHLY;BYDAY=2TU", d("2026-01-14")) == d("2026-02-10")
    assert first_occurrence("FREQ=WEEKLY;BYDAY=FR", d("2026-01-01")) == d("2026-01-02")


def test_an_invalid_rule_raises_when_expanded() -> None:
    with pytest.raises(RuleError, match="unknown weekday code"):
        occurrence_dates("FREQ=WEEKLY;BYDAY=XX", d("2026-01-01"), year(2026))


# --- against dateutil, on random rules ------------------------------------------------------

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def periodic_rules(draw: st.DrawFn) -> str:
    """Daily and weekly rules, which Rounds expands without dateutil."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.integers(1, 9))}"]
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        parts.append("BYDAY=" + ",".join(days))
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(WEEKDAYS))}")
    if draw(st.integers(0, 4)) == 0:
        months = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True))
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    if freq == "DAILY" and draw(st.integers(0, 4)) == 0:
        days = draw(st.lists(st.integers(1, 31) | st.integers(-31, -1), min_size=1, max_size=3,
                             unique=True))
        parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    ending = draw(st.sampled_from(["none", "count", "until"]))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    elif ending == "until":
        parts.append(f"UNTIL={draw(st.dates(date(2025, 1, 1), date(2028, 12, 31))):%Y%m%d}")
    return ";".join(parts)


@st.composite
def other_rules(draw: st.DrawFn) -> str:
    """Monthly and yearly rules, and weekly ones with BYSETPOS, expanded by dateutil."""
    kind = draw(st.sampled_from(["nth", "monthday", "setpos", "yearly", "weekly-setpos"]))
    interval = draw(st.integers(1, 4))
    if kind == "nth":
        n = draw(st.sampled_from([1, 2, 3, 4, -1, -2]))
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYDAY={n}{draw(st.sampled_from(WEEKDAYS))}"
    elif kind == "monthday":
        day = draw(st.sampled_from([1, 15, 28, 29, 30, 31, -1, -2]))
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={day}"
    elif kind == "setpos":
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=5, unique=True))
        pos = draw(st.sampled_from([1, 2, -1]))
        rule = f"FREQ=MONTHLY;BYDAY={','.join(days)};BYSETPOS={pos}"
    elif kind == "weekly-setpos":
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=2, max_size=5, unique=True))
        rule = f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={','.join(days)};BYSETPOS=-1"
    else:
        month, day = draw(st.integers(1, 12)), draw(st.integers(1, 28))
        rule = f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"
    if draw(st.booleans()):
        rule += f";COUNT={draw(st.integers(1, 30))}"
    return rule


def dateutil_dates(rule: str, first: date, start: date, end: date) -> list[date]:
    """What dateutil says, from a naive midnight DTSTART (dates only)."""
    expansion = rrulestr(normalize_rule(rule), dtstart=datetime.combine(first, time()))
    return [x.date() for x in expansion.between(datetime.combine(start, time()),
                                                datetime.combine(end, time()), inc=True)]


@settings(max_examples=300, deadline=None)
@given(rule=periodic_rules() | other_rules(),
       first=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
       start=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
       days=st.integers(0, 500))
def test_expansion_agrees_with_dateutil(rule: str, first: date, start: date, days: int) -> None:
    end = start + timedelta(days=days)
    if first_occurrence(rule, first) is None:
        return  # a pattern that never matches (dateutil would search until the year 9999)
    expected = dateutil_dates(rule, first, start, end)
    assert occurrence_dates(rule, first, (start, end)) == expected
    # occurs_on gives the same answer, day by day, on a stretch of the range.
    for offset in range(min(days, 40) + 1):
        day = start + timedelta(days=offset)
        assert occurs_on(rule, first, day) == (day in expected)


@settings(max_examples=100, deadline=None)
@given(rule=periodic_rules() | other_rules(),
       first=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
       cut=st.integers(0, 700), last=st.none() | st.dates(date(2025, 6, 1), date(2027, 12, 31)))
def test_splitting_a_range_splits_the_dates(rule: str, first: date, cut: int,
                                            last: date | None) -> None:
    start, end = date(2025, 1, 1), date(2027, 12, 31)
    middle = start + timedelta(days=cut)
    whole = occurrence_dates(rule, first, (start, end), last)
    parts = (occurrence_dates(rule, first, (start, middle), last)
             + occurrence_dates(rule, first, (middle + timedelta(days=1), end), last))
    assert whole == parts
    assert all(day <= last for day in whole if last is not None)


# ---------------------------------------------------------------------------------------------
# Wall-clock time on the days the clocks change

SPRING_FORWARD = [d("2026-03-08"), d("2027-03-14")]
FALL_BACK = [d("2026-11-01"), d("2027-11-07")]


@pytest.mark.parametrize("day", SPRING_FORWARD)
def test_a_time_in_the_spring_gap_moves_forward_by_the_gap(day: date) -> None:
    moment = local_datetime(day, time(2, 30), CHICAGO)
    assert (moment.hour, moment.minute) == (3, 30)
    assert moment.utcoffset() == timedelta(hours=-5)
    assert moment.astimezone(UTC).time() == time(8, 30)  # 02:30 read with the CST offset
    assert local_epoch(day, time(2, 30), CHICAGO) == to_epoch(moment)


@pytest.mark.parametrize("day", FALL_BACK)
def test_a_time_that_happens_twice_is_the_first(day: date) -> None:
    moment = local_datetime(day, time(1, 30), CHICAGO)
    assert moment.utcoffset() == timedelta(hours=-5)  # still CDT: the first 01:30
    assert moment.fold == 0
    assert moment.astimezone(UTC).time() == time(6, 30)


@pytest.mark.parametrize(("day", "hours"), [
    (d("2026-03-08"), 23), (d("2027-03-14"), 23), (d("2026-11-01"), 25), (d("2027-11-07"), 25),
    (d("2026-03-09"), 24), (d("2026-07-01"), 24),
])
def test_local_day_bounds_are_23_24_or_25_hours(day: date, hours: int) -> None:
    start, end = local_day_bounds(day, CHICAGO)
    assert (start.time(), end.time()) == (time(0), time(0))
    assert (end.date() - start.date()).days == 1
    assert (end - start) == timedelta(hours=hours) or \
        (end.astimezone(UTC) - start.astimezone(UTC)) == timedelta(hours=hours)
    assert to_epoch(end) - to_epoch(start) == hours * HOUR


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
       clock=st.times(),
       zone=st.sampled_from(["America/Chicago", "Europe/London", "Australia/Lord_Howe",
                             "America/Santiago", "America/Havana", "Asia/Kolkata"]))
def test_wall_clock_arithmetic_agrees_with_the_zone(day: date, clock: time, zone: str) -> None:
    # Lord Howe moves by half an hour; Santiago and Havana change at midnight.
    tz = ZoneInfo(zone)
    assert local_epoch(day, clock, tz) == to_epoch(local_datetime(day, clock, tz))


@dataclass(frozen=True)
class Treatment:
    rule: str | None
    first_date: date
    start_time: time
    duration_minutes: int
    kind: str = "dialysis"
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0


@pytest.mark.parametrize("day", SPRING_FORWARD + FALL_BACK)
def test_a_weekly_six_oclock_treatment_stays_at_six_across_the_change(day: date) -> None:
    # Every DST day is a Sunday; the treatment is on Sundays at 06:00, four hours long.
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SU", d("2026-01-04"), time(6), 240)
    week_before, week_after = day - timedelta(days=7), day + timedelta(days=7)
    (before,) = treatment_intervals(treatment, week_before, CHICAGO)
    (on_the_day,) = treatment_intervals(treatment, day, CHICAGO)
    (after,) = treatment_intervals(treatment, week_after, CHICAGO)
    for start, end in (before, on_the_day, after):
        assert start.time() == time(6) and end.time() == time(10)
        assert end - start == timedelta(hours=4)
    assert before[0].utcoffset() != after[0].utcoffset()  # the offset changed in between
    # The real gap between the two Sundays' starts is a week plus or minus the hour.
    gap = to_epoch(after[0]) - to_epoch(before[0])
    assert abs(gap - 14 * 24 * HOUR) == HOUR


@pytest.mark.parametrize("day", SPRING_FORWARD)
def test_a_treatment_across_the_spring_gap_lasts_its_real_length(day: date) -> None:
    # 01:00 for 120 minutes: 01:00 CST + 2 h = 04:00 CDT on the wall.
    (start, end) = treatment_intervals(Treatment(None, day, time(1), 120), day, CHICAGO)[0]
    assert (start.time(), end.time()) == (time(1), time(4))
    assert to_epoch(end) - to_epoch(start) == 2 * HOUR
    # A treatment set at 02:30 on that day starts at 03:30 CDT.
    (gap_start, _) = treatment_intervals(Treatment(None, day, time(2, 30), 30), day, CHICAGO)[0]
    assert gap_start.time() == time(3, 30)


@pytest.mark.parametrize("day", FALL_BACK)
def test_a_treatment_across_the_autumn_change_lasts_its_real_length(day: date) -> None:
    # 01:00 CDT + 2 h = 02:00 CST on the wall (01:00-02:00 happens twice).
    (start, end) = treatment_intervals(Treatment(None, day, time(1), 120), day, CHICAGO)[0]
    assert (start.time(), end.time()) == (time(1), time(2))
    assert to_epoch(end) - to_epoch(start) == 2 * HOUR


def test_a_treatment_starting_the_evening_before_touches_the_day() -> None:
    # Saturday 2026-03-07 23:00 CST + 4 h = 05:00 UTC + 4 h = 09:00 UTC = 04:00 CDT Sunday.
    treatment = Treatment("FREQ=WEEKLY;BYDAY=SA", d("2026-01-03"), time(23), 240)
    (start, end) = treatment_intervals(treatment, d("2026-03-08"), CHICAGO)[0]
    assert start == datetime(2026, 3, 7, 23, tzinfo=CHICAGO)
    assert end == datetime(2026, 3, 8, 4, tzinfo=CHICAGO)
    assert treatment_intervals(treatment, d("2026-03-09"), CHICAGO) == []


def test_buffers_reach_into_the_day_from_either_side() -> None:
    # Saturday 23:00-23:30 with 60 minutes after reaches 00:30 Sunday; Monday 00:15 with
    # 30 minutes before reaches 23:45 Sunday. Neither treatment itself touches Sunday.
    saturday = Treatment("FREQ=WEEKLY;BYDAY=SA", d("2026-01-03"), time(23), 30)
    monday = Treatment("FREQ=WEEKLY;BYDAY=MO", d("2026-01-05"), time(0, 15), 30)
    sunday = d("2026-03-15")
    assert treatment_intervals(saturday, sunday, CHICAGO) == []
    assert len(treatment_epoch_intervals(saturday, sunday, CHICAGO, 0, 3600)) == 1
    assert treatment_epoch_intervals(monday, sunday, CHICAGO, 0, 0) == []
    assert len(treatment_epoch_intervals(monday, sunday, CHICAGO, 1800, 0)) == 1


def test_the_real_treatment_model_is_accepted() -> None:
    treatment = models.Treatment(kind="radiation", rule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                                 first_date=d("2026-03-02"), start_time=time(10, 15),
                                 duration_minutes=30, buffer_before_minutes=15)
    assert treatment_intervals(treatment, d("2026-03-07"), CHICAGO) == []  # a Saturday
    ((start, end),) = treatment_intervals(treatment, d("2026-03-09"), CHICAGO)
    assert (start.time(), end.time()) == (time(10, 15), time(10, 45))


# ---------------------------------------------------------------------------------------------
# Series and their exceptions


@dataclass(frozen=True)
class Exception_:
    original_date: date
    action: str
    new_date: date | None = None
    new_start_time: time | None = None
    new_duration_minutes: int | None = None


@dataclass(frozen=True)
class Series:
    rule: str | None
    first_date: date
    duration_minutes: int = 60
    last_date: date | None = None
    exceptions: tuple[Exception_, ...] = field(default=())
    id: int = 7


MWF = "FREQ=WEEKLY;BYDAY=MO,WE,FR"
MARCH_2026 = (d("2026-03-01"), d("2026-03-15"))  # MWF: 2, 4, 6, 9, 11, 13


def plain(*texts: str, duration: int = 60) -> list[Occurrence]:
    return [Occurrence(7, day, day, duration) for day in dates(*texts)]


def test_a_series_without_exceptions() -> None:
    got = expand_series(Series(MWF, d("2026-03-02")), *MARCH_2026)
    assert got == plain("2026-03-02", "2026-03-04", "2026-03-06",
                        "2026-03-09", "2026-03-11", "2026-03-13")


def test_cancel_removes_one_occurrence() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(Exception_(d("2026-03-04"), "cancel"),))
    got = expand_series(series, *MARCH_2026)
    assert d("2026-03-04") not in [o.original_date for o in got]
    assert len(got) == 5


def test_move_to_another_date_and_time() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-04"), "move", new_date=d("2026-03-05"), new_start_time=time(14)),))
    got = expand_series(series, *MARCH_2026)
    moved = [o for o in got if o.original_date == d("2026-03-04")]
    assert moved == [Occurrence(7, d("2026-03-04"), d("2026-03-05"), 60, time(14), True)]
    assert [o.date for o in got] == dates("2026-03-02", "2026-03-05", "2026-03-06",
                                          "2026-03-09", "2026-03-11", "2026-03-13")


def test_move_only_the_time_keeps_the_date() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-06"), "move", new_start_time=time(8, 30)),))
    got = expand_series(series, d("2026-03-06"), d("2026-03-06"))
    assert got == [Occurrence(7, d("2026-03-06"), d("2026-03-06"), 60, time(8, 30), True)]


def test_an_occurrence_moved_into_the_range_appears_and_one_moved_out_disappears() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-16"), "move", new_date=d("2026-03-14")),  # from outside, in
        Exception_(d("2026-03-13"), "move", new_date=d("2026-03-17")),  # from inside, out
    ))
    got = expand_series(series, *MARCH_2026)
    assert [(o.original_date, o.date) for o in got][-2:] == [
        (d("2026-03-11"), d("2026-03-11")), (d("2026-03-16"), d("2026-03-14"))]
    assert d("2026-03-13") not in [o.original_date for o in got]
    # ... and the one moved out shows up in the week it moved to.
    later = expand_series(series, d("2026-03-16"), d("2026-03-22"))
    assert [(o.original_date, o.date) for o in later] == [
        (d("2026-03-13"), d("2026-03-17")), (d("2026-03-18"), d("2026-03-18")),
        (d("2026-03-20"), d("2026-03-20"))]


def test_resize_changes_the_length() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-09"), "resize", new_duration_minutes=90),))
    got = {o.date: o.duration_minutes for o in expand_series(series, *MARCH_2026)}
    assert got[d("2026-03-09")] == 90
    assert got[d("2026-03-11")] == 60


def test_an_exception_on_a_date_the_rule_does_not_produce_is_ignored_and_reported() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-03"), "cancel"),  # a Tuesday
        Exception_(d("2026-03-10"), "move", new_date=d("2026-03-12")),  # a Tuesday
    ))
    assert expand_series(series, *MARCH_2026) == expand_series(
        Series(MWF, d("2026-03-02")), *MARCH_2026)
    problems = exception_problems(series)
    assert problems == [
        "2026-03-03: the series has no occurrence on that date (Mon/Wed/Fri)",
        "2026-03-10: the series has no occurrence on that date (Mon/Wed/Fri)",
    ]


@pytest.mark.parametrize(("exception", "problem"), [
    (Exception_(d("2026-03-02"), "move"), "a move needs a new date or a new start time"),
    (Exception_(d("2026-03-02"), "resize"), "a change of length needs the new length"),
    (Exception_(d("2026-03-02"), "resize", new_duration_minutes=0),
     "the new length must be at least 1 minute, got 0"),
    (Exception_(d("2026-03-02"), "shrink"), "unknown action 'shrink' (use cancel, move or resize)"),
])
def test_exception_problems_in_words(exception: Exception_, problem: str) -> None:
    assert exception_problems(Series(MWF, d("2026-03-02"), exceptions=(exception,))) == [
        f"2026-03-02: {problem}"]


def test_two_exceptions_for_one_occurrence_are_a_problem() -> None:
    series = Series(MWF, d("2026-03-02"), exceptions=(
        Exception_(d("2026-03-02"), "cancel"),
        Exception_(d("2026-03-02"), "resize", new_duration_minutes=30)))
    assert "2026-03-02: more than one exception for the same occurrence" in \
        exception_problems(series)


def test_a_one_off_can_be_moved() -> None:
    series = Series(None, d("2026-03-04"), exceptions=(
        Exception_(d("2026-03-04"), "move", new_date=d("2026-03-05")),))
    assert expand_series(series, *MARCH_2026) == [
        Occurrence(7, d("2026-03-04"), d("2026-03-05"), 60, None, True)]
    assert exception_problems(series) == []


def test_the_last_date_ends_a_series() -> None:
    series = Series(MWF, d("2026-03-02"), last_date=d("2026-03-06"))
    assert [o.date for o in expand_series(series, *MARCH_2026)] == \
        dates("2026-03-02", "2026-03-04", "2026-03-06")


def test_the_real_series_models_are_accepted() -> None:
    series = models.AppointmentSeries(id=3, rule=MWF, first_date=d("2026-03-02"),
                                      last_date=None, duration_minutes=45)
    series.exceptions.append(models.SeriesException(
        original_date=d("2026-03-04"), action=models.ExceptionAction.CANCEL))
    series.exceptions.append(models.SeriesException(
        original_date=d("2026-03-06"), action=models.ExceptionAction.RESIZE,
        new_duration_minutes=30))
    got = expand_series(series, d("2026-03-02"), d("2026-03-06"))
    assert got == [Occurrence(3, d("2026-03-02"), d("2026-03-02"), 45),
                   Occurrence(3, d("2026-03-06"), d("2026-03-06"), 30)]
    assert exception_problems(series) == []


# ---------------------------------------------------------------------------------------------
# Rules in words


@pytest.mark.parametrize(("rule", "first", "words"), [
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", None, "Mon/Wed/Fri"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", None, "every weekday"),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", None, "every weekday"),
    ("FREQ=DAILY", None, "every day"),
    ("FREQ=DAILY;INTERVAL=3", None, "every 3 days"),
    ("FREQ=WEEKLY;BYDAY=TU", None, "every Tue"),
    ("FREQ=WEEKLY", "2026-03-03", "every Tue"),
    ("FREQ=WEEKLY", None, "weekly"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", None, "every 2 weeks on Tue"),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH", None, "every 3 weeks on Mon/Thu"),
    ("FREQ=MONTHLY;BYDAY=2TU", None, "2nd Tuesday of the month"),
    ("FREQ=MONTHLY;BYDAY=-1FR", None, "last Friday of the month"),
    ("FREQ=MONTHLY;BYDAY=1TU,3TU", None, "1st and 3rd Tuesday of the month"),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO", None, "1st Monday of every 2nd month"),
    ("FREQ=MONTHLY;BYMONTHDAY=31", None, "monthly on day 31"),
    ("FREQ=MONTHLY;BYMONTHDAY=1,15", None, "monthly on days 1 and 15"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", None, "monthly on the last day"),
    ("FREQ=MONTHLY", "2026-01-31", "monthly on day 31"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None, "last weekday of the month"),
    ("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20270131", None, "monthly on day 31, until 2027-01-31"),
    ("FREQ=WEEKLY;BYDAY=MO;COUNT=10", None, "every Mon, 10 times"),
    ("FREQ=YEARLY", "2026-03-15", "yearly on Mar 15"),
    ("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", None, "yearly on the 4th Thursday of Nov"),
    ("FREQ=WEEKLY;BYDAY=MO;BYMONTH=6,7,8", None, "every Mon in Jun/Jul/Aug"),
    (None, None, "once"),
    ("FREQ=WEEKLY;BYDAY=XX", None, "an invalid rule"),
])
def test_describe_rule(rule: str | None, first: str | None, words: str) -> None:
    assert describe_rule(rule, d(first) if first else None) == words

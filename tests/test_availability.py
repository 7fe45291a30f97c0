"""Availability: worked examples a reader can check by hand, and tables of small cases.

The running example is one client in Chicago:
- the therapist's shift 07:30–16:30 on weekdays; the facility's visiting hours 09:00–17:00
  on weekdays (closed at weekends); the series prefers 09:00–12:00;
- dialysis Mon/Wed/Fri 06:00–10:00 with 60 minutes after it (the client rests);
- radiation every weekday 10:15–10:45 with 15 minutes before it (transport).

On Monday 2026-03-09 the bounds leave 09:00–12:00; dialysis and its rest take 06:00–11:00,
radiation and its transport 10:00–10:45, so only 11:00–12:00 is free: a 45-minute visit may
start 11:00–11:15, a 60-minute one exactly at 11:00, a 90-minute one nowhere. On Tuesday
(no dialysis) 09:00–10:00 and 10:45–12:00 are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler import models
from scheduler.calendar.availability import (
    Availability,
    compute_availability,
    describe_availability,
    longest_free_minutes,
    visit_fits_any_window,
)
from scheduler.calendar.bounds import Block, Bound
from scheduler.calendar.local_time import from_epoch, local_day_epochs, local_epoch
from scheduler.calendar.visit_rules import (
    during_bound,
    preferred_bound,
    shift_bound,
    treatment_blocks,
    treatment_label,
    visit_constraints,
    visiting_hours_bound,
)

CHICAGO = ZoneInfo("America/Chicago")
MONDAY, TUESDAY, SATURDAY, SUNDAY = (date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 14),
                                     date(2026, 3, 15))
WEEKDAYS = range(5)


@dataclass(frozen=True)
class Hours:
    weekday: int
    open: time
    close: time


@dataclass(frozen=True)
class Shift:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Treatment:
    kind: str
    rule: str | None
    first_date: date
    start_time: time
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    policy: str = "avoid"
    label: str = ""
    facility_id: int | None = None


DIALYSIS = Treatment("dialysis", "FREQ=WEEKLY;BYDAY=MO,WE,FR", date(2026, 1, 5), time(6), 240,
                     buffer_after_minutes=60)
RADIATION = Treatment("radiation", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", date(2026, 1, 5),
                      time(10, 15), 30, buffer_before_minutes=15)
HOURS = [Hours(day, time(9), time(17)) for day in WEEKDAYS]
SHIFTS = [Shift(day, time(7, 30), time(16, 30)) for day in WEEKDAYS]
DIALYSIS_LABEL = "dialysis Mon/Wed/Fri 06:00–10:00 + 60 min after"
RADIATION_LABEL = "radiation every weekday 10:15–10:45 + 15 min before"


def running_example(day: date, minutes: int, **overrides: object) -> Availability:
    rules: dict[str, object] = {"hours": HOURS, "shifts": SHIFTS,
                                "preferred": [["09:00", "12:00"]],
                                "treatments": [DIALYSIS, RADIATION]}
    rules.update(overrides)
    fixed = rules.pop("fixed_start", None)
    return compute_availability(day, CHICAGO, minutes,
                                visit_constraints(day, CHICAGO, **rules),  # type: ignore[arg-type]
                                fixed_start=fixed)  # type: ignore[arg-type]


def hhmm(seconds: int) -> str:
    return from_epoch(seconds, CHICAGO).strftime("%H:%M")


def starts(availability: Availability) -> list[tuple[str, str]]:
    return [(hhmm(w.start_from), hhmm(w.start_until)) for w in availability.windows]


def free(availability: Availability) -> list[tuple[str, str]]:
    return [(hhmm(f.start), hhmm(f.end)) for f in availability.free]


def at(day: date, hour: int, minute: int = 0) -> int:
    return local_epoch(day, time(hour, minute), CHICAGO)


# ---------------------------------------------------------------------------------------------
# The running example


def test_monday_a_45_minute_visit_may_start_from_11_00_to_11_15() -> None:
    availability = running_example(MONDAY, 45)
    (window,) = availability.windows
    assert (hhmm(window.free_start), hhmm(window.free_end)) == ("11:00", "12:00")
    assert (hhmm(window.start_from), hhmm(window.start_until)) == ("11:00", "11:15")
    assert window.opened_by == DIALYSIS_LABEL
    assert window.closed_by == "preferred 09:00–12:00"
    assert availability.reasons == ()


def test_monday_every_piece_taken_away_is_named() -> None:
    availability = running_example(MONDAY, 45)
    assert [(hhmm(r.start), hhmm(r.end), r.why) for r in availability.removed] == [
        ("00:00", "07:30", "shift starts 07:30"),
        ("07:30", "09:00", "visiting hours open 09:00"),
        ("09:00", "11:00", DIALYSIS_LABEL),
        ("10:00", "10:45", RADIATION_LABEL),  # overlaps dialysis: both are named
        ("12:00", "16:30", "preferred window ends 12:00"),
        ("16:30", "00:00", "shift ends 16:30"),
    ]
    assert [r.rule for r in availability.removed][:2] == ["shift 07:30–16:30",
                                                          "visiting hours 09:00–17:00"]


def test_monday_a_60_minute_visit_fits_exactly_once() -> None:
    assert starts(running_example(MONDAY, 60)) == [("11:00", "11:00")]


def test_monday_a_90_minute_visit_does_not_fit_and_says_why() -> None:
    availability = running_example(MONDAY, 90)
    assert availability.is_empty
    assert free(availability) == [("11:00", "12:00")]
    assert availability.reasons == (
        "shift starts 07:30 (takes 00:00–07:30)",
        "visiting hours open 09:00 (takes 07:30–09:00)",
        f"{DIALYSIS_LABEL} (takes 09:00–11:00)",
        f"{RADIATION_LABEL} (takes 10:00–10:45)",
        "preferred window ends 12:00 (takes 12:00–16:30)",
        "shift ends 16:30 (takes 16:30–24:00)",
        f"only free between 11:00 and 12:00 (between {DIALYSIS_LABEL} and preferred "
        "09:00–12:00), shorter than the 90-minute visit",
    )


def test_tuesday_without_dialysis_two_windows() -> None:
    availability = running_example(TUESDAY, 60)
    assert starts(availability) == [("09:00", "09:00"), ("10:45", "11:00")]
    first, second = availability.windows
    # 09:00 is where both the visiting hours and the preferred window begin: the rule applied
    # first (visiting hours) is named for it.
    assert (first.opened_by, first.closed_by) == ("visiting hours 09:00–17:00", RADIATION_LABEL)
    assert (second.opened_by, second.closed_by) == (RADIATION_LABEL, "preferred 09:00–12:00")


def test_why_not_at_a_given_time() -> None:
    availability = running_example(MONDAY, 45)
    assert availability.why_not(at(MONDAY, 11, 10)) == []
    assert availability.why_not(at(MONDAY, 10, 30)) == [DIALYSIS_LABEL, RADIATION_LABEL]
    assert availability.why_not(at(MONDAY, 11, 30)) == ["preferred window ends 12:00"]
    assert availability.why_not(at(MONDAY, 23, 50)) == [
        "the visit would not lie within the day", "shift ends 16:30"]


def test_the_fixed_start_of_a_moved_visit() -> None:
    fits = running_example(MONDAY, 45, fixed_start=time(11, 10))
    assert starts(fits) == [("11:10", "11:10")]
    assert (hhmm(fits.windows[0].free_start), hhmm(fits.windows[0].free_end)) == \
        ("11:00", "12:00")
    clash = running_example(MONDAY, 45, fixed_start=time(10, 30))
    assert clash.is_empty
    assert clash.reasons == (
        f"the fixed start 10:30 does not fit: {DIALYSIS_LABEL}; {RADIATION_LABEL}",)
    # The same start as an aware datetime or as Unix seconds.
    start = datetime(2026, 3, 9, 11, 10, tzinfo=CHICAGO)
    assert running_example(MONDAY, 45, fixed_start=start).windows == fits.windows
    assert running_example(MONDAY, 45, fixed_start=at(MONDAY, 11, 10)).windows == fits.windows


def test_a_fixed_start_on_a_day_with_no_room_at_all_gives_every_reason() -> None:
    availability = running_example(MONDAY, 90, fixed_start=time(11))
    assert availability.reasons[0] == \
        "the fixed start 11:00 does not fit: preferred window ends 12:00"
    assert availability.reasons[-1].startswith("only free between 11:00 and 12:00")


def test_the_optimizer_gets_start_windows_in_unix_seconds() -> None:
    availability = running_example(TUESDAY, 60)
    assert availability.epoch_windows() == [(at(TUESDAY, 9), at(TUESDAY, 9)),
                                            (at(TUESDAY, 10, 45), at(TUESDAY, 11))]
    assert all(isinstance(x, int) for window in availability.epoch_windows() for x in window)


def test_validation_helpers() -> None:
    availability = running_example(MONDAY, 90)
    assert longest_free_minutes(availability) == 60
    assert not visit_fits_any_window(availability)
    assert visit_fits_any_window(availability, 60)
    assert not visit_fits_any_window(availability, 61)
    assert availability.fits(at(MONDAY, 11)) is False  # 90 minutes from 11:00 runs past 12:00


def test_describe_availability_as_plain_data() -> None:
    data = describe_availability(running_example(MONDAY, 45))
    assert data["date"] == "2026-03-09"
    assert data["duration_minutes"] == 45
    assert data["windows"] == [{
        "free_from": "2026-03-09T11:00:00-05:00", "free_until": "2026-03-09T12:00:00-05:00",
        "start_from": "2026-03-09T11:00:00-05:00", "start_until": "2026-03-09T11:15:00-05:00",
        "opened_by": DIALYSIS_LABEL, "closed_by": "preferred 09:00–12:00"}]
    assert data["removed"][0] == {"from": "2026-03-09T00:00:00-05:00",
                                  "until": "2026-03-09T07:30:00-05:00",
                                  "rule": "shift 07:30–16:30", "why": "shift starts 07:30"}
    assert data["reasons"] == []


# ---------------------------------------------------------------------------------------------
# Days without room, and treatments elsewhere


def test_a_closed_day() -> None:
    availability = running_example(SUNDAY, 30, shifts=[Shift(6, time(8), time(12))])
    assert availability.is_empty
    assert "closed on Sundays (takes 08:00–12:00)" in availability.reasons
    assert availability.reasons[-1] == "no free time is left that day"


def test_a_day_off() -> None:
    availability = running_example(SATURDAY, 30, hours=[Hours(5, time(9), time(17))])
    assert availability.is_empty
    assert availability.reasons[0] == "no shift on Saturdays (takes 00:00–24:00)"


def test_a_treatment_at_another_facility_still_blocks() -> None:
    away = Treatment("radiation", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", date(2026, 1, 5),
                     time(10), 60, buffer_before_minutes=30, buffer_after_minutes=30,
                     facility_id=99)
    availability = running_example(TUESDAY, 30, treatments=[away], home_facility_id=4)
    assert starts(availability) == [("09:00", "09:00"), ("11:30", "11:30")]
    label = "radiation every weekday 10:00–11:00 + 30 min before and 30 min after " \
            "(away at another facility)"
    assert [r.why for r in availability.removed if r.rule == label] == [label]


def test_visits_during_a_treatment() -> None:
    chair_side = Treatment("dialysis", "FREQ=WEEKLY;BYDAY=MO,WE,FR", date(2026, 1, 5), time(6),
                           240, buffer_after_minutes=60, policy="during")
    early = [Hours(day, time(6), time(18)) for day in WEEKDAYS]
    monday = running_example(MONDAY, 45, hours=early, preferred=[], during=chair_side,
                             treatments=[chair_side, RADIATION])
    # Inside dialysis (06:00–10:00) and the shift (from 07:30); radiation's transport takes
    # 10:00 on; the during treatment's own buffer does not block.
    assert starts(monday) == [("07:30", "09:15")]
    assert monday.windows[0].opened_by == "shift 07:30–16:30"
    assert monday.windows[0].closed_by == "during dialysis Mon/Wed/Fri 06:00–10:00"
    tuesday = running_example(TUESDAY, 45, hours=early, preferred=[], during=chair_side)
    assert tuesday.is_empty
    assert ("dialysis Mon/Wed/Fri 06:00–10:00 does not take place on Tue 2026-03-10, and the "
            "visit must be during it (takes 07:30–16:30)") in tuesday.reasons


# ---------------------------------------------------------------------------------------------
# Small cases, in a table: each row gives the rules and the free stretches expected.


def shift(start: str, end: str) -> list[Shift]:
    return [Shift(day, time.fromisoformat(start), time.fromisoformat(end)) for day in range(7)]


def block(start: str, minutes: int, before: int = 0, after: int = 0) -> Treatment:
    return Treatment("therapy", "FREQ=DAILY", date(2026, 1, 1), time.fromisoformat(start),
                     minutes, before, after)


CASES = [
    ("no rules at all: the whole day", {}, 60, [("00:00", "00:00")]),
    ("a shift only", {"shifts": shift("08:00", "16:00")}, 60, [("08:00", "16:00")]),
    ("a split shift, cut by visiting hours",
     {"shifts": shift("07:00", "11:00") + shift("13:00", "17:00"),
      "hours": [Hours(day, time(9), time(17)) for day in range(7)]},
     60, [("09:00", "11:00"), ("13:00", "17:00")]),
    ("treatments back to back leave no zero-length gap",
     {"shifts": shift("09:00", "12:00"), "treatments": [block("10:00", 30), block("10:30", 30)]},
     30, [("09:00", "10:00"), ("11:00", "12:00")]),
    ("overlapping treatments",
     {"shifts": shift("09:00", "12:00"), "treatments": [block("10:00", 60), block("10:30", 60)]},
     30, [("09:00", "10:00"), ("11:30", "12:00")]),
    ("a treatment over the whole shift", {"shifts": shift("09:00", "12:00"),
                                          "treatments": [block("08:00", 300)]}, 30, []),
    ("buffers on both sides",
     {"shifts": shift("09:00", "17:00"), "treatments": [block("12:00", 60, 30, 30)]},
     60, [("09:00", "11:30"), ("13:30", "17:00")]),
    ("two preferred windows inside visiting hours",
     {"preferred": [["14:00", "16:00"], ["08:00", "10:00"]],
      "hours": [Hours(day, time(9), time(17)) for day in range(7)]},
     60, [("09:00", "10:00"), ("14:00", "16:00")]),
    ("visiting hours to midnight", {"hours": [Hours(day, time(20), time(0)) for day in range(7)]},
     60, [("20:00", "00:00")]),
    ("overnight visiting hours reach into the next day",
     {"hours": [Hours(day, time(22), time(2)) for day in range(7)]},
     60, [("00:00", "02:00"), ("22:00", "00:00")]),
    ("a treatment the evening before, with its rest, blocks the morning",
     {"shifts": shift("00:00", "12:00"), "treatments": [block("23:00", 120, 0, 60)]},
     60, [("02:00", "12:00")]),
]


@pytest.mark.parametrize(("rules", "minutes", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_small_cases(rules: dict[str, object], minutes: int,
                     expected: list[tuple[str, str]]) -> None:
    constraints = visit_constraints(TUESDAY, CHICAGO, **rules)  # type: ignore[arg-type]
    availability = compute_availability(TUESDAY, CHICAGO, minutes, constraints)
    assert [(hhmm(w.free_start), hhmm(w.free_end)) for w in availability.windows] == expected
    for window in availability.windows:
        assert window.start_until == window.free_end - minutes * 60
        assert window.start_from == window.free_start


@pytest.mark.parametrize(("free_minutes", "visit_minutes", "fits"), [
    (60, 59, True), (60, 60, True), (60, 61, False), (50, 60, False),
])
def test_a_window_is_where_the_whole_visit_fits(free_minutes: int, visit_minutes: int,
                                                fits: bool) -> None:
    constraints = [Bound("shift", ((at(TUESDAY, 9), at(TUESDAY, 9) + free_minutes * 60),))]
    availability = compute_availability(TUESDAY, CHICAGO, visit_minutes, constraints)
    assert (not availability.is_empty) == fits
    if not fits:
        assert availability.reasons[-1].endswith(f"shorter than the {visit_minutes}-minute visit")


# ---------------------------------------------------------------------------------------------
# The days the clocks change


def test_spring_forward_hours_are_an_hour_shorter_in_real_time() -> None:
    # 01:00 CST to 05:00 CDT is three real hours: 02:00-03:00 does not exist that night.
    day = date(2026, 3, 8)
    constraints = visit_constraints(day, CHICAGO, hours=[Hours(6, time(1), time(5))])
    fits = compute_availability(day, CHICAGO, 180, constraints)
    assert [(hhmm(w.start_from), hhmm(w.start_until)) for w in fits.windows] == \
        [("01:00", "01:00")]
    assert fits.windows[0].free_end - fits.windows[0].free_start == 3 * 3600
    too_long = compute_availability(day, CHICAGO, 181, constraints)
    assert too_long.is_empty
    # On a 23-hour day the clock names the zone, so the words cannot be misread.
    assert "only free between 01:00 CST and 05:00 CDT" in too_long.reasons[-1]


def test_fall_back_hours_are_an_hour_longer_in_real_time() -> None:
    # 00:30 CDT to 02:30 CST is three real hours: 01:00-02:00 happens twice.
    day = date(2026, 11, 1)
    constraints = visit_constraints(day, CHICAGO, hours=[Hours(6, time(0, 30), time(2, 30))])
    availability = compute_availability(day, CHICAGO, 170, constraints)
    (window,) = availability.windows
    assert window.free_end - window.free_start == 3 * 3600
    assert window.start_until - window.start_from == 10 * 60
    day_start, day_end = local_day_epochs(day, CHICAGO)
    assert day_end - day_start == 25 * 3600
    assert availability.clock(window.start_until) == "00:40 CDT"  # 02:30 CST − 170 min
    # An hour-long visit may start until 01:30 CST: the second 01:30 of the night.
    (hour_long,) = compute_availability(day, CHICAGO, 60, constraints).windows
    assert availability.clock(hour_long.start_until) == "01:30 CST"
    assert hour_long.start_until - hour_long.start_from == 2 * 3600


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14),
                                 date(2027, 11, 7)])
def test_a_sunday_treatment_blocks_its_wall_clock_hours_on_a_dst_day(day: date) -> None:
    sunday_dialysis = Treatment("dialysis", "FREQ=WEEKLY;BYDAY=SU", date(2026, 1, 4), time(6),
                                240)
    constraints = visit_constraints(day, CHICAGO, shifts=[Shift(6, time(5), time(12))],
                                    treatments=[sunday_dialysis])
    availability = compute_availability(day, CHICAGO, 30, constraints)
    assert [(hhmm(w.free_start), hhmm(w.free_end)) for w in availability.windows] == \
        [("05:00", "06:00"), ("10:00", "12:00")]


# ---------------------------------------------------------------------------------------------
# Building the rules


def test_builders_word_their_rules() -> None:
    assert visiting_hours_bound(HOURS, MONDAY, CHICAGO).label == "visiting hours 09:00–17:00"
    assert shift_bound(SHIFTS, MONDAY, CHICAGO).label == "shift 07:30–16:30"
    split = [Shift(0, time(13), time(17)), Shift(0, time(7), time(11))]
    assert shift_bound(split, MONDAY, CHICAGO).label == "shift 07:00–11:00, 13:00–17:00"
    assert visiting_hours_bound(HOURS, SUNDAY, CHICAGO).label == "closed on Sundays"
    assert shift_bound(SHIFTS, SATURDAY, CHICAGO).label == "no shift on Saturdays"
    assert preferred_bound([], MONDAY, CHICAGO) is None
    assert treatment_label(DIALYSIS) == DIALYSIS_LABEL
    assert treatment_label(RADIATION) == RADIATION_LABEL
    overnight = Treatment("dialysis", "FREQ=WEEKLY;BYDAY=TU,TH,SA", date(2026, 1, 6),
                          time(22), 300, label="nocturnal dialysis")
    assert treatment_label(overnight) == "nocturnal dialysis Tue/Thu/Sat 22:00–03:00"


def test_the_gap_of_a_split_shift_is_worded() -> None:
    split = [Shift(1, time(7), time(11)), Shift(1, time(13), time(17))]
    availability = compute_availability(TUESDAY, CHICAGO, 30,
                                        [shift_bound(split, TUESDAY, CHICAGO)])
    assert [r.why for r in availability.removed] == [
        "shift starts 07:00", "shift ends 11:00, starts again 13:00", "shift ends 17:00"]


def test_treatments_that_do_not_happen_that_day_do_not_block() -> None:
    assert treatment_blocks([DIALYSIS], TUESDAY, CHICAGO) == []
    (dialysis,) = treatment_blocks([DIALYSIS], MONDAY, CHICAGO)
    assert dialysis.interval == (at(MONDAY, 6), at(MONDAY, 10))
    assert dialysis.span == (at(MONDAY, 6), at(MONDAY, 11))
    during = Treatment("dialysis", DIALYSIS.rule, DIALYSIS.first_date, time(6), 240,
                       policy="during")
    assert treatment_blocks([during], MONDAY, CHICAGO) == []
    assert during_bound(during, MONDAY, CHICAGO).intervals == ((at(MONDAY, 6), at(MONDAY, 10)),)


def test_the_real_models_are_accepted() -> None:
    hours = [models.VisitingHours(weekday=day, open=time(9), close=time(17)) for day in WEEKDAYS]
    shifts = [models.Shift(weekday=day, start=time(7, 30), end=time(16, 30)) for day in WEEKDAYS]
    treatments = [
        models.Treatment(kind="dialysis", label="", rule=DIALYSIS.rule,
                         first_date=DIALYSIS.first_date, start_time=time(6), duration_minutes=240,
                         buffer_before_minutes=0, buffer_after_minutes=60,
                         policy=models.TreatmentPolicy.AVOID),
        models.Treatment(kind="radiation", label="", rule=RADIATION.rule,
                         first_date=RADIATION.first_date, start_time=time(10, 15),
                         duration_minutes=30, buffer_before_minutes=15, buffer_after_minutes=0,
                         policy=models.TreatmentPolicy.AVOID, facility_id=None),
    ]
    from_models = running_example(MONDAY, 45, hours=hours, shifts=shifts, treatments=treatments)
    assert from_models.windows == running_example(MONDAY, 45).windows
    assert from_models.removed == running_example(MONDAY, 45).removed


def test_bad_rules_are_refused_with_words() -> None:
    with pytest.raises(ValueError, match="buffers must not be negative"):
        Block("therapy", (0, 10), buffer_before=-60)
    with pytest.raises(ValueError, match="ends before it starts"):
        Block("therapy", (10, 0))
    with pytest.raises(ValueError, match="an interval ends before it starts"):
        Bound("shift", ((10, 0),))
    with pytest.raises(ValueError, match="preferred_windows: expected a time as HH:MM"):
        preferred_bound([["9am", "noon"]], MONDAY, CHICAGO)
    with pytest.raises(ValueError, match="length must be positive"):
        compute_availability(MONDAY, CHICAGO, 0, [])
    with pytest.raises(TypeError, match="must be a Bound or a Block"):
        compute_availability(MONDAY, CHICAGO, 30, ["shift 09:00-17:00"])  # type: ignore[list-item]


def test_a_bound_joins_its_overlapping_intervals() -> None:
    assert Bound("x", ((5, 9), (0, 3), (3, 4), (8, 12), (20, 20))).intervals == ((0, 4), (5, 12))

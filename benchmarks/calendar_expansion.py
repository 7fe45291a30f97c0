"""How long the calendar takes: a year of 1,000 series, and the availability of every visit.

A synthetic 20-therapist practice (50 series each, 1,000 in all; clients with dialysis,
radiation, infusions and med passes; facilities with visiting hours) is built in memory as
model objects, the way `scheduler.calendar.load_practice` returns them, and then timed:

1. expanding every series over a year (occurrence dates, exceptions applied);
2. the availability of every visit of one day of the whole practice (`day_calendar`);
3. the availability of every visit of the whole year, day by day.

Target (issue 2): 1 + 2 within 1 s on this machine.
Run:  .venv/bin/python benchmarks/calendar_expansion.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import time as clock
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from scheduler import models
from scheduler.calendar.day import PracticeSnapshot, calendars_between, day_calendar
from scheduler.calendar.series import expand_series

ZONE = ZoneInfo("America/Chicago")
FIRST = date(2026, 11, 30)
DAYS_CODES = ["MO", "TU", "WE", "TH", "FR"]


def build_practice(therapists: int, series_per_therapist: int, seed: int) -> PracticeSnapshot:
    rng = random.Random(seed)
    facilities = []
    for index in range(60):
        facility = models.Facility(id=index + 1, name=f"Facility {index}", address="x",
                                   kind=models.FacilityKind.HOSPITAL, lat=39.0, lon=-94.6,
                                   overhead_minutes=10)
        facility.hours = [models.VisitingHours(weekday=d, open=time(8 + rng.randint(0, 1)),
                                               close=time(17 + rng.randint(0, 3)))
                          for d in range(7) if d < 6 or rng.random() < 0.5]
        facilities.append(facility)
    staff = []
    for index in range(therapists):
        therapist = models.Therapist(id=index + 1, name=f"T{index}", email=f"t{index}@x",
                                     home_lat=39.0, home_lon=-94.6, skills=["oncology"])
        therapist.shifts = [models.Shift(weekday=d, start=time(7, 30), end=time(16, 30))
                            for d in range(5)]
        staff.append(therapist)
    series = []
    for index in range(therapists * series_per_therapist):
        client = models.Client(id=index + 1, first_name="A", last_name="B", room="1",
                               facility=rng.choice(facilities), active=True)
        client.facility_id = client.facility.id
        client.treatments = _treatments(rng, client)
        days = ",".join(sorted(rng.sample(DAYS_CODES, rng.randint(1, 3)),
                               key=DAYS_CODES.index))
        interval = rng.choice([1, 1, 1, 2])
        item = models.AppointmentSeries(
            id=index + 1, client=client, therapist_id=staff[index % therapists].id,
            rule=f"FREQ=WEEKLY;INTERVAL={interval};BYDAY={days}", first_date=FIRST,
            duration_minutes=rng.choice([30, 45, 60, 90]), priority=rng.randint(10, 90),
            preferred_windows=[["09:00", "15:00"]] if rng.random() < 0.4 else [],
            required_skills=[], active=True, during_treatment=None,
        )
        item.exceptions = [models.SeriesException(
            original_date=FIRST + timedelta(days=7 * rng.randint(1, 40)),
            action=models.ExceptionAction.CANCEL)] if rng.random() < 0.2 else []
        series.append(item)
    return PracticeSnapshot(tuple(staff), tuple(series))


def _treatments(rng: random.Random, client: models.Client) -> list[models.Treatment]:
    choices = [
        ("dialysis", "FREQ=WEEKLY;BYDAY=MO,WE,FR", time(6), 240, 0, 60),
        ("radiation", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", time(10, 15), 30, 15, 15),
        ("chemotherapy", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", time(8), 180, 0, 60),
        ("med pass", "FREQ=DAILY", time(8), 20, 10, 10),
        ("med pass", "FREQ=DAILY", time(12), 20, 10, 10),
        ("physical therapy", "FREQ=WEEKLY;BYDAY=TU,TH", time(13, 30), 45, 0, 30),
    ]
    picked = rng.sample(choices, rng.randint(1, 3))
    return [models.Treatment(kind=kind, label=kind, rule=rule, first_date=FIRST - timedelta(28),
                             start_time=start, duration_minutes=length,
                             buffer_before_minutes=before, buffer_after_minutes=after,
                             policy=models.TreatmentPolicy.AVOID, client=client,
                             facility_id=None)
            for kind, rule, start, length, before, after in picked]


def time_it(function, repeat: int) -> tuple[float, object]:
    results = []
    value = None
    for _ in range(repeat):
        started = clock.perf_counter()
        value = function()
        results.append(clock.perf_counter() - started)
    return statistics.median(results), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=20)
    parser.add_argument("--series-per-therapist", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    snapshot = build_practice(args.therapists, args.series_per_therapist, args.seed)
    last = FIRST + timedelta(days=364)
    print(f"Practice: {len(snapshot.therapists)} therapists, {len(snapshot.series)} series, "
          f"{sum(len(s.client.treatments) for s in snapshot.series)} treatments")

    def expand_year() -> int:
        return sum(len(expand_series(s, FIRST, last, zone=ZONE)) for s in snapshot.series)

    def one_day() -> int:
        calendar = day_calendar(snapshot, FIRST + timedelta(days=2), ZONE)
        return sum(len(t.visits) for t in calendar.therapists)

    def whole_year() -> int:
        return sum(len(t.visits) for calendar in calendars_between(snapshot, FIRST, last, ZONE)
                   for t in calendar.therapists)

    expand_seconds, occurrences = time_it(expand_year, args.repeat)
    day_seconds, day_visits = time_it(one_day, args.repeat)
    print(f"1. expand a year of {len(snapshot.series)} series: {occurrences} occurrences "
          f"in {expand_seconds * 1000:.0f} ms")
    print(f"2. availability of every visit of one day ({day_visits} visits): "
          f"{day_seconds * 1000:.0f} ms")
    print(f"   1 + 2 = {(expand_seconds + day_seconds) * 1000:.0f} ms (target <= 1000 ms)")
    year_seconds, year_visits = time_it(whole_year, 1)
    print(f"3. availability of every visit of the year ({year_visits} visits): "
          f"{year_seconds:.2f} s ({year_seconds / max(year_visits, 1) * 1e6:.0f} µs a visit)")


if __name__ == "__main__":
    main()

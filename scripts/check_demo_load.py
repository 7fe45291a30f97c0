"""Check the Kansas City demo data: does its calendar give the week the issue asks for?

    .venv/bin/python scripts/check_demo_load.py [--anchor YYYY-MM-DD] [--weeks 8] [--no-load]

Prints, for the eight weeks from the anchor Monday (this week's Monday by default):
- each therapist's visits per working day, as a distribution and per weekday;
- the days that look overbooked (hands-on minutes, visiting overheads, the break and a rough
  drive estimate add up to more than the shift, or the therapist's daily limits are passed);
- visits with no window at all (a data mistake) and visits that fit only in a narrow gap.

Windows here are a deliberately simple re-statement of DESIGN.md's rule (preferred windows ∩
visiting hours ∩ shift − `avoid` treatments with their buffers, ∩ the `during` treatment), so
the data can be tuned without the rest of the app; the app's own availability module is the
authority. Finally (unless --no-load) it loads the file into an in-memory SQLite database
through the real loader, which applies every record check.

A visit of a series without a fixed therapist is counted for the client's primary therapist
when they have the skills and work that day, else for the first therapist in the file who does.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil.rrule import rrulestr

DATA = Path(__file__).resolve().parent.parent / "scheduler" / "demo" / "kansas_city.json"
CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TREATMENTS_BEGIN = timedelta(weeks=4)  # the loader starts treatments 4 weeks before the anchor
NARROW_SLACK = 15  # minutes of room a visit has in its widest window to count as "narrow"
ROAD_FACTOR, CITY_KMH = 1.35, 45.0  # rough drive estimate: straight line x factor at this speed

Interval = tuple[int, int]  # minutes since midnight, [start, end)


@dataclass
class Visit:
    series: str
    client: str
    facility: str
    therapist: str | None
    day: date
    minutes: int
    windows: list[Interval] = field(default_factory=list)

    @property
    def widest(self) -> int:
        return max((end - start for start, end in self.windows), default=0)


def minutes(text: str) -> int:
    hours, mins = text.split(":")
    return int(hours) * 60 + int(mins)


def occurs(rule: str | None, first: date, day: date, last: date | None = None) -> bool:
    """Whether a rule started on ``first`` (a one-off when rule is None) falls on ``day``."""
    if day < first or (last is not None and day > last):
        return False
    if rule is None:
        return day == first
    start = datetime.combine(day, datetime.min.time())
    hits = rrulestr(rule, dtstart=datetime.combine(first, datetime.min.time()))
    return bool(hits.between(start, start + timedelta(hours=23, minutes=59), inc=True))


def intersect(a: Iterable[Interval], b: Iterable[Interval]) -> list[Interval]:
    b = list(b)
    return [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b
            if max(s1, s2) < min(e1, e2)]


def subtract(spans: Iterable[Interval], hole: Interval) -> list[Interval]:
    out = []
    for start, end in spans:
        if hole[1] <= start or hole[0] >= end:
            out.append((start, end))
            continue
        if start < hole[0]:
            out.append((start, hole[0]))
        if hole[1] < end:
            out.append((hole[1], end))
    return out


def weekly(table: dict[str, list[str]], day: date) -> list[Interval]:
    pair = table.get(CODES[day.weekday()])
    return [(minutes(pair[0]), minutes(pair[1]))] if pair else []


class Demo:
    """The data file with its keys resolved, for one anchor Monday."""

    def __init__(self, data: dict[str, Any], anchor: date) -> None:
        self.anchor = anchor
        self.facilities = {f["key"]: f for f in data["facilities"]}
        self.therapists = {t["key"]: t for t in data["therapists"]}
        self.clients = {c["key"]: c for c in data["clients"]}
        self.treatments = {t["key"]: t for c in data["clients"] for t in c.get("treatments", [])}
        self.series = data["series"]

    def works(self, therapist: str, day: date) -> bool:
        return CODES[day.weekday()] in self.therapists[therapist]["shifts"]

    def assignee(self, series: dict[str, Any], day: date) -> str | None:
        if series.get("therapist"):
            return series["therapist"]
        skills = set(series.get("required_skills", []))
        primary = self.clients[series["client"]].get("primary_therapist")
        order = ([primary] if primary else []) + list(self.therapists)
        return next((t for t in order if skills <= set(self.therapists[t]["skills"])
                     and self.works(t, day)), None)

    def visits(self, day: date) -> list[Visit]:
        found = []
        for series in self.series:
            first = self.anchor + timedelta(days=int(series.get("starts_in_days", 0)))
            lasts = series.get("lasts_days")
            last = first + timedelta(days=int(lasts) - 1) if lasts else None
            if not occurs(series.get("rule"), first, day, last):
                continue
            client = self.clients[series["client"]]
            visit = Visit(series["key"], client["key"], client["facility"],
                          self.assignee(series, day), day, series["duration_minutes"])
            visit.windows = self.windows(series, visit)
            found.append(visit)
        return found

    def windows(self, series: dict[str, Any], visit: Visit) -> list[Interval]:
        day = visit.day
        spans = [(minutes(a), minutes(b)) for a, b in series.get("preferred_windows", [])]
        spans = spans or [(0, 24 * 60)]
        spans = intersect(spans, weekly(self.facilities[visit.facility]["hours"], day))
        if visit.therapist is None:
            return []
        spans = intersect(spans, weekly(self.therapists[visit.therapist]["shifts"], day))
        treatments_first = self.anchor - TREATMENTS_BEGIN
        for treatment in self.clients[visit.client].get("treatments", []):
            if not occurs(treatment["rule"], treatments_first, day):
                continue
            start = minutes(treatment["start_time"])
            end = start + treatment["duration_minutes"]
            if treatment["key"] == series.get("during_treatment"):
                spans = intersect(spans, [(start, end)])
            elif treatment.get("policy", "avoid") == "avoid":
                spans = subtract(spans, (start - treatment.get("buffer_before_minutes", 0),
                                         end + treatment.get("buffer_after_minutes", 0)))
        if series.get("during_treatment") and not any(
                t["key"] == series["during_treatment"]
                and occurs(t["rule"], treatments_first, day)
                for t in self.clients[visit.client]["treatments"]):
            return []
        return [(s, e) for s, e in spans if e - s >= visit.minutes]

    def km(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
        h = (math.sin((lat2 - lat1) / 2) ** 2
             + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
        return 2 * 6371.0 * math.asin(math.sqrt(h))

    def day_need(self, therapist: str, visits: list[Visit]) -> int:
        """Rough minutes a day needs: hands-on, overheads, break and a nearest-neighbour drive."""
        person = self.therapists[therapist]
        home = (person["home_lat"], person["home_lon"])
        places = {v.facility for v in visits}
        here, drive_km, todo = home, 0.0, set(places)
        while todo:
            nearest = min(todo, key=lambda k: self.km(here, self._at(k)))
            drive_km += self.km(here, self._at(nearest))
            here = self._at(nearest)
            todo.remove(nearest)
        drive_km += self.km(here, home)
        drive = drive_km * ROAD_FACTOR / CITY_KMH * 60
        overhead = sum(self.facilities[k]["overhead_minutes"] for k in places)
        pause = (person.get("break") or {}).get("minutes", 0)
        return round(sum(v.minutes for v in visits) + overhead + pause + drive)

    def _at(self, facility: str) -> tuple[float, float]:
        return self.facilities[facility]["lat"], self.facilities[facility]["lon"]


def report(demo: Demo, weeks: int) -> int:
    per_day: dict[str, dict[date, list[Visit]]] = defaultdict(lambda: defaultdict(list))
    unassigned, impossible, narrow = [], [], []
    days = [demo.anchor + timedelta(days=i) for i in range(7 * weeks)]
    for day in days:
        for visit in demo.visits(day):
            if visit.therapist is None:
                unassigned.append(visit)
                continue
            per_day[visit.therapist][day].append(visit)
            if not visit.windows:
                impossible.append(visit)
            elif visit.widest - visit.minutes < NARROW_SLACK:
                narrow.append(visit)

    print(f"Anchor {demo.anchor} ({weeks} weeks); {len(demo.facilities)} facilities, "
          f"{len(demo.therapists)} therapists, {len(demo.clients)} clients, "
          f"{len(demo.series)} series")
    overbooked = []
    for key, person in demo.therapists.items():
        working = [d for d in days if demo.works(key, d)]
        counts = [len(per_day[key][d]) for d in working]
        spread = Counter(counts)
        print(f"\n{person['name']} ({key}): {len(working)} working days, "
              f"{sum(counts)} visits; visits/day -> days: "
              + ", ".join(f"{n}:{spread[n]}" for n in sorted(spread)))
        for code in CODES:
            row = [len(per_day[key][d]) for d in working if CODES[d.weekday()] == code]
            if row:
                print(f"  {code}: {' '.join(f'{n:2d}' for n in row)}")
        shift_of = {c: minutes(b) - minutes(a) for c, (a, b) in person["shifts"].items()}
        for day in working:
            visits = per_day[key][day]
            need = demo.day_need(key, visits) if visits else 0
            limit = shift_of[CODES[day.weekday()]]
            hands_on = sum(v.minutes for v in visits)
            if (need > limit or len(visits) > person.get("max_visits_per_day", 99)
                    or hands_on > person.get("max_hands_on_minutes", 10**6)):
                overbooked.append((key, day, len(visits), hands_on, need, limit))

    print(f"\nOverbooked days (need > shift, or a daily limit passed): {len(overbooked)}")
    for key, day, count, hands_on, need, limit in overbooked:
        print(f"  {key} {day} {CODES[day.weekday()]}: {count} visits, {hands_on} min hands-on, "
              f"~{need} min needed of {limit}")
    print(f"\nVisits that fit only a narrow gap (< {NARROW_SLACK} min of room): {len(narrow)}")
    for series in sorted(Counter(v.series for v in narrow)):
        sample = next(v for v in narrow if v.series == series)
        spans = ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                          for s, e in sample.windows)
        print(f"  {series} ({sample.client}, {sample.minutes} min): e.g. {sample.day} {spans}")
    print(f"\nVisits with no window at all: {len(impossible)}")
    for visit in impossible[:20]:
        print(f"  {visit.series} {visit.day} {CODES[visit.day.weekday()]} ({visit.client})")
    print(f"Visits no therapist can take: {len(unassigned)}")
    return 1 if impossible or unassigned else 0


def load_into_sqlite(data: dict[str, Any], anchor: date) -> str:
    """Load through the real loader into an in-memory SQLite database; return its summary."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from scheduler import models
    from scheduler.demo.loader import load_demo

    engine = create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with Session(engine) as session:
        summary = load_demo(session, anchor=anchor, data=data)
        session.rollback()
    return (f"loaded: {summary.facilities} facilities, {summary.therapists} therapists, "
            f"{summary.clients} clients, {summary.treatments} treatments, "
            f"{summary.series} series")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--anchor", type=date.fromisoformat,
                        help="the Monday to start from (default: this week's Monday)")
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--file", type=Path, default=DATA)
    parser.add_argument("--no-load", action="store_true", help="skip the real loader")
    args = parser.parse_args(argv)
    today = date.today()
    anchor = args.anchor or today - timedelta(days=today.weekday())
    if anchor.weekday() != 0:
        parser.error(f"--anchor must be a Monday, {anchor} is a {CODES[anchor.weekday()]}")
    data = json.loads(args.file.read_text("utf-8"))
    status = report(Demo(data, anchor), args.weeks)
    if not args.no_load:
        from scheduler.records.validation import ValidationError

        try:
            print("\n" + load_into_sqlite(data, anchor))
        except ValidationError as error:
            print(f"\nthe loader refused the file: {error}")
            return 1
    return status


if __name__ == "__main__":
    sys.exit(main())

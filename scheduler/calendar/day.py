"""Step 1 and 2 of the day-planning pipeline: the visits of a day and when each may happen.

``load_practice`` reads every active series with what its calendar depends on (client,
facility and its hours, treatments and their exceptions, the series' exceptions, therapist
and shifts) in a handful of queries;
``day_calendar`` is then a pure function of that snapshot and a date, so a week or a year is
expanded without going back to the database, and tests can feed it plain objects.

A series with a therapist gives that therapist a visit; a series without one (``any therapist
with skills X``) gives an *open* visit that the optimizer assigns. An open visit's windows
leave the shift out, since the shift depends on who takes it; the optimizer's vehicle windows
hold each therapist's shift instead.

Time off (:mod:`scheduler.time_off`) takes a therapist's whole day, in place of their shift:
they have no working time, as on a weekday without a shift, and their own visits that day
have no window, with the time off in words as the reason ("Devon is off: Vacation (Dec
24–Dec 26)", "practice closed: Thanksgiving"). Open visits go to whoever works.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from scheduler import models
from scheduler.calendar import time_off
from scheduler.calendar.availability import Availability, compute_availability
from scheduler.calendar.bounds import SHIFT, Bound
from scheduler.calendar.series import Occurrence, expand_series
from scheduler.calendar.visit_rules import shift_bound, visit_constraints


@dataclass(frozen=True)
class Visit:
    """One occurrence of a series on the day, with its windows and the rules behind them."""

    occurrence: Occurrence
    series: models.AppointmentSeries
    availability: Availability

    @property
    def client(self) -> models.Client:
        return self.series.client

    @property
    def facility(self) -> models.Facility:
        return self.series.client.facility

    @property
    def therapist_id(self) -> int | None:
        return self.series.therapist_id

    @property
    def duration_minutes(self) -> int:
        return self.occurrence.duration_minutes

    @property
    def key(self) -> str:
        """Stable across re-planning: the series and the date the rule gave."""
        return f"{self.series.id}:{self.occurrence.original_date.isoformat()}"


@dataclass(frozen=True)
class TherapistDay:
    therapist: models.Therapist
    day: date
    shift: Availability  # the shift alone: its windows are the working hours that day
    visits: tuple[Visit, ...]
    off: str | None = None  # why the therapist is off that day, in words; None: not off

    @property
    def works(self) -> bool:
        return bool(self.shift.free)


@dataclass(frozen=True)
class DayCalendar:
    day: date
    zone: ZoneInfo
    therapists: tuple[TherapistDay, ...]
    open_visits: tuple[Visit, ...]  # for any therapist with the series' skills
    closed: str | None = None  # "practice closed: Thanksgiving"; None on an ordinary day

    def eligible_therapists(self, visit: Visit) -> list[models.Therapist]:
        """Therapists who work that day and have every skill the visit asks for."""
        needed = set(visit.series.required_skills or [])
        return [t.therapist for t in self.therapists
                if t.works and needed <= set(t.therapist.skills or [])]


@dataclass(frozen=True)
class PracticeSnapshot:
    """What the calendar of any day depends on, read once."""

    therapists: tuple[models.Therapist, ...]
    series: tuple[models.AppointmentSeries, ...]
    time_off: tuple[models.TimeOff, ...] = ()  # everyone's, and the practice closures


def load_practice(session: Session, therapist_ids: Collection[int] | None = None,
                  series_ids: Collection[int] | None = None) -> PracticeSnapshot:
    """The practice as the calendar needs it, in a handful of queries: every active
    therapist and series, or only ``therapist_ids`` and ``series_ids`` (checking a plan's
    stops needs its therapist and the series of its stops, not the practice)."""
    therapists_query = (select(models.Therapist).where(models.Therapist.active)
                        .options(selectinload(models.Therapist.shifts))
                        .order_by(models.Therapist.id))
    # The one-to-one links come in the series' own row (fewer round trips: checking a plan
    # on every page view reads this); the lists by one query each.
    series_query = (
        select(models.AppointmentSeries)
        .join(models.AppointmentSeries.client)
        .join(models.Client.facility)
        .where(models.AppointmentSeries.active, models.Client.active)
        .options(
            selectinload(models.AppointmentSeries.exceptions),
            joinedload(models.AppointmentSeries.during_treatment)
            .selectinload(models.Treatment.exceptions),
            contains_eager(models.AppointmentSeries.client).options(
                selectinload(models.Client.treatments).selectinload(models.Treatment.exceptions),
                contains_eager(models.Client.facility).selectinload(models.Facility.hours),
            ),
        )
        .order_by(models.AppointmentSeries.id)
    )
    time_off_query = select(models.TimeOff).order_by(models.TimeOff.first_day,
                                                     models.TimeOff.id)
    if therapist_ids is not None:
        therapists_query = therapists_query.where(models.Therapist.id.in_(therapist_ids))
    if series_ids is not None:
        series_query = series_query.where(models.AppointmentSeries.id.in_(series_ids))
    return PracticeSnapshot(tuple(session.scalars(therapists_query)),
                            tuple(session.scalars(series_query)),
                            tuple(session.scalars(time_off_query)))


def day_calendar(snapshot: PracticeSnapshot, day: date, zone: ZoneInfo) -> DayCalendar:
    """Every visit of ``day``: each therapist's, and the open ones."""
    return next(iter(calendars_between(snapshot, day, day, zone)))


def calendars_between(snapshot: PracticeSnapshot, first: date, last: date,
                      zone: ZoneInfo) -> Iterator[DayCalendar]:
    """The calendar of each day from ``first`` to ``last``, expanding each series once."""
    occurrences: dict[date, list[tuple[models.AppointmentSeries, Occurrence]]] = {}
    for series in snapshot.series:
        for occurrence in expand_series(series, first, last, zone=zone):
            occurrences.setdefault(occurrence.date, []).append((series, occurrence))
    day = first
    while day <= last:
        yield _calendar_of(snapshot, day, occurrences.get(day, []), zone)
        day += timedelta(days=1)


def _calendar_of(snapshot: PracticeSnapshot, day: date,
                 occurrences: list[tuple[models.AppointmentSeries, Occurrence]],
                 zone: ZoneInfo) -> DayCalendar:
    by_therapist: dict[int, list[Visit]] = {t.id: [] for t in snapshot.therapists}
    working = {t.id: _working_time(snapshot, t, day, zone) for t in snapshot.therapists}
    open_visits: list[Visit] = []
    for series, occurrence in occurrences:
        if series.therapist_id is None:
            open_visits.append(_visit(series, occurrence, None, zone))
        elif series.therapist_id in by_therapist:
            visit = _visit(series, occurrence, working[series.therapist_id][0], zone)
            by_therapist[series.therapist_id].append(visit)
    days = tuple(
        TherapistDay(t, day, _shift_only(working[t.id][0], day, zone),
                     tuple(by_therapist[t.id]), working[t.id][1])
        for t in snapshot.therapists
    )
    closure = next((e for e in snapshot.time_off
                    if e.therapist_id is None and time_off.covers(e, day)), None)
    return DayCalendar(day, zone, days, tuple(open_visits),
                       time_off.describe(closure) if closure is not None else None)


def _working_time(snapshot: PracticeSnapshot, therapist: models.Therapist, day: date,
                  zone: ZoneInfo) -> tuple[Bound, str | None]:
    """The therapist's shift bound that day and why they are off, if they are: time off
    is a shift bound with no time in it, worded by the time off, so every visit of theirs
    that day says why it has no window exactly as on a weekday without a shift."""
    entry = time_off.entry_on(snapshot.time_off, therapist.id, day)
    if entry is None:
        return shift_bound(therapist.shifts, day, zone), None
    words = time_off.describe(entry, therapist.name)
    return Bound(words, (), SHIFT, "shift"), words


def _visit(series: models.AppointmentSeries, occurrence: Occurrence,
           working: Bound | None, zone: ZoneInfo) -> Visit:
    client = series.client
    constraints = visit_constraints(
        occurrence.date,
        zone,
        hours=client.facility.hours,
        preferred=series.preferred_windows or (),
        treatments=client.treatments,  # only `avoid` ones block; see treatment_blocks
        during=series.during_treatment,
        home_facility_id=client.facility_id,
    )
    if working is not None:
        constraints.insert(0, working)
    availability = compute_availability(occurrence.date, zone, occurrence.duration_minutes,
                                        constraints, fixed_start=occurrence.fixed_start)
    return Visit(occurrence, series, availability)


def _shift_only(working: Bound, day: date, zone: ZoneInfo) -> Availability:
    return compute_availability(day, zone, 1, [working])


# ---------------------------------------------------------------------------------------------
# As data, for `rounds visits --json` and the API. Initials and ids only: no patient names.


def visit_as_data(visit: Visit) -> dict[str, object]:
    availability = visit.availability
    clock = availability.clock
    return {
        "series_id": visit.series.id,
        "date": visit.occurrence.date.isoformat(),
        "original_date": visit.occurrence.original_date.isoformat(),
        "moved": visit.occurrence.moved,
        "client_id": visit.client.id,
        "client_initials": visit.client.initials,
        "facility_id": visit.facility.id,
        "facility": visit.facility.name,
        "room": visit.client.room,
        "therapist_id": visit.therapist_id,
        "required_skills": list(visit.series.required_skills or []),
        "duration_minutes": visit.duration_minutes,
        "priority": visit.series.priority,
        "windows": [
            {"start_from": clock(w.start_from), "start_until": clock(w.start_until),
             "free_from": clock(w.free_start), "free_until": clock(w.free_end),
             "opened_by": w.opened_by, "closed_by": w.closed_by}
            for w in availability.windows
        ],
        "removed": [
            {"from": clock(r.start), "until": clock(r.end), "rule": r.rule, "why": r.why}
            for r in availability.removed
        ],
        "reasons": list(availability.reasons),
    }


def calendar_as_data(calendar: DayCalendar) -> dict[str, Any]:
    return {
        "date": calendar.day.isoformat(),
        "timezone": calendar.zone.key,
        "closed": calendar.closed,
        "therapists": [
            {
                "id": day.therapist.id,
                "name": day.therapist.name,
                "shift": [{"from": day.shift.clock(f.start), "until": day.shift.clock(f.end)}
                          for f in day.shift.free],
                "off": day.off,
                "visits": [visit_as_data(v) for v in day.visits],
            }
            for day in calendar.therapists
        ],
        "open_visits": [
            dict(visit_as_data(v),
                 eligible_therapist_ids=[t.id for t in calendar.eligible_therapists(v)])
            for v in calendar.open_visits
        ],
    }

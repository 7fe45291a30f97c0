"""Step 4 of the day-planning pipeline, its input: a day of the calendar -> tasks and workers.

:func:`gather` turns the therapists being planned and their visits (and the open visits they
could take) into the optimizer's terms: a :class:`~.problem.Task` per visit with its allowed
start windows, a :class:`~.problem.Worker` per therapist with the working time left, the
lunch break and the daily limits, and where each starts (:class:`Start`: home at the shift's
start, or where the therapist is at a re-plan). What cannot become a task (no allowed time,
no coordinates, no therapist at work) is kept with its reason in :attr:`DayInput.unplaced`.

Pins (a stop pinned to a time) and what other therapists already hold come from the current
plans, read by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler import models
from scheduler.calendar.day import DayCalendar, TherapistDay, Visit
from scheduler.calendar.local_time import from_epoch, local_epoch, to_epoch
from scheduler.models import DayPlan, PlanStop, StopState
from scheduler.planning.problem import Location, Pause, Task, Travel, Worker, therapist_token
from scheduler.planning.reasons import (
    after_done_reason,
    clock_text,
    no_time_left_reason,
    no_window_reason,
)
from scheduler.records.precautions import InfectionControl
from scheduler.records.skills import skill_words
from scheduler.records.validation import fail
from scheduler.travel.times import TravelTimes

# What a re-plan keeps where it is: what happened, and a visit in progress (the therapist has
# arrived: the visit is theirs, at its time, whatever the new plan would prefer).
FROZEN_STATES = (StopState.ARRIVED, StopState.DONE, StopState.SKIPPED)


RETURN_HOME_LEAD = 3600
"""The drive home is timed as leaving an hour before the shift ends (for rush hours)."""


@dataclass(frozen=True)
class Start:
    """Where and when a therapist's (rest of the) day starts, and what is already behind."""

    place: Location
    not_before: int  # epoch seconds; the shift start, or the re-plan moment
    lunch_taken: bool = False
    visits_done: int = 0
    minutes_done: int = 0
    replan_at: int | None = None
    # The highest infection-control class visited already (a done isolation visit means the
    # rest of the day can hold no protect visit), and that visit, for the reason in words.
    order_floor: int = 0
    floor_visit: PlanStop | None = None


def selected_days(calendar: DayCalendar, therapist_ids: list[int] | None) -> list[TherapistDay]:
    if therapist_ids is None:
        return [t for t in calendar.therapists if t.works or t.visits]
    by_id = {t.therapist.id: t for t in calendar.therapists}
    chosen = []
    for therapist_id in dict.fromkeys(therapist_ids):
        if therapist_id not in by_id:
            raise fail("therapist_ids", f"no active therapist with id {therapist_id}")
        if by_id[therapist_id].works or by_id[therapist_id].visits:
            chosen.append(by_id[therapist_id])
    return chosen


def therapist_day_of(calendar: DayCalendar, therapist_id: int) -> TherapistDay:
    for therapist_day in calendar.therapists:
        if therapist_day.therapist.id == therapist_id:
            return therapist_day
    raise fail("therapist_id", f"no active therapist with id {therapist_id}")


def home_location(therapist: models.Therapist) -> Location:
    return Location(f"home:{therapist.id}", (therapist.home_lat, therapist.home_lon))


def _shift_span(therapist_day: TherapistDay) -> tuple[int, int] | None:
    free = therapist_day.shift.free
    return (free[0].start, free[-1].end) if free else None


def start_of_day(therapist_day: TherapistDay) -> Start:
    span = _shift_span(therapist_day)
    return Start(home_location(therapist_day.therapist), span[0] if span else 0)


def start_now(therapist_day: TherapistDay, base: DayPlan | None, frozen: Sequence[PlanStop],
              at: datetime, position: tuple[float, float] | None,
              infection: InfectionControl) -> Start:
    """The re-plan's start: here (or the last done building, or home), at ``at``; and the
    infection-control class the done visits have reached.

    A visit the therapist has arrived at counts as done here (they are in that room) and
    the rest of the day starts once it ends, from its building.
    """
    done = [s for s in frozen if s.state in (StopState.DONE, StopState.ARRIVED)]
    in_progress = [s.end_at for s in frozen if s.state == StopState.ARRIVED]
    not_before = max([at, *in_progress])
    if position is not None:
        place = Location("position", position)
    elif done:
        last = max(done, key=lambda s: s.end_at)
        facility = last.facility
        place = _facility_place(facility) if facility.lat is not None else \
            home_location(therapist_day.therapist)
    else:
        place = home_location(therapist_day.therapist)
    lunch_taken = bool(base and base.break_start_at and base.break_start_at <= at)
    minutes = sum(round((s.end_at - s.start_at).total_seconds() / 60) for s in done)
    classes = [(infection.order_class(s.client.precaution_flags or ()) or 0, s) for s in done]
    floor, floor_visit = max(classes, key=lambda item: (item[0], -to_epoch(item[1].start_at)),
                             default=(0, None))
    return Start(place, to_epoch(not_before), lunch_taken, len(done), minutes,
                 replan_at=to_epoch(at),
                 order_floor=floor, floor_visit=floor_visit if floor else None)


def pins_of(currents: Mapping[int, DayPlan | None], therapist_ids: Sequence[int],
          explicit: Mapping[str, datetime | None] | None) -> dict[str, tuple[int, int]]:
    """Visit key -> (therapist id, pinned start) for the therapists being planned."""
    found: dict[str, tuple[int, int]] = {}
    for therapist_id in therapist_ids:
        plan = currents.get(therapist_id)
        for stop in plan.stops if plan else []:
            if stop.pinned:
                found[visit_key(stop.series_id, stop.occurrence_date)] = (
                    therapist_id, to_epoch(stop.start_at))
    for key, start in (explicit or {}).items():
        if start is None:
            found.pop(key, None)
        else:  # a new pin goes with the first therapist planned (pin_visit plans one)
            owner = found[key][0] if key in found else therapist_ids[0]
            found[key] = (owner, to_epoch(start))
    return found


@dataclass
class _Unplaced:
    visit: Visit
    reason: str
    therapist_ids: tuple[int, ...]  # the plans that report it


@dataclass
class DayInput:
    """Everything the optimizer is given for one run, and what it was not given."""

    zone: ZoneInfo
    workers: list[Worker]
    tasks: list[Task]
    visits: dict[str, Visit]  # task key -> visit
    candidates: dict[str, tuple[int, ...]]  # task key -> therapists who may take it
    pinned: dict[str, int]  # task key -> pinned start (honoured)
    pin_notes: dict[str, str]  # task key -> why a pin was not honoured
    places: dict[str, Location]
    starts: dict[int, Start]
    names: dict[int, str] = field(default_factory=dict)  # therapist id -> first name
    unplaced: list[_Unplaced] = field(default_factory=list)
    infection: InfectionControl = field(default_factory=InfectionControl)


def gather(calendar: DayCalendar, selected: Sequence[TherapistDay],
            starts: Mapping[int, Start], currents: Mapping[int, DayPlan | None],
            pins: Mapping[str, tuple[int, int]], *, frozen_keys: set[str],
            infection: InfectionControl) -> DayInput:
    """Tasks and workers for the therapists ``selected``; ``frozen_keys`` are visits kept
    from the current plan (a re-plan's done and skipped stops), not planned again;
    ``infection`` gives each visit its infection-control order class."""
    planned_ids = {t.therapist.id for t in selected}
    day_input = DayInput(calendar.zone, [], [], {}, {}, {}, {}, {}, dict(starts),
                         {t.therapist.id: t.therapist.name.split()[0]
                          for t in calendar.therapists}, infection=infection)
    for therapist_day in selected:
        worker = _worker(therapist_day, starts[therapist_day.therapist.id])
        if worker is not None:
            day_input.workers.append(worker)
            day_input.places[worker.start] = starts[therapist_day.therapist.id].place
            day_input.places[worker.end] = home_location(therapist_day.therapist)
    working = {w.therapist_id for w in day_input.workers}
    held_elsewhere = _held_by_others(currents, planned_ids)
    for therapist_day in selected:
        for visit in therapist_day.visits:
            if visit.key in frozen_keys:
                continue
            if therapist_day.off:  # the time off says it best ("Devon is off: Vacation ...")
                day_input.unplaced.append(_Unplaced(visit, therapist_day.off,
                                                    (therapist_day.therapist.id,)))
                continue
            _add_visit(day_input, visit, (therapist_day.therapist.id,), working, pins)
    for visit in calendar.open_visits:
        if visit.key in frozen_keys or visit.key in held_elsewhere:
            continue
        eligible = tuple(t.id for t in calendar.eligible_therapists(visit))
        mine = tuple(i for i in eligible if i in planned_ids)
        if eligible and not mine:
            continue  # only therapists who are not being planned could take it
        if not eligible:
            needs = skill_words(visit.series.required_skills or []) or "no particular skill"
            reason = calendar.closed or (f"open visit: no therapist working that day has the "
                                         f"skills it needs ({needs})")
            day_input.unplaced.append(_Unplaced(visit, reason, tuple(sorted(planned_ids))))
            continue
        _add_visit(day_input, visit, mine, working, pins)
    return day_input


def _held_by_others(currents: Mapping[int, DayPlan | None], planned_ids: set[int]) -> set[str]:
    """Visits that sit in the current plan of a therapist not being planned now."""
    return {visit_key(s.series_id, s.occurrence_date)
            for therapist_id, plan in currents.items()
            if plan is not None and therapist_id not in planned_ids
            for s in plan.stops}


def _worker(therapist_day: TherapistDay, start: Start) -> Worker | None:
    """The therapist as a vehicle; None when there is no working time left."""
    therapist = therapist_day.therapist
    span = _shift_span(therapist_day)
    if span is None or max(span[0], start.not_before) >= span[1]:
        return None
    window = (max(span[0], start.not_before), span[1])
    pauses = list(_shift_gaps(therapist_day, window))
    lunch = None if start.lunch_taken else _lunch(therapist_day, window)
    if lunch is not None:
        pauses.append(lunch)
    limit_visits = therapist.max_visits_per_day
    limit_minutes = therapist.max_hands_on_minutes
    return Worker(
        therapist_id=therapist.id,
        start=start.place.key,
        end=home_location(therapist).key,
        window=window,
        skills=frozenset(therapist.skills or []) | {therapist_token(therapist.id)},
        pauses=tuple(pauses),
        max_visits=None if limit_visits is None else max(0, limit_visits - start.visits_done),
        max_hands_on_minutes=None if limit_minutes is None
        else max(0, limit_minutes - start.minutes_done),
    )


def _lunch(therapist_day: TherapistDay, window: tuple[int, int]) -> Pause | None:
    """The break to plan inside the working time left (``window``), or None.

    None when the therapist has no break, and also when the break fits in the part of its
    window that lies outside the shift: with a short Friday shift ending 12:30 and a break
    window 11:30-13:30, lunch is simply after work. Otherwise the break is planned in the
    window clipped to the working time left. The time before a re-plan is not "outside": at
    11:30 with a window 11:00-13:30, lunch is still to be taken in 11:30-13:30.
    """
    therapist = therapist_day.therapist
    length = (therapist.break_minutes or 0) * 60
    if length <= 0 or therapist.break_start is None or therapist.break_end is None:
        return None
    zone = therapist_day.shift.zone
    opens = local_epoch(therapist_day.day, therapist.break_start, zone)
    closes = local_epoch(therapist_day.day, therapist.break_end, zone)
    shift = _shift_span(therapist_day) or window
    outside = max(0, min(closes, shift[0]) - opens) + max(0, closes - max(opens, shift[1]))
    begin, finish = max(opens, window[0]), min(closes, window[1])
    if outside >= length or finish - begin < length:
        return None
    return Pause("lunch", ((begin, finish - length),), length)


def _shift_gaps(therapist_day: TherapistDay, window: tuple[int, int]) -> list[Pause]:
    """A split shift's gaps as breaks of a single start, so no visit falls in them."""
    free = therapist_day.shift.free
    gaps = []
    for before, after in zip(free, free[1:], strict=False):
        start, end = max(before.end, window[0]), after.start
        if end > start:
            gaps.append(Pause("between shifts", ((start, start),), end - start))
    return gaps


def _facility_place(facility: models.Facility) -> Location:
    assert facility.lat is not None and facility.lon is not None
    return Location(f"facility:{facility.id}", (facility.lat, facility.lon),
                 max(0, facility.overhead_minutes or 0) * 60)


def _add_visit(day_input: DayInput, visit: Visit, candidates: tuple[int, ...],
               working: set[int], pins: Mapping[str, tuple[int, int]]) -> None:
    """A task for the visit, or an unplaced entry saying why it cannot be one."""
    availability = visit.availability
    facility = visit.facility
    if not availability.windows:
        day_input.unplaced.append(_Unplaced(visit, no_window_reason(visit), candidates))
        return
    if facility.lat is None or facility.lon is None:
        day_input.unplaced.append(_Unplaced(
            visit, f"{facility.name} has no coordinates yet: geocode its address or enter "
                   "them by hand", candidates))
        return
    able = tuple(i for i in candidates if i in working)
    if not able:
        day_input.unplaced.append(_Unplaced(visit, no_time_left_reason(day_input, candidates),
                                            candidates))
        return
    windows = tuple(availability.epoch_windows())
    skills = (frozenset({therapist_token(candidates[0])}) if visit.therapist_id is not None
              else frozenset(visit.series.required_skills or []))
    pin = pins.get(visit.key)
    if pin is not None:
        owner, at = pin
        if owner in able and availability.fits(at) and _after_start(day_input, owner, at):
            windows, skills, able = ((at, at),), frozenset({therapist_token(owner)}), (owner,)
            day_input.pinned[visit.key] = at
        else:
            day_input.pin_notes[visit.key] = (
                f"was pinned to {clock_text(at, day_input.zone)}, which is no longer possible; "
                "planned freely")
    not_before = min(day_input.starts[i].not_before for i in able)
    if day_input.starts[able[0]].replan_at is not None:
        windows = tuple((max(a, not_before), b) for a, b in windows if b >= not_before)
        if not windows:
            last = max(b for _, b in availability.epoch_windows())
            day_input.unplaced.append(_Unplaced(
                visit, f"its last allowed start, {clock_text(last, day_input.zone)}, is before the "
                       f"re-plan at {clock_text(not_before, day_input.zone)}", candidates))
            return
    place = _facility_place(facility)
    day_input.places[place.key] = place
    order_class = day_input.infection.order_class(visit.client.precaution_flags or ())
    behind = [day_input.starts[i] for i in able if order_class is not None
              and day_input.starts[i].order_floor > order_class]
    if behind and len(behind) == len(able):
        day_input.unplaced.append(_Unplaced(
            visit, after_done_reason(visit, behind[0], day_input), candidates))
        return
    task = Task(visit.key, place.key, visit.duration_minutes * 60, windows, skills,
                visit.series.priority, order_class)
    day_input.tasks.append(task)
    day_input.visits[visit.key] = visit
    day_input.candidates[visit.key] = able


def _after_start(day_input: DayInput, therapist_id: int, at: int) -> bool:
    return at >= day_input.starts[therapist_id].not_before


def travel_between(day_input: DayInput, model: TravelTimes, zone: ZoneInfo) -> tuple[Travel, str]:
    """Drive matrices between the day's places.

    The optimizer takes one matrix, but traffic differs: the legs between buildings are timed
    at an ordinary hour, a therapist's drive from the start at the time they set out and the
    drive home an hour before the shift ends, so rush hour weighs on the commutes.
    """
    places = tuple(day_input.places.values())
    points = [place.point for place in places]
    base = model.matrices(points, None)
    seconds = [list(row) for row in base.durations]
    index = {place.key: k for k, place in enumerate(places)}
    for worker in day_input.workers:
        out = model.matrices(points, from_epoch(worker.window[0], zone))
        home = model.matrices(points, from_epoch(max(worker.window[0],
                                                     worker.window[1] - RETURN_HOME_LEAD), zone))
        row, column = index[worker.start], index[worker.end]
        seconds[row] = list(out.durations[row])
        for k in range(len(places)):
            seconds[k][column] = home.durations[k][column]
    travel = Travel(places, tuple(tuple(r) for r in seconds),
                    tuple(tuple(r) for r in base.distances))
    return travel, base.source + (" (fell back)" if base.fell_back else "")


def visit_key(series_id: int, original_date: date) -> str:
    """The key of one occurrence: the same in the calendar, in plans and in pins."""
    return f"{series_id}:{original_date.isoformat()}"


def require_aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise fail(name, "expected an aware date-time (with a time zone)")
    return moment


def require_on_day(moment: datetime, day: date, zone: ZoneInfo, name: str) -> datetime:
    """``moment``, when it falls on ``day`` in the practice's zone: a re-plan "from" the
    year 254 or 9999 means nothing for that day. Compared as aware instants, never
    converted, so a moment at the ends of the calendar cannot overflow."""
    moment = require_aware(moment, name)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    if not start <= moment < end:
        raise fail(name, f"must fall on the plan's day, {day.isoformat()} ({zone.key} time)")
    return moment


def check_position(position: Sequence[float]) -> tuple[float, float]:
    try:
        lat, lon = float(position[0]), float(position[1])
    except (TypeError, ValueError, IndexError):
        raise fail("position", "expected (latitude, longitude)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or len(position) != 2:
        raise fail("position", "latitude must be within ±90 and longitude within ±180")
    return lat, lon

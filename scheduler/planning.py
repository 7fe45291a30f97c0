"""Steps 5 and 6 of the day-planning pipeline: a day's visits -> saved, explained day plans.

The public functions are the contract the web app and the e-mail job code against
(``team/PLANNING_API.md``):

- :func:`plan_days` plans one day for all or some therapists and saves a new version of each
  one's :class:`~scheduler.models.DayPlan` (a draft unless published);
- :func:`replan_from` re-plans one therapist's day from a moment and a place: done and skipped
  stops are kept as they are, the rest is optimized again;
- :func:`current_plan`, :func:`publish_plan`, :func:`set_stop_state`, :func:`pin_visit`.

How a day becomes one optimizer problem
---------------------------------------
The calendar (:mod:`scheduler.calendar`) gives each therapist's own visits and the *open*
visits (any therapist with the series' skills). Planning all therapists of a day is one
problem with a vehicle per therapist, so the optimizer decides who takes each open visit.

Planning *some* therapists (the web page's "plan my day", the morning e-mail of one
therapist) takes their own visits plus the open visits they could do that no other
therapist holds: an open visit that sits in another therapist's current plan (published, else
latest draft) stays there, so planning one day never takes a visit away from a colleague
behind their back; an open visit nobody holds goes to whoever is planned now.

Pins: a stop marked ``pinned`` in the therapist's current plan is planned again at its start
(a single-instant window, and with that therapist), as long as that time is still allowed;
:func:`pin_visit` sets or clears a pin by planning a new version.

Why not: every visit that is not placed gets a reason in words, from the allowed windows when
there is no time for it at all, from the optimizer when the day is full, or from planning
itself (a window that closed before a re-plan, a facility without coordinates, no therapist
with the skills at work).

Times: the optimizer works in Unix seconds; models hold aware UTC datetimes; words show local
clock times of ``settings.zone``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler import models
from scheduler.calendar import (
    DayCalendar,
    PracticeSnapshot,
    TherapistDay,
    Visit,
    day_calendar,
    load_practice,
)
from scheduler.clock import utcnow
from scheduler.models import DayPlan, PlanStatus, PlanStop, StopState
from scheduler.problem_builder import (
    DaySolution,
    Leg,
    Pause,
    Place,
    Route,
    Task,
    Travel,
    Why,
    Worker,
    solve_day,
    therapist_token,
)
from scheduler.recurrence import from_epoch, local_epoch, to_epoch
from scheduler.settings import Settings
from scheduler.travel import TravelModel, make_travel_model
from scheduler.validation import fail

FROZEN_STATES = (StopState.DONE, StopState.SKIPPED)
RETURN_HOME_LEAD = 3600
"""The drive home is timed as leaving an hour before the shift ends (for rush hours)."""

__all__ = [
    "current_plan",
    "pin_visit",
    "plan_days",
    "plan_range",
    "publish_plan",
    "replan_from",
    "set_stop_state",
]


# =============================================================================================
# The public API


def plan_days(
    session: Session,
    settings: Settings,
    day: date,
    therapist_ids: list[int] | None = None,
    *,
    publish: bool = False,
    now: datetime | None = None,
    time_limit: float | None = None,
    travel_model: TravelModel | None = None,
    pins: Mapping[str, datetime | None] | None = None,
) -> list[DayPlan]:
    """Plan ``day`` for every therapist (or those in ``therapist_ids``) and save the plans.

    Each therapist who works that day, or has visits of their own that day, gets a new
    version of their day plan: a draft, or published when ``publish`` (superseding the
    published one). Returns the new plans in therapist order; empty when nobody works.

    Planning a day again starts it over (pins are kept): to keep what is done, use
    :func:`replan_from`. ``time_limit`` caps the optimizer's search for the day in seconds
    (default: ``[planning] time_limit_seconds``); ``pins`` maps a visit key
    (``"series_id:YYYY-MM-DD"``) to the start it is pinned to, or to None to unpin it, over
    the pins of the current plans. Raises :class:`~scheduler.validation.ValidationError` for
    an unknown therapist.
    """
    options = _Options(settings, _aware(now or utcnow(), "now"), publish, time_limit,
                       travel_model)
    return _plan_day(session, load_practice(session), day, therapist_ids, options, pins)


def plan_range(
    session: Session,
    settings: Settings,
    first: date,
    last: date,
    therapist_ids: list[int] | None = None,
    *,
    publish: bool = False,
    now: datetime | None = None,
    time_limit: float | None = None,
    travel_model: TravelModel | None = None,
    progress: Callable[[date, list[DayPlan]], None] | None = None,
    processes: int | None = None,
) -> list[DayPlan]:
    """:func:`plan_days` for each day from ``first`` to ``last``, reading the practice once.

    Days do not depend on each other, so their optimizations run in ``processes`` worker
    processes at once (default: one per CPU core, at most one per day); the database work
    stays in this process and the plans are the same as planning the days one by one.
    ``progress`` is called after each day with the day and its new plans.
    """
    if last < first:
        raise fail("last", "the last day is before the first")
    options = _Options(settings, _aware(now or utcnow(), "now"), publish, time_limit,
                       travel_model)
    snapshot = load_practice(session)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    prepared = [_prepare_day(session, snapshot, day, therapist_ids, options, None)
                for day in days]
    answers = _solve_all([p.problem for p in prepared if p.problem is not None], processes)
    plans: list[DayPlan] = []
    for day, day_prepared in zip(days, prepared, strict=True):
        answer = next(answers) if day_prepared.problem is not None else None
        new = _finish_day(session, day_prepared, answer, options)
        plans.extend(new)
        if progress is not None:
            progress(day, new)
    return plans


@dataclass(frozen=True)
class _Options:
    settings: Settings
    now: datetime
    publish: bool
    time_limit: float | None
    travel_model: TravelModel | None


def _plan_day(session: Session, snapshot: PracticeSnapshot, day: date,
              therapist_ids: list[int] | None, options: _Options,
              pins: Mapping[str, datetime | None] | None) -> list[DayPlan]:
    prepared = _prepare_day(session, snapshot, day, therapist_ids, options, pins)
    answer = solve_day(*prepared.problem) if prepared.problem is not None else None
    return _finish_day(session, prepared, answer, options)


@dataclass
class _PreparedDay:
    """A day read from the database and turned into the optimizer's terms, not yet solved."""

    day: date
    selected: list[TherapistDay]
    day_input: _DayInput | None = None
    # solve_day's arguments (pure values, so another process can solve them), or None when
    # there is nothing to solve.
    problem: tuple[Any, ...] | None = None
    solver: dict[str, Any] = field(default_factory=dict)


def _prepare_day(session: Session, snapshot: PracticeSnapshot, day: date,
                 therapist_ids: list[int] | None, options: _Options,
                 pins: Mapping[str, datetime | None] | None) -> _PreparedDay:
    settings = options.settings
    calendar = day_calendar(snapshot, day, settings.zone)
    selected = _selected_days(calendar, therapist_ids)
    if not selected:
        return _PreparedDay(day, selected)
    currents = _current_plans(session, day)
    starts = {t.therapist.id: _start_of_day(t) for t in selected}
    pin_map = _pins(currents, [t.therapist.id for t in selected], pins)
    day_input = _gather(calendar, selected, starts, currents, pin_map, frozen_keys=set())
    prepared = _PreparedDay(day, selected, day_input)
    prepared.solver, prepared.problem = _problem(day_input, settings, options.time_limit,
                                                 options.travel_model)
    return prepared


def _finish_day(session: Session, prepared: _PreparedDay, answer: DaySolution | None,
                options: _Options) -> list[DayPlan]:
    if not prepared.selected:
        return []
    outcome = _outcome(prepared.day_input, prepared.solver, answer)
    versions = _next_versions(session, prepared.day, [t.therapist.id for t in prepared.selected])
    plans = [_save_plan(session, t, outcome, options.now, versions.get(t.therapist.id, 1))
             for t in prepared.selected]
    session.flush()
    if options.publish:
        for plan in plans:
            publish_plan(session, plan, options.now)
    return plans


def _solve_all(problems: list[tuple[Any, ...]], processes: int | None) -> Iterator[DaySolution]:
    """solve_day on each problem, in order; in worker processes when there are several."""
    workers = min(processes or os.cpu_count() or 1, len(problems))
    if workers <= 1:
        return (solve_day(*problem) for problem in problems)
    # fork: the workers need only the pure problem values, and start in milliseconds.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return iter(list(pool.map(_solve_packed, problems)))


def _solve_packed(problem: tuple[Any, ...]) -> DaySolution:
    return solve_day(*problem)


def replan_from(
    session: Session,
    settings: Settings,
    therapist_id: int,
    day: date,
    at: datetime,
    position: tuple[float, float] | None = None,
    *,
    publish: bool | None = None,
    time_limit: float | None = None,
    travel_model: TravelModel | None = None,
) -> DayPlan:
    """Re-plan one therapist's ``day`` from ``at``, from ``position`` (lat, lon) if given.

    The stops of the current plan marked done or skipped are kept as they are, with their
    times; every other visit of the day (including ones added or moved since, without the
    cancelled ones) is optimized again, starting at ``at`` from ``position``, else from the
    building of the last done stop, else from home. A stop that was planned but is not marked
    done counts as not done: mark a visit done before re-planning past it.

    The lunch break counts as taken when the current plan had it starting before ``at``.
    The new version is published when the current plan was (the day is under way and the
    itinerary in use must follow), a draft otherwise; ``publish`` overrides that.
    """
    at = _aware(at, "at")
    if position is not None:
        position = _check_position(position)
    calendar = day_calendar(load_practice(session), day, settings.zone)
    therapist_day = _therapist_day(calendar, therapist_id)
    currents = _current_plans(session, day)
    base = currents.get(therapist_id)
    frozen = sorted((s for s in (base.stops if base else []) if s.state in FROZEN_STATES),
                    key=lambda s: s.position)
    start = _start_now(therapist_day, base, frozen, at, position)
    pin_map = _pins(currents, [therapist_id], None)
    frozen_keys = {visit_key(s.series_id, s.occurrence_date) for s in frozen}
    day_input = _gather(calendar, [therapist_day], {therapist_id: start}, currents, pin_map,
                        frozen_keys=frozen_keys)
    outcome = _optimize(day_input, settings, time_limit, travel_model)
    version = _next_versions(session, day, [therapist_id]).get(therapist_id, 1)
    plan = _save_plan(session, therapist_day, outcome, utcnow(), version,
                      frozen=frozen, start=start, base=base)
    plan.replanned_at = at
    should_publish = publish if publish is not None else (
        base is not None and base.status == PlanStatus.PUBLISHED)
    if should_publish:
        publish_plan(session, plan, utcnow())
    session.flush()
    return plan


def current_plan(session: Session, therapist_id: int, day: date) -> DayPlan | None:
    """The plan of record: the published version, else the latest draft, else None."""
    return _current_plans(session, day, therapist_id).get(therapist_id)


def _current_plans(session: Session, day: date,
                   therapist_id: int | None = None) -> dict[int, DayPlan]:
    """Each therapist's plan of record for ``day`` (one query for all of them)."""
    ids = [therapist_id] if therapist_id is not None else None
    return {t: plan for (t, _), plan in plans_of_record(session, day, day, ids).items()}


def plans_of_record(session: Session, first: date, last: date,
                    therapist_ids: Sequence[int] | None = None) -> dict[tuple[int, date], DayPlan]:
    """The plan of record of each (therapist, day) from ``first`` to ``last``, in one query:
    the published version, else the newest draft (what :func:`current_plan` answers)."""
    query = (select(DayPlan)
             .where(DayPlan.day.between(first, last), DayPlan.status != PlanStatus.SUPERSEDED)
             .options(selectinload(DayPlan.stops))
             .order_by(DayPlan.therapist_id, DayPlan.day, DayPlan.version.desc()))
    if therapist_ids is not None:
        query = query.where(DayPlan.therapist_id.in_(therapist_ids))
    found: dict[tuple[int, date], DayPlan] = {}
    for plan in session.scalars(query):
        key = (plan.therapist_id, plan.day)
        held = found.get(key)
        if held is None or (plan.status == PlanStatus.PUBLISHED
                            and held.status != PlanStatus.PUBLISHED):
            found[key] = plan
    return found


def publish_plan(session: Session, plan: DayPlan, now: datetime) -> DayPlan:
    """Make ``plan`` the day's plan of record; the previously published version is superseded."""
    now = _aware(now, "now")
    _lock_therapists(session, [plan.therapist_id])  # one published plan a day, even when raced
    earlier = session.scalars(
        select(DayPlan).where(DayPlan.therapist_id == plan.therapist_id, DayPlan.day == plan.day,
                              DayPlan.status == PlanStatus.PUBLISHED, DayPlan.id != plan.id)
    ).all()
    for other in earlier:
        other.status = PlanStatus.SUPERSEDED
    plan.status = PlanStatus.PUBLISHED
    plan.published_at = now
    session.flush()
    return plan


def set_stop_state(session: Session, stop: PlanStop, state: StopState) -> None:
    """Mark a stop done, skipped or planned again (re-planning keeps done and skipped ones)."""
    try:
        stop.state = StopState(state)
    except ValueError:
        raise fail("state", "must be one of planned, done, skipped") from None
    session.flush()


def pin_visit(
    session: Session,
    settings: Settings,
    therapist_id: int,
    day: date,
    key: str,
    start: datetime | None,
    *,
    now: datetime | None = None,
    time_limit: float | None = None,
    travel_model: TravelModel | None = None,
) -> DayPlan:
    """Pin a visit (``key``, see :func:`visit_key`) of the therapist's day to ``start``, or
    unpin it (``start`` None), and plan that day again as a new draft version that honours the
    pin. A pin that cannot be kept (the time is not allowed) is dropped, and the stop's
    window note says so."""
    if start is not None:
        start = _aware(start, "start")
    plans = plan_days(session, settings, day, [therapist_id], now=now, time_limit=time_limit,
                      travel_model=travel_model, pins={key: start})
    if not plans:
        raise fail("day", f"therapist {therapist_id} does not work on {day.isoformat()}")
    return plans[0]


def visit_key(series_id: int, original_date: date) -> str:
    """The key of one occurrence: the same in the calendar, in plans and in pins."""
    return f"{series_id}:{original_date.isoformat()}"


# =============================================================================================
# Who is planned, and from where


@dataclass(frozen=True)
class _Start:
    """Where and when a therapist's (rest of the) day starts, and what is already behind."""

    place: Place
    not_before: int  # epoch seconds; the shift start, or the re-plan moment
    lunch_taken: bool = False
    visits_done: int = 0
    minutes_done: int = 0
    replan_at: int | None = None


def _selected_days(calendar: DayCalendar, therapist_ids: list[int] | None) -> list[TherapistDay]:
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


def _therapist_day(calendar: DayCalendar, therapist_id: int) -> TherapistDay:
    for therapist_day in calendar.therapists:
        if therapist_day.therapist.id == therapist_id:
            return therapist_day
    raise fail("therapist_id", f"no active therapist with id {therapist_id}")


def _home(therapist: models.Therapist) -> Place:
    return Place(f"home:{therapist.id}", (therapist.home_lat, therapist.home_lon))


def _shift_span(therapist_day: TherapistDay) -> tuple[int, int] | None:
    free = therapist_day.shift.free
    return (free[0].start, free[-1].end) if free else None


def _start_of_day(therapist_day: TherapistDay) -> _Start:
    span = _shift_span(therapist_day)
    return _Start(_home(therapist_day.therapist), span[0] if span else 0)


def _start_now(therapist_day: TherapistDay, base: DayPlan | None, frozen: Sequence[PlanStop],
               at: datetime, position: tuple[float, float] | None) -> _Start:
    """The re-plan's start: here (or the last done building, or home), at ``at``."""
    done = [s for s in frozen if s.state == StopState.DONE]
    if position is not None:
        place = Place("position", position)
    elif done:
        last = max(done, key=lambda s: s.end_at)
        facility = last.facility
        place = _facility_place(facility) if facility.lat is not None else \
            _home(therapist_day.therapist)
    else:
        place = _home(therapist_day.therapist)
    lunch_taken = bool(base and base.break_start_at and base.break_start_at <= at)
    minutes = sum(round((s.end_at - s.start_at).total_seconds() / 60) for s in done)
    return _Start(place, to_epoch(at), lunch_taken, len(done), minutes, replan_at=to_epoch(at))


def _pins(currents: Mapping[int, DayPlan | None], therapist_ids: Sequence[int],
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


# =============================================================================================
# Gathering the day into tasks and workers


@dataclass
class _Unplaced:
    visit: Visit
    reason: str
    therapist_ids: tuple[int, ...]  # the plans that report it


@dataclass
class _DayInput:
    """Everything the optimizer is given for one run, and what it was not given."""

    zone: ZoneInfo
    workers: list[Worker]
    tasks: list[Task]
    visits: dict[str, Visit]  # task key -> visit
    candidates: dict[str, tuple[int, ...]]  # task key -> therapists who may take it
    pinned: dict[str, int]  # task key -> pinned start (honoured)
    pin_notes: dict[str, str]  # task key -> why a pin was not honoured
    places: dict[str, Place]
    starts: dict[int, _Start]
    names: dict[int, str] = field(default_factory=dict)  # therapist id -> first name
    unplaced: list[_Unplaced] = field(default_factory=list)


def _gather(calendar: DayCalendar, selected: Sequence[TherapistDay],
            starts: Mapping[int, _Start], currents: Mapping[int, DayPlan | None],
            pins: Mapping[str, tuple[int, int]], *, frozen_keys: set[str]) -> _DayInput:
    """Tasks and workers for the therapists ``selected``; ``frozen_keys`` are visits kept
    from the current plan (a re-plan's done and skipped stops), not planned again."""
    planned_ids = {t.therapist.id for t in selected}
    day_input = _DayInput(calendar.zone, [], [], {}, {}, {}, {}, {}, dict(starts),
                          {t.therapist.id: t.therapist.name.split()[0]
                           for t in calendar.therapists})
    for therapist_day in selected:
        worker = _worker(therapist_day, starts[therapist_day.therapist.id])
        if worker is not None:
            day_input.workers.append(worker)
            day_input.places[worker.start] = starts[therapist_day.therapist.id].place
            day_input.places[worker.end] = _home(therapist_day.therapist)
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
            needs = ", ".join(visit.series.required_skills or []) or "no particular skill"
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


def _worker(therapist_day: TherapistDay, start: _Start) -> Worker | None:
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
        end=_home(therapist).key,
        window=window,
        skills=frozenset(therapist.skills or []) | {therapist_token(therapist.id)},
        pauses=tuple(pauses),
        max_visits=None if limit_visits is None else max(0, limit_visits - start.visits_done),
        max_hands_on_minutes=None if limit_minutes is None
        else max(0, limit_minutes - start.minutes_done),
    )


def _lunch(therapist_day: TherapistDay, window: tuple[int, int]) -> Pause | None:
    """The break to plan inside the working time left, or None.

    None when the therapist has no break, and also when the break fits in the part of its
    window that lies outside the working time: with a short Friday shift ending 12:30 and a
    break window 11:30-13:30, lunch is simply after work. Otherwise the break is planned in
    the window clipped to the working time.
    """
    therapist = therapist_day.therapist
    length = (therapist.break_minutes or 0) * 60
    if length <= 0 or therapist.break_start is None or therapist.break_end is None:
        return None
    zone = therapist_day.shift.zone
    opens = local_epoch(therapist_day.day, therapist.break_start, zone)
    closes = local_epoch(therapist_day.day, therapist.break_end, zone)
    outside = max(0, min(closes, window[0]) - opens) + max(0, closes - max(opens, window[1]))
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


def _facility_place(facility: models.Facility) -> Place:
    assert facility.lat is not None and facility.lon is not None
    return Place(f"facility:{facility.id}", (facility.lat, facility.lon),
                 max(0, facility.overhead_minutes or 0) * 60)


def _add_visit(day_input: _DayInput, visit: Visit, candidates: tuple[int, ...],
               working: set[int], pins: Mapping[str, tuple[int, int]]) -> None:
    """A task for the visit, or an unplaced entry saying why it cannot be one."""
    availability = visit.availability
    facility = visit.facility
    if not availability.windows:
        day_input.unplaced.append(_Unplaced(visit, _no_window_reason(visit), candidates))
        return
    if facility.lat is None or facility.lon is None:
        day_input.unplaced.append(_Unplaced(
            visit, f"{facility.name} has no coordinates yet: geocode its address or enter "
                   "them by hand", candidates))
        return
    able = tuple(i for i in candidates if i in working)
    if not able:
        day_input.unplaced.append(_Unplaced(visit, _no_time_left_reason(day_input, candidates),
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
                f"was pinned to {_clock(at, day_input.zone)}, which is no longer possible; "
                "planned freely")
    not_before = min(day_input.starts[i].not_before for i in able)
    if day_input.starts[able[0]].replan_at is not None:
        windows = tuple((max(a, not_before), b) for a, b in windows if b >= not_before)
        if not windows:
            last = max(b for _, b in availability.epoch_windows())
            day_input.unplaced.append(_Unplaced(
                visit, f"its last allowed start, {_clock(last, day_input.zone)}, is before the "
                       f"re-plan at {_clock(not_before, day_input.zone)}", candidates))
            return
    place = _facility_place(facility)
    day_input.places[place.key] = place
    task = Task(visit.key, place.key, visit.duration_minutes * 60, windows, skills,
                visit.series.priority)
    day_input.tasks.append(task)
    day_input.visits[visit.key] = visit
    day_input.candidates[visit.key] = able


def _after_start(day_input: _DayInput, therapist_id: int, at: int) -> bool:
    return at >= day_input.starts[therapist_id].not_before


# =============================================================================================
# Travel and the optimizer


@dataclass
class _Outcome:
    day_input: _DayInput
    routes: dict[int, Route]
    reasons: dict[str, str]  # task key -> reason in words, for the tasks not placed
    solver: dict[str, Any]


def _optimize(day_input: _DayInput, settings: Settings, time_limit: float | None,
              travel_model: TravelModel | None) -> _Outcome:
    solver, problem = _problem(day_input, settings, time_limit, travel_model)
    return _outcome(day_input, solver, solve_day(*problem) if problem is not None else None)


def _problem(day_input: _DayInput, settings: Settings, time_limit: float | None,
             travel_model: TravelModel | None) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
    """The solver's figures so far, and solve_day's arguments (None: nothing to solve)."""
    limit = settings.planning.time_limit_seconds if time_limit is None else time_limit
    solver: dict[str, Any] = {"engine": "scheduler.optimizer", "time_limit_seconds": limit,
                              "therapists": len(day_input.workers),
                              "visits": len(day_input.tasks)}
    if not day_input.tasks or not day_input.workers:
        solver.update(seconds=0.0, proved_optimal=True, objective=None, note="nothing to solve")
        return solver, None
    model = travel_model if travel_model is not None else _travel_model(settings)
    travel, source = _travel(day_input, model, settings.zone)
    solver["travel_source"] = source
    return solver, (day_input.workers, day_input.tasks, travel, day_input.candidates, limit)


def _outcome(day_input: _DayInput, solver: dict[str, Any],
             answer: DaySolution | None) -> _Outcome:
    if answer is None:
        return _Outcome(day_input, {}, {}, solver)
    # seconds: the optimizer's own time (travel matrices come from a cache, or in milliseconds)
    solver = dict(solver, **answer.figures)
    tasks = {task.key: task for task in day_input.tasks}
    reasons = {key: _left_out_reason(why, tasks[key], answer.routes, day_input)
               for key, why in answer.left_out.items()}
    return _Outcome(day_input, answer.routes, reasons, solver)


@lru_cache(maxsize=4)
def _travel_model(settings: Settings) -> TravelModel:
    """One travel model per settings, kept for the process (its caches are the point)."""
    return make_travel_model(settings)


def _travel(day_input: _DayInput, model: TravelModel, zone: ZoneInfo) -> tuple[Travel, str]:
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


# =============================================================================================
# Reasons in words


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n: int, one: str, many: str) -> str:
    word = _NUMBERS[n] if n < len(_NUMBERS) else str(n)
    return f"{word} {one if n == 1 else many}"


def _clock(seconds: int, zone: ZoneInfo) -> str:
    return from_epoch(seconds, zone).strftime("%H:%M")


def _windows_text(task: Task, zone: ZoneInfo) -> str:
    parts = []
    for start, end in task.windows:
        parts.append(_clock(start, zone) if start == end
                     else f"{_clock(start, zone)}–{_clock(end, zone)}")
    return ", ".join(parts)


def _no_window_reason(visit: Visit) -> str:
    """Why a visit has no allowed time at all, from its availability's words.

    When some free time is left but too short, those stretches say it best; when none is
    left, the rules that took the day are named.
    """
    reasons = list(visit.availability.reasons)
    short = [r for r in reasons if r.startswith(("only free", "the fixed start"))]
    return "; ".join(short or reasons) or "no allowed time that day"


def _no_time_left_reason(day_input: _DayInput, candidates: tuple[int, ...]) -> str:
    replanning = [day_input.starts[i] for i in candidates
                  if i in day_input.starts and day_input.starts[i].replan_at is not None]
    if replanning:
        return (f"no working time is left after the re-plan at "
                f"{_clock(replanning[0].not_before, day_input.zone)}")
    return "the therapist does not work that day"


def _left_out_reason(why: Why, task: Task, routes: Mapping[int, Route],
                     day_input: _DayInput) -> str:
    """The optimizer's reason in a therapist's words: visits by client initials and time
    instead of job ids, daily limits by name, and when the visit could have started.

    A visit several therapists could take was offered to each in turn; the words say so and
    give the last one's reason: "the day is full for each of the 2 therapists who could take
    it; Joel: left out for three higher-priority visits (ER at 13:00, ...)".
    """
    when = f"it may start {_windows_text(task, day_input.zone)}"
    could = len(day_input.candidates.get(task.key, ()))
    last = day_input.names.get(why.tried[-1], "") if why.tried else ""
    shared = f" for each of the {could} therapists who could take it; {last}: " \
        if could > 1 and last else ": "
    limit = _limit_reached(task, why, routes, day_input)
    if limit:
        return f"the day is full{shared}{limit}; {when}"
    if why.kind == "full" and why.rivals:
        return f"the day is full{shared}{_rivals_text(why, task, routes, day_input)}; {when}"
    if why.kind == "full":
        return f"{why.text}; {when}"
    return f"cannot be fitted into the day even on its own{shared}{why.text}; {when}"


def _rivals_text(why: Why, task: Task, routes: Mapping[int, Route],
                 day_input: _DayInput) -> str:
    """ "left out for two higher-priority visits (CA at 11:00, LC at 12:02)" """
    total = len(why.rivals) + why.more
    higher = all(priority > task.priority for _, priority in why.rivals)
    kinds = (("higher-priority visit", "higher-priority visits") if higher else
             ("visit of equal or higher priority", "visits of equal or higher priority"))
    named = ", ".join(_describe_visit(key, routes, day_input) for key, _ in why.rivals)
    extra = f" and {why.more} more" if why.more else ""
    return f"left out for {_count(total, *kinds)} ({named}{extra})"


def _limit_reached(task: Task, why: Why, routes: Mapping[int, Route],
                   day_input: _DayInput) -> str:
    """The daily limit the last therapist who tried the visit has reached, in words."""
    workers = {w.therapist_id: w for w in day_input.workers}
    worker = workers.get(why.tried[-1]) if why.tried else None
    if worker is None:
        return ""
    route = routes.get(worker.therapist_id)
    legs = route.legs if route else ()
    if worker.max_visits is not None and len(legs) >= worker.max_visits:
        return f"the limit of {worker.max_visits} visits a day is reached"
    if worker.max_hands_on_minutes is not None and (
            sum(leg.task.minutes for leg in legs) + task.minutes > worker.max_hands_on_minutes):
        return (f"{task.minutes} more minutes would pass the limit of "
                f"{worker.max_hands_on_minutes} hands-on minutes a day")
    return ""


def _describe_visit(key: str, routes: Mapping[int, Route], day_input: _DayInput) -> str:
    visit = day_input.visits[key]
    for route in routes.values():
        for leg in route.legs:
            if leg.task.key == key:
                return f"{visit.client.initials} at {_clock(leg.start, day_input.zone)}"
    return visit.client.initials


# =============================================================================================
# Saving


def _next_versions(session: Session, day: date, therapist_ids: Iterable[int]) -> dict[int, int]:
    """The next version number of each therapist's plan for ``day`` (1 when none yet).

    The therapists' rows are locked first, so that two plannings of one day at once (two
    browser tabs, the morning job and a re-plan) number their versions one after the other
    instead of both taking the same number and failing on the unique constraint.
    """
    _lock_therapists(session, therapist_ids)
    rows = session.execute(select(DayPlan.therapist_id, func.max(DayPlan.version))
                           .where(DayPlan.day == day).group_by(DayPlan.therapist_id))
    return {therapist_id: highest + 1 for therapist_id, highest in rows}


def _lock_therapists(session: Session, therapist_ids: Iterable[int]) -> None:
    """Hold the therapists' rows until commit (PostgreSQL's row locks, in id order so two
    callers cannot deadlock); SQLite's BEGIN IMMEDIATE already serialises every writer."""
    session.flush()
    ids = sorted(set(therapist_ids))
    if ids:
        session.execute(select(models.Therapist.id).where(models.Therapist.id.in_(ids))
                        .order_by(models.Therapist.id).with_for_update()).all()


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _save_plan(session: Session, therapist_day: TherapistDay, outcome: _Outcome,
               now: datetime, version: int, *, frozen: Sequence[PlanStop] = (),
               start: _Start | None = None, base: DayPlan | None = None) -> DayPlan:
    """A new version of the therapist's day from the optimizer's route (and what is frozen)."""
    therapist = therapist_day.therapist
    day_input = outcome.day_input
    route = outcome.routes.get(therapist.id)
    plan = DayPlan(therapist_id=therapist.id, day=therapist_day.day, version=version,
                   status=PlanStatus.DRAFT, created_at=now, unplaced=[],
                   solver=dict(outcome.solver))
    stops = [_copy_stop(stop) for stop in frozen]
    stops += [_new_stop(leg, day_input) for leg in (route.legs if route else ())]
    stops.sort(key=lambda s: (s.start_at, s.state == StopState.PLANNED))
    for position, stop in enumerate(stops):
        stop.position = position
    plan.stops = stops
    _set_times(plan, route, frozen, start, base, therapist)
    plan.unplaced = _unplaced_entries(therapist.id, outcome)
    if route is not None:
        plan.solver["route"] = {"visits": len(route.legs),
                                "drive_seconds": route.drive_seconds,
                                "drive_metres": route.drive_metres}
    session.add(plan)
    return plan


def _copy_stop(stop: PlanStop) -> PlanStop:
    return PlanStop(
        position=stop.position, series_id=stop.series_id, occurrence_date=stop.occurrence_date,
        client_id=stop.client_id, facility_id=stop.facility_id, arrive_at=stop.arrive_at,
        start_at=stop.start_at, end_at=stop.end_at, drive_minutes=stop.drive_minutes,
        drive_km=stop.drive_km, overhead_minutes=stop.overhead_minutes, state=stop.state,
        pinned=stop.pinned, window_note=stop.window_note,
    )


def _new_stop(leg: Leg, day_input: _DayInput) -> PlanStop:
    visit = day_input.visits[leg.task.key]
    return PlanStop(
        position=0,
        series_id=visit.series.id,
        occurrence_date=visit.occurrence.original_date,
        client_id=visit.client.id,
        facility_id=visit.facility.id,
        arrive_at=_instant(leg.arrive),
        start_at=_instant(leg.start),
        end_at=_instant(leg.end),
        drive_minutes=round(leg.drive_seconds / 60, 1),
        drive_km=round(leg.drive_metres / 1000, 2),
        overhead_minutes=round(leg.overhead / 60),
        state=StopState.PLANNED,
        pinned=leg.task.key in day_input.pinned,
        window_note=_window_note(visit, leg, day_input),
    )


def _window_note(visit: Visit, leg: Leg, day_input: _DayInput) -> str:
    """Why the visit may happen when it does: the free stretch it sits in and its edges."""
    availability = visit.availability
    clock = availability.clock
    notes = []
    if leg.task.key in day_input.pinned:
        notes.append(f"pinned to {_clock(leg.start, day_input.zone)}")
    for window in availability.windows:
        if window.start_from <= leg.start <= window.start_until:
            edges = (window.opened_by if window.opened_by == window.closed_by
                     else f"between {window.opened_by} and {window.closed_by}")
            notes.append(f"free {clock(window.free_start)}–{clock(window.free_end)}: {edges}")
            break
    if leg.task.key in day_input.pin_notes:
        notes.append(day_input.pin_notes[leg.task.key])
    if visit.therapist_id is None:
        skills = ", ".join(visit.series.required_skills or []) or "any skills"
        notes.append(f"open visit ({skills})")
    return "; ".join(notes)


def _set_times(plan: DayPlan, route: Route | None, frozen: Sequence[PlanStop],
               start: _Start | None, base: DayPlan | None, therapist: models.Therapist) -> None:
    """Leave-home, back-home, the break and the day's driving.

    In a re-plan the therapist may have left home already (the current plan's leave-home is
    before the re-plan, or they are somewhere else): that time is kept. The lunch counts as
    taken when the current plan had it starting before the re-plan; its times are kept.
    """
    legs = route.legs if route is not None else ()
    replanning = start is not None and start.replan_at is not None
    left_before = (base.leave_home_at if replanning and base is not None
                   and base.leave_home_at is not None
                   and to_epoch(base.leave_home_at) <= (start.replan_at or 0) else None)
    from_home = start is None or start.place.key == _home(therapist).key
    if left_before is not None or (replanning and not from_home):
        plan.leave_home_at = left_before
    elif route is not None and legs:
        plan.leave_home_at = _instant(route.leave)
    if route is not None and legs:
        plan.back_home_at = _instant(route.back)
        lunch = [b for b in route.breaks if b.pause.name == "lunch"]
        if lunch:
            plan.break_start_at = _instant(lunch[0].start)
            plan.break_end_at = _instant(lunch[0].end)
    if replanning and start.lunch_taken and base is not None:
        plan.break_start_at, plan.break_end_at = base.break_start_at, base.break_end_at
    new_seconds = route.drive_seconds if route is not None and legs else 0
    new_metres = route.drive_metres if route is not None and legs else 0
    plan.total_drive_minutes = round(sum(s.drive_minutes for s in frozen) + new_seconds / 60, 1)
    plan.total_drive_km = round(sum(s.drive_km for s in frozen) + new_metres / 1000, 2)


def _unplaced_entries(therapist_id: int, outcome: _Outcome) -> list[dict[str, Any]]:
    day_input = outcome.day_input
    entries = []
    for item in day_input.unplaced:
        if therapist_id in item.therapist_ids:
            entries.append(_unplaced_entry(item.visit, item.reason))
    for key, reason in outcome.reasons.items():
        if therapist_id in day_input.candidates.get(key, ()):
            entries.append(_unplaced_entry(day_input.visits[key], reason))
    entries.sort(key=lambda e: (e["series_id"], e["original_date"]))
    return entries


def _unplaced_entry(visit: Visit, reason: str) -> dict[str, Any]:
    return {
        "series_id": visit.series.id,
        "date": visit.occurrence.date.isoformat(),
        "original_date": visit.occurrence.original_date.isoformat(),
        "client_id": visit.client.id,
        "facility_id": visit.facility.id,
        "duration_minutes": visit.duration_minutes,
        "priority": visit.series.priority,
        "open": visit.therapist_id is None,
        "reason": reason,
    }


# =============================================================================================
# Input checks


def _aware(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise fail(name, "expected an aware date-time (with a time zone)")
    return moment


def _check_position(position: Sequence[float]) -> tuple[float, float]:
    try:
        lat, lon = float(position[0]), float(position[1])
    except (TypeError, ValueError, IndexError):
        raise fail("position", "expected (latitude, longitude)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or len(position) != 2:
        raise fail("position", "latitude must be within ±90 and longitude within ±180")
    return lat, lon


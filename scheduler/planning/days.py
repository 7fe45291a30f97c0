"""Planning days, the public face of :mod:`scheduler.planning`: steps 4 to 6 for one day, a
range of days, or the rest of one therapist's day.

- :func:`plan_days` plans one day for all or some therapists and saves a new version of each
  one's :class:`~scheduler.models.DayPlan` (a draft unless published);
- :func:`plan_range` does it for a range of days, solving days in parallel processes;
- :func:`replan_from` re-plans one therapist's day from a moment and a place: done and skipped
  stops are kept as they are, the rest is optimized again;
- :func:`pin_visit` pins a visit to a time (or unpins it) and plans the day again.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from scheduler import clock
from scheduler.calendar.day import (
    PracticeSnapshot,
    TherapistDay,
    day_calendar,
    load_practice,
)
from scheduler.calendar.local_time import to_epoch
from scheduler.models import DayPlan, PlanStatus, PlanStop
from scheduler.planning.gather import (
    FROZEN_STATES,
    DayInput,
    Start,
    check_position,
    gather,
    pins_of,
    require_aware,
    selected_days,
    start_now,
    start_of_day,
    visit_key,
)
from scheduler.planning.solving import day_problem, read_outcome, solve_all
from scheduler.planning.store import next_versions, publish_plan, save_plan
from scheduler.planning.strategy import DaySolution, solve_day
from scheduler.plans import stale
from scheduler.plans.changes import plan_changes, same_plan
from scheduler.plans.record import plans_of_day, replan_publishes
from scheduler.records.validation import fail
from scheduler.settings import Settings
from scheduler.travel.times import TravelTimes

__all__ = ["pin_visit", "plan_days", "plan_range", "replan_from"]


# =============================================================================================
# The public API


def plan_days(
    session: Session,
    settings: Settings,
    day: date,
    therapist_ids: list[int] | None = None,
    *,
    publish: bool | None = None,
    now: datetime | None = None,
    time_limit: float | None = None,
    travel_times: TravelTimes | None = None,
    pins: Mapping[str, datetime | None] | None = None,
    from_now: bool = False,
) -> list[DayPlan]:
    """Plan ``day`` for every therapist (or those in ``therapist_ids``) and save the plans.

    Each therapist who works that day, or has visits of their own that day, gets a new
    version of their day plan, published (superseding the published one) or a draft:
    ``publish`` True publishes every new plan, False keeps them all drafts (to review before
    publishing), and None, the default, follows the rule: a day whose plan of record was
    published is published again (:func:`scheduler.plans.record.replan_publishes`), as the
    old plan is no longer safe to follow, and a new day is a draft. Returns the new plans in
    therapist order; empty when nobody works.

    Planning a day again never loses what happened: stops marked done or skipped stay as
    they are, with their times, and the rest of the day is planned after the last of them,
    from its building. With ``from_now`` and ``day`` today (at ``now``), a therapist whose day
    has begun is planned from now, from where the last finished visit was (the day page's
    "Re-plan the day", and the re-planning of stale days); other days are planned whole
    (pins are kept). :func:`replan_from` re-plans one therapist from a given moment and
    place. ``time_limit`` caps the optimizer's search for the day in seconds
    (default: ``[planning] time_limit_seconds``); ``pins`` maps a visit key
    (``"series_id:YYYY-MM-DD"``) to the start it is pinned to, or to None to unpin it, over
    the pins of the current plans. Raises :class:`~scheduler.validation.ValidationError` for
    an unknown therapist.
    """
    options = _Options(settings, require_aware(now or clock.utcnow(), "now"), publish, time_limit,
                       travel_times, from_now)
    marks = stale.generations(session, day, day).get(day, {})  # before the records: see there
    return _plan_day(session, load_practice(session), day, therapist_ids, options, pins, marks)


def plan_stale_days(session: Session, settings: Settings, days: Mapping[date, Sequence[int]],
                    now: datetime, *, time_limit: float | None = None,
                    travel_times: TravelTimes | None = None) -> dict[date, list[DayPlan]]:
    """:func:`plan_days` with ``from_now`` for several days, each for its own therapists,
    reading the practice once: the re-planning of the days a change made stale
    (:mod:`scheduler.planning.refresh`), where one change often touches weeks of days."""
    options = _Options(settings, require_aware(now, "now"), None, time_limit, travel_times, True)
    if not days:
        return {}
    marks = stale.generations(session, min(days), max(days))  # before the records
    snapshot = load_practice(session)
    return {day: _plan_day(session, snapshot, day, sorted(ids), options, None,
                           marks.get(day, {}))
            for day, ids in sorted(days.items())}


def plan_range(
    session: Session,
    settings: Settings,
    first: date,
    last: date,
    therapist_ids: list[int] | None = None,
    *,
    publish: bool | None = None,
    now: datetime | None = None,
    time_limit: float | None = None,
    travel_times: TravelTimes | None = None,
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
    options = _Options(settings, require_aware(now or clock.utcnow(), "now"), publish, time_limit,
                       travel_times, False)
    marks = stale.generations(session, first, last)  # before the records
    snapshot = load_practice(session)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    prepared = [_prepare_day(session, snapshot, day, therapist_ids, options, None,
                             marks.get(day, {}))
                for day in days]
    answers = solve_all([p.problem for p in prepared if p.problem is not None], processes)
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
    publish: bool | None
    time_limit: float | None
    travel_times: TravelTimes | None
    from_now: bool = False
    at: datetime | None = None  # an explicit re-plan moment (replan_from)
    position: tuple[float, float] | None = None  # where the therapist is, at ``at``


def _plan_day(session: Session, snapshot: PracticeSnapshot, day: date,
              therapist_ids: list[int] | None, options: _Options,
              pins: Mapping[str, datetime | None] | None,
              marks: Mapping[int, int]) -> list[DayPlan]:
    prepared = _prepare_day(session, snapshot, day, therapist_ids, options, pins, marks)
    answer = solve_day(*prepared.problem) if prepared.problem is not None else None
    return _finish_day(session, prepared, answer, options)


@dataclass
class _PreparedDay:
    """A day read from the database and turned into the optimizer's terms, not yet solved."""

    day: date
    selected: list[TherapistDay]
    day_input: DayInput | None = None
    # solve_day's arguments (pure values, so another process can solve them), or None when
    # there is nothing to solve.
    problem: tuple[Any, ...] | None = None
    solver: dict[str, Any] = field(default_factory=dict)
    published: set[int] = field(default_factory=set)  # therapists whose day was published
    bases: dict[int, DayPlan | None] = field(default_factory=dict)  # the plans replaced
    kept: dict[int, list[PlanStop]] = field(default_factory=dict)  # done and skipped stops
    starts: dict[int, Start] = field(default_factory=dict)
    replanned: dict[int, datetime] = field(default_factory=dict)  # planned from this moment
    marks: dict[int, int] = field(default_factory=dict)  # stale marks read: generation


def _prepare_day(session: Session, snapshot: PracticeSnapshot, day: date,
                 therapist_ids: list[int] | None, options: _Options,
                 pins: Mapping[str, datetime | None] | None,
                 day_marks: Mapping[int, int]) -> _PreparedDay:
    """``day_marks``: the day's stale marks, read before ``snapshot`` (those of the therapists
    planned are answered by the new plans)."""
    settings = options.settings
    calendar = day_calendar(snapshot, day, settings.zone)
    selected = selected_days(calendar, therapist_ids)
    if not selected:
        return _PreparedDay(day, selected)
    currents = plans_of_day(session, day)
    infection = settings.infection_control.rule()
    marks = {t.therapist.id: day_marks[t.therapist.id] for t in selected
             if t.therapist.id in day_marks}
    prepared = _PreparedDay(day, selected,
                            published={therapist_id for therapist_id, plan in currents.items()
                                       if replan_publishes(plan)}, marks=marks)
    for therapist_day in selected:
        therapist_id = therapist_day.therapist.id
        base = currents.get(therapist_id)
        kept = sorted((s for s in (base.stops if base else []) if s.state in FROZEN_STATES),
                      key=lambda s: s.position)
        moment = _planned_from(therapist_day, kept, options)
        prepared.bases[therapist_id], prepared.kept[therapist_id] = base, kept
        if moment is None:
            prepared.starts[therapist_id] = start_of_day(therapist_day)
        else:
            prepared.starts[therapist_id] = start_now(therapist_day, base, kept, moment,
                                                      options.position, infection)
            prepared.replanned[therapist_id] = moment
    pin_map = pins_of(currents, [t.therapist.id for t in selected], pins)
    kept_keys = {visit_key(s.series_id, s.occurrence_date)
                 for stops in prepared.kept.values() for s in stops}
    prepared.day_input = gather(calendar, selected, prepared.starts, currents, pin_map,
                                frozen_keys=kept_keys, infection=infection)
    prepared.solver, prepared.problem = day_problem(prepared.day_input, settings,
                                                 options.time_limit, options.travel_times)
    return prepared


def _planned_from(therapist_day: TherapistDay, kept: Sequence[PlanStop],
                  options: _Options) -> datetime | None:
    """When this therapist's day is planned from; None: the whole day.

    An explicit re-plan's moment; with ``from_now``, now, on today once the shift has begun
    (or visits are done already); otherwise, with visits already done or skipped, the end of
    the last of them (what happened is kept, the rest follows it).
    """
    if options.at is not None:
        return options.at
    if options.from_now and therapist_day.day == options.now.astimezone(
            therapist_day.shift.zone).date():
        free = therapist_day.shift.free
        if kept or (free and to_epoch(options.now) > free[0].start):
            return options.now
    if kept:
        return max(s.end_at for s in kept)
    return None


def _finish_day(session: Session, prepared: _PreparedDay, answer: DaySolution | None,
                options: _Options) -> list[DayPlan]:
    if not prepared.selected or prepared.day_input is None:
        return []
    outcome = read_outcome(prepared.day_input, prepared.solver, answer)
    versions = next_versions(session, prepared.day, [t.therapist.id for t in prepared.selected])
    plans, unchanged = [], []
    for therapist_day in prepared.selected:
        therapist_id = therapist_day.therapist.id
        replanned = therapist_id in prepared.replanned
        base = prepared.bases.get(therapist_id)
        publish = bool(options.publish or (options.publish is None
                                           and therapist_id in prepared.published))
        plan = save_plan(session, therapist_day, outcome, options.now,
                         versions.get(therapist_id, 1), frozen=prepared.kept.get(therapist_id, []),
                         start=prepared.starts[therapist_id] if replanned else None, base=base)
        plan.replanned_at = prepared.replanned.get(therapist_id)
        plan.replaces_version = base.version if base is not None else None
        plan.changes = plan_changes(base, plan)
        if base is not None and same_plan(base, plan) and (
                (base.status == PlanStatus.PUBLISHED) == publish):
            unchanged.append(plan)
            base.kept_unchanged = True
            plans.append(base)
        else:
            plans.append(plan)
    session.flush()
    for plan in unchanged:
        # Nothing a therapist could notice changed: no new version (and no update e-mail).
        session.delete(plan)
    for plan in plans:
        if plan.status != PlanStatus.PUBLISHED and (
                options.publish or (options.publish is None
                                    and plan.therapist_id in prepared.published)):
            publish_plan(session, plan, options.now)
    # The new plans follow the records as read: the marks read with them are answered (a
    # mark a change made meanwhile has a newer generation and stays).
    stale.answered(session, prepared.day, prepared.marks)
    return plans


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
    travel_times: TravelTimes | None = None,
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
    at = require_aware(at, "at")
    if position is not None:
        position = check_position(position)
    options = _Options(settings, clock.utcnow(), publish, time_limit, travel_times, False, at,
                       position)
    marks = stale.generations(session, day, day).get(day, {})  # before the records
    snapshot = load_practice(session)
    if all(t.id != therapist_id for t in snapshot.therapists):
        raise fail("therapist_id", f"no active therapist with id {therapist_id}")
    plans = _plan_day(session, snapshot, day, [therapist_id], options, None, marks)
    if not plans:  # an inactive therapist is refused by selected_days; this is a day off
        raise fail("therapist_id", f"therapist {therapist_id} has no day to plan on "
                                   f"{day.isoformat()}")
    return plans[0]


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
    travel_times: TravelTimes | None = None,
) -> DayPlan:
    """Pin a visit (``key``, see :func:`visit_key`) of the therapist's day to ``start``, or
    unpin it (``start`` None), and plan that day again as a new draft version that honours the
    pin. A pin that cannot be kept (the time is not allowed) is dropped, and the stop's
    window note says so."""
    if start is not None:
        start = require_aware(start, "start")
    plans = plan_days(session, settings, day, [therapist_id], now=now, time_limit=time_limit,
                      travel_times=travel_times, pins={key: start})
    if not plans:
        raise fail("day", f"therapist {therapist_id} does not work on {day.isoformat()}")
    return plans[0]

"""Step 6 of the day-planning pipeline, second half: saving a planned day as a new version.

Each therapist's plan is one more :class:`~scheduler.models.DayPlan` version: its stops (with
what a re-plan keeps: done and skipped stops), leave-home, back-home and break times, the
visits left out with their reasons, and the solver's figures. :func:`publish_plan` makes a
version the day's plan of record. Version numbers and publishing lock the therapists' rows,
so two plannings of one day at once both save.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import models
from scheduler.calendar.day import TherapistDay, Visit
from scheduler.calendar.local_time import to_epoch
from scheduler.models import DayPlan, PlanStatus, PlanStop, StopState
from scheduler.planning.answer import PlannedRoute, PlannedVisit
from scheduler.planning.gather import DayInput, Start, home_location, require_aware
from scheduler.planning.reasons import clock_text
from scheduler.records.skills import skill_words
from scheduler.records.validation import fail


def publish_plan(session: Session, plan: DayPlan, now: datetime) -> DayPlan:
    """Make ``plan`` the day's plan of record; the previously published version is superseded."""
    now = require_aware(now, "now")
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


def set_stop_state(session: Session, stop: PlanStop, state: StopState,
                   at: datetime | None = None) -> None:
    """Mark a stop arrived, done, skipped or planned again (re-planning keeps all but planned
    ones); ``at`` is when it was pressed, kept with the mark.

    Arrived is only for a visit still planned (the therapist is at the building, the visit
    not begun); its time stays in ``arrived_at`` when the visit is then marked done or
    skipped, and goes when it is set back to planned.
    """
    try:
        state = StopState(state)
    except ValueError:
        raise fail("state", "must be one of planned, arrived, done, skipped") from None
    when = require_aware(at, "at") if at is not None else None
    if state == StopState.ARRIVED:
        if stop.state == StopState.ARRIVED:
            return  # arrived once: the first press is when
        if stop.state != StopState.PLANNED:
            raise fail("state", f"the visit is marked {stop.state.value}: only a visit still "
                                "planned can be marked arrived")
        stop.arrived_at = when
    elif state == StopState.PLANNED:
        stop.arrived_at = None
    stop.state = state
    stop.state_at = None if state == StopState.PLANNED else when
    session.flush()


def next_versions(session: Session, day: date, therapist_ids: Iterable[int]) -> dict[int, int]:
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


def save_plan(session: Session, therapist_day: TherapistDay, outcome: Outcome,
               now: datetime, version: int, *, frozen: Sequence[PlanStop] = (),
               start: Start | None = None, base: DayPlan | None = None) -> DayPlan:
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
        pinned=stop.pinned, window_note=stop.window_note, state_at=stop.state_at,
        arrived_at=stop.arrived_at,
    )


def _new_stop(leg: PlannedVisit, day_input: DayInput) -> PlanStop:
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


def _window_note(visit: Visit, leg: PlannedVisit, day_input: DayInput) -> str:
    """Why the visit may happen when it does: the free stretch it sits in and its edges."""
    availability = visit.availability
    clock = availability.clock
    notes = []
    if leg.task.key in day_input.pinned:
        notes.append(f"pinned to {clock_text(leg.start, day_input.zone)}")
    for window in availability.windows:
        if window.start_from <= leg.start <= window.start_until:
            edges = (window.opened_by if window.opened_by == window.closed_by
                     else f"between {window.opened_by} and {window.closed_by}")
            notes.append(f"free {clock(window.free_start)}–{clock(window.free_end)}: {edges}")
            break
    if leg.task.key in day_input.pin_notes:
        notes.append(day_input.pin_notes[leg.task.key])
    if visit.therapist_id is None:
        skills = skill_words(visit.series.required_skills or []) or "any skills"
        notes.append(f"open visit ({skills})")
    return "; ".join(notes)


def _set_times(plan: DayPlan, route: PlannedRoute | None, frozen: Sequence[PlanStop],
               start: Start | None, base: DayPlan | None, therapist: models.Therapist) -> None:
    """Leave-home, back-home, the break and the day's driving.

    In a re-plan the therapist may have left home already (the current plan's leave-home is
    before the re-plan, or they are somewhere else): that time is kept. The lunch counts as
    taken when the current plan had it starting before the re-plan; its times are kept.
    """
    legs = route.legs if route is not None else ()
    replan_at = start.replan_at if start is not None else None
    replanning = replan_at is not None
    left_before = (base.leave_home_at if replan_at is not None and base is not None
                   and base.leave_home_at is not None
                   and to_epoch(base.leave_home_at) <= replan_at else None)
    from_home = start is None or start.place.key == home_location(therapist).key
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
    if replanning and start is not None and start.lunch_taken and base is not None:
        plan.break_start_at, plan.break_end_at = base.break_start_at, base.break_end_at
    new_seconds = route.drive_seconds if route is not None and legs else 0
    new_metres = route.drive_metres if route is not None and legs else 0
    plan.total_drive_minutes = round(sum(s.drive_minutes for s in frozen) + new_seconds / 60, 1)
    plan.total_drive_km = round(sum(s.drive_km for s in frozen) + new_metres / 1000, 2)


def _unplaced_entries(therapist_id: int, outcome: Outcome) -> list[dict[str, Any]]:
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
    return models.LeftOut(
        series_id=visit.series.id, day=visit.occurrence.date,
        original_date=visit.occurrence.original_date, client_id=visit.client.id,
        facility_id=visit.facility.id, duration_minutes=visit.duration_minutes,
        priority=visit.series.priority, open=visit.therapist_id is None, reason=reason,
    ).to_json()


@dataclass
class Outcome:
    day_input: DayInput
    routes: dict[int, PlannedRoute]
    reasons: dict[str, str]  # task key -> reason in words, for the tasks not placed
    solver: dict[str, Any]

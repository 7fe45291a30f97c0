"""What a new version of a day plan changed from the version it replaced.

Every new version stores its difference from the plan of record it replaces
(:attr:`~scheduler.models.DayPlan.changes`), so the therapist is told which visits moved,
which were added, which were dropped (and why) and whether the order changed: on the day page
("What changed since 06:00"), in the API and in the "Updated" e-mail. Visits are compared by
their key (series and occurrence date), which stays the same across re-plans.

Each change is a small JSON object, ``kind`` first:

- ``{"kind": "moved", "key", "client_id", "from", "to"}`` (ISO start times);
- ``{"kind": "added", "key", "client_id", "at"}`` (a visit not in the old plan);
- ``{"kind": "dropped", "key", "client_id", "from", "reason"}`` (in the old plan, not in the new
  one; the reason the new plan gives, or that it is no longer on the calendar);
- ``{"kind": "order"}``: the visits both plans hold come in another order.

Done, skipped and arrived stops (a visit in progress) are kept by every re-plan and are never
reported.
"""

from __future__ import annotations

from typing import Any

from scheduler.models import DayPlan, PlanStop, StopState

GONE = "no longer on the calendar (cancelled, moved to another day, or its series ended)"


def _key(stop: PlanStop) -> str:
    return f"{stop.series_id}:{stop.occurrence_date.isoformat()}"


def _open_stops(plan: DayPlan) -> list[PlanStop]:
    """The stops still to be planned, in time order (arrived, done and skipped ones stay
    where they are)."""
    return sorted((s for s in plan.stops if s.state == StopState.PLANNED),
                  key=lambda s: s.start_at)


def plan_changes(base: DayPlan | None, new: DayPlan) -> list[dict[str, Any]]:
    """The changes from ``base`` (the plan of record being replaced) to ``new``; empty when
    there was no plan before or nothing a therapist would notice changed."""
    if base is None:
        return []
    old = {_key(s): s for s in _open_stops(base)}
    fresh = {_key(s): s for s in _open_stops(new)}
    kept_out = {f"{entry.series_id}:{entry.original_date.isoformat()}": entry
                for entry in new.left_out}
    changes: list[dict[str, Any]] = []
    for key, stop in fresh.items():
        before = old.get(key)
        if before is None:
            changes.append({"kind": "added", "key": key, "client_id": stop.client_id,
                            "at": stop.start_at.isoformat()})
        elif before.start_at != stop.start_at:
            changes.append({"kind": "moved", "key": key, "client_id": stop.client_id,
                            "from": before.start_at.isoformat(), "to": stop.start_at.isoformat()})
    done = {_key(s) for s in new.stops if s.state != StopState.PLANNED}
    for key, stop in old.items():
        if key not in fresh and key not in done:
            entry = kept_out.get(key)
            changes.append({"kind": "dropped", "key": key, "client_id": stop.client_id,
                            "from": stop.start_at.isoformat(),
                            "reason": entry.reason if entry is not None else GONE})
    both_old = [key for key in old if key in fresh]
    both_new = [key for key in fresh if key in old]
    if both_old != both_new:
        changes.append({"kind": "order"})
    return changes


def same_plan(base: DayPlan, new: DayPlan) -> bool:
    """True when ``new`` holds exactly what ``base`` holds: the same stops in the same order
    at the same times, in the same states and pins, the same break and home times and the
    same visits left out for the same reasons. A re-plan that finds this keeps ``base``
    rather than numbering a version nobody could tell apart from it."""
    def stops(plan: DayPlan) -> list[tuple[Any, ...]]:
        return [(_key(s), s.facility_id, s.arrive_at, s.start_at, s.end_at, s.state, s.pinned,
                 round(s.drive_minutes, 3)) for s in sorted(plan.stops, key=lambda s: s.position)]

    def left_out(plan: DayPlan) -> list[tuple[Any, ...]]:
        return sorted((e.series_id, e.original_date, e.reason) for e in plan.left_out)

    def times(plan: DayPlan) -> tuple[Any, ...]:
        return (plan.leave_home_at, plan.back_home_at, plan.break_start_at, plan.break_end_at)

    return (base.therapist_id == new.therapist_id and base.day == new.day
            and stops(base) == stops(new) and times(base) == times(new)
            and left_out(base) == left_out(new))

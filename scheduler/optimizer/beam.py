"""Choosing which jobs one vehicle serves: a beam search over partial routes.

On a full day the hard part is the *choice* of visits (which ones fit best together), not
their order; OR-Tools' local search, moving one or two visits at a time, is slow to change a
choice. This module rebuilds one vehicle's route from a pool of jobs (its own and some left
out) by extending partial routes one job at a time, like the exact method of :mod:`.exact`,
but keeping only the few most promising partial routes for each (last job, breaks taken):
half ranked by priority collected, half by how early they are ready (a route that is ready
earlier can still take more). A partial route is extended only by jobs of its last job's
class or higher, so every route it builds is in class order. It is a heuristic; the caller
keeps the new route only when it beats the old one on VROOM's objective.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .problem import ORDER_CLASSES, Problem
from .schedule import earliest_in, fits_statically, setup_paid, through_gap, vehicle_window

Objective = tuple[int, int, int]


@dataclass(frozen=True)
class _Partial:
    ready: int
    travel: int
    priority: int
    jobs: tuple[int, ...]  # indices into the pool
    mask: int
    taken: int  # breaks taken


def best_route(
    problem: Problem,
    vehicle_pos: int,
    pool: Sequence[int],
    width: int = 6,
    deadline: float | None = None,
) -> tuple[list[int], Objective]:
    """A good route for ``vehicle_pos`` over a subset of ``pool`` (job positions), and its value.

    Past ``deadline`` the best route closed so far is returned.
    """
    vehicle = problem.vehicles[vehicle_pos]
    pool = [p for p in pool if fits_statically(problem, vehicle, [problem.jobs[p]])]
    jobs = [problem.jobs[p] for p in pool]
    breaks = vehicle.breaks
    day_start, day_end = vehicle_window(vehicle)
    places = [job.location_index for job in jobs]
    classes = [job.order_class for job in jobs]
    best: tuple[Objective, tuple[int, ...]] = ((0, 0, 0), ())
    layer = [_Partial(day_start, 0, 0, (), 0, 0)]
    limit = len(pool) if vehicle.max_tasks is None else min(len(pool), vehicle.max_tasks)
    for _depth in range(limit):
        buckets: dict[tuple[int, int], list[_Partial]] = {}
        if deadline is not None and time.perf_counter() > deadline:
            break
        for partial in layer:
            if deadline is not None and time.perf_counter() > deadline:
                break
            last = partial.jobs[-1] if partial.jobs else None
            here = vehicle.start_index if last is None else places[last]
            lowest = classes[last] if last is not None else ORDER_CLASSES[0]
            for u, job in enumerate(jobs):
                if partial.mask >> u & 1 or classes[u] < lowest:
                    continue
                travel = problem.travel(here, places[u])
                for until in range(partial.taken, len(breaks) + 1):
                    passed = through_gap(partial.ready, travel, breaks[partial.taken : until])
                    if passed is None:
                        break
                    start = earliest_in(passed[0], job.time_windows)
                    if start is None:
                        continue
                    done = start + setup_paid(here, job) + job.service
                    grown = _Partial(
                        done,
                        partial.travel + travel,
                        partial.priority + job.priority,
                        (*partial.jobs, u),
                        partial.mask | 1 << u,
                        until,
                    )
                    buckets.setdefault((u, until), []).append(grown)
        layer = []
        for bucket in buckets.values():
            for partial in _select(bucket, width):
                route = [pool[k] for k in partial.jobs]
                if not fits_statically(problem, vehicle, [problem.jobs[p] for p in route]):
                    continue
                layer.append(partial)
                value = _close(problem, vehicle_pos, partial, places, day_end)
                if value is not None and value > best[0]:
                    best = (value, tuple(route))
        if not layer:
            break
    return list(best[1]), best[0]


def _select(bucket: list[_Partial], width: int) -> list[_Partial]:
    """Keep ``width`` partial routes: half by priority collected, half by readiness."""
    by_value = sorted(bucket, key=lambda p: (-p.priority, -len(p.jobs), p.ready, p.travel))
    by_time = sorted(bucket, key=lambda p: (p.ready, -p.priority, p.travel))
    chosen: list[_Partial] = []
    seen: set[tuple[int, int, int]] = set()
    for partial in by_value[: (width + 1) // 2] + by_time:
        if len(chosen) >= width:
            break
        key = (partial.mask, partial.ready, partial.travel)
        if key not in seen:
            seen.add(key)
            chosen.append(partial)
    return chosen


def _close(problem, vehicle_pos, partial, places, day_end) -> Objective | None:
    vehicle = problem.vehicles[vehicle_pos]
    back = problem.travel(places[partial.jobs[-1]], vehicle.end_index)
    passed = through_gap(partial.ready, back, vehicle.breaks[partial.taken :])
    if passed is None or passed[0] > day_end:
        return None
    travel = partial.travel + back
    if vehicle.max_travel_time is not None and travel > vehicle.max_travel_time:
        return None
    return partial.priority, len(partial.jobs), -travel


WIDTHS = (6, 12, 24)
"""Beam widths tried in turn: each sweep over the vehicles uses the next width once a sweep
at the current width changes nothing. The same input gives the same sequence of sweeps; only
the deadline can cut it short."""


def reselect_routes(
    problem: Problem,
    routes: dict[int, list[int]],
    candidates: Sequence[Sequence[int]],
    deadline: float | None = None,
    pool_extra: int = 20,
    widths: Sequence[int] = WIDTHS,
) -> dict[int, list[int]]:
    """Rebuild each vehicle's route from its jobs plus the best left-out jobs it could do.

    Vehicles are visited in order, sweep after sweep, widening the beam when a sweep changes
    nothing, until the widest sweep changes nothing or the deadline passes. A new route is
    kept only if it is strictly better (priority, then count, then travel). Without a
    deadline it ends on that work alone.
    """
    from .schedule import time_route

    for width in widths:
        changed = True
        while changed:
            changed = False
            for v in range(len(problem.vehicles)):
                if deadline is not None and time.perf_counter() > deadline:
                    return routes
                current = routes.get(v, [])
                timed = time_route(problem, v, current) if current else None
                value = (
                    (sum(problem.jobs[p].priority for p in current), len(current), -timed.travel)
                    if timed is not None
                    else (0, 0, 0)
                )
                served = {p for jobs in routes.values() for p in jobs}
                extra = sorted(
                    (p for p in range(len(problem.jobs)) if p not in served and v in candidates[p]),
                    key=lambda p: (-problem.jobs[p].priority, p),
                )[:pool_extra]
                if not extra:
                    continue
                route, new_value = best_route(problem, v, [*current, *extra], width, deadline)
                if new_value > value and time_route(problem, v, route) is not None:
                    routes[v] = route
                    changed = True
    return routes

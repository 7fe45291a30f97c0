"""Small deterministic moves on finished routes: make them feasible, then fill them up.

OR-Tools' model mirrors :mod:`.schedule` closely but not perfectly (a break with several
windows is given to OR-Tools as one wide window), so each proposed route is re-timed; a route
the rules reject loses its least valuable jobs until it passes. Then every job still left out
that some vehicle could serve alone is offered its cheapest feasible insertion, highest
priority first: no job that fits as things stand is ever reported as "the day is full".
"""

from __future__ import annotations

from collections.abc import Sequence

from .problem import Problem
from .schedule import TimedRoute, time_route


def make_feasible(problem: Problem, vehicle: int, jobs: Sequence[int]) -> TimedRoute | None:
    """The route itself if feasible, else the route minus its least valuable jobs."""
    jobs = list(jobs)
    while jobs:
        timed = time_route(problem, vehicle, jobs)
        if timed is not None:
            return timed
        order = sorted(range(len(jobs)), key=lambda k: (problem.jobs[jobs[k]].priority, -k))
        for k in order:
            trial = jobs[:k] + jobs[k + 1 :]
            if time_route(problem, vehicle, trial) is not None:
                jobs = trial
                break
        else:
            jobs.pop(order[0])
    return None


def insert_left_out(
    problem: Problem,
    routes: dict[int, list[int]],
    left_out: Sequence[int],
    candidates: Sequence[Sequence[int]],
) -> dict[int, list[int]]:
    """Insert each left-out job where it adds least travel, if it fits anywhere."""
    order = sorted(left_out, key=lambda p: (-problem.jobs[p].priority, p))
    for p in order:
        best: tuple[int, int, int] | None = None
        for v in candidates[p]:
            route = routes.get(v, [])
            base = time_route(problem, v, route)
            base_travel = base.travel if base is not None else 0
            for position in range(len(route) + 1):
                trial = route[:position] + [p] + route[position:]
                timed = time_route(problem, v, trial)
                if timed is None:
                    continue
                extra = timed.travel - base_travel
                if best is None or (extra, v, position) < best:
                    best = (extra, v, position)
        if best is not None:
            _, v, position = best
            routes.setdefault(v, []).insert(position, p)
    return routes

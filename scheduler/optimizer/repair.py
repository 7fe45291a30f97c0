"""Small deterministic moves on finished routes: make them feasible, then fill them up.

OR-Tools' model mirrors :mod:`.schedule` closely but not perfectly (a break with several
windows is given to OR-Tools as one wide window), so each proposed route is re-timed; a route
the rules reject loses its least valuable jobs until it passes. Then every job still left out
that some vehicle could serve alone is offered its cheapest feasible insertion, highest
priority first: no job that fits as things stand is ever reported as "the day is full".
Insertions are tried only where the class order allows (:func:`.schedule.class_slots`);
:func:`.schedule.time_route` checks it again with every other rule.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .problem import Problem
from .schedule import TimedRoute, class_slots, time_route


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
    deadline: float | None = None,
) -> dict[int, list[int]]:
    """Insert each left-out job where it adds least travel, if it fits anywhere (the jobs not
    reached by ``deadline`` stay out)."""
    order = sorted(left_out, key=lambda p: (-problem.jobs[p].priority, p))
    for p in order:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        best: tuple[int, int, int] | None = None
        for v in candidates[p]:
            route = routes.get(v, [])
            base = time_route(problem, v, route)
            base_travel = base.travel if base is not None else 0
            for position in class_slots(problem, route, p):
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


def swap_in_left_out(
    problem: Problem,
    routes: dict[int, list[int]],
    candidates: Sequence[Sequence[int]],
    passes: int = 3,
    deadline: float | None = None,
) -> dict[int, list[int]]:
    """Trade a served job for a left-out one of higher priority, where the day allows.

    OR-Tools is good at ordering but weak at choosing *which* jobs to serve when the day is
    full (a knapsack hidden in a routing problem). Each move takes one job off a route and
    puts a strictly higher-priority left-out job in its best position; the best move per
    left-out job is applied, most valuable jobs first, and freed room is refilled by
    :func:`insert_left_out`. Every move strictly improves VROOM's objective, so it ends.
    """
    for _ in range(passes):
        served = {p for jobs in routes.values() for p in jobs}
        left_out = sorted(
            (p for p in range(len(problem.jobs)) if p not in served and candidates[p]),
            key=lambda p: (-problem.jobs[p].priority, p),
        )
        moved = False
        for p in left_out:
            if deadline is not None and time.perf_counter() > deadline:
                return routes
            move = _best_swap(problem, routes, p, candidates[p])
            if move is not None:
                v, new_route = move
                routes[v] = new_route
                moved = True
        served = {p for jobs in routes.values() for p in jobs}
        routes = insert_left_out(
            problem, routes, [p for p in left_out if p not in served], candidates, deadline
        )
        if not moved:
            break
    return routes


def _best_swap(
    problem: Problem, routes: dict[int, list[int]], p: int, vehicles: Sequence[int]
) -> tuple[int, list[int]] | None:
    """The best (priority gained, travel saved) swap of job ``p`` into a route, if any."""
    gain_priority = problem.jobs[p].priority
    best: tuple[tuple[int, int], int, list[int]] | None = None
    for v in vehicles:
        route = routes.get(v, [])
        base = time_route(problem, v, route)
        if base is None:
            continue
        for k, q in enumerate(route):
            gain = gain_priority - problem.jobs[q].priority
            if gain <= 0 or (best is not None and gain < best[0][0]):
                continue
            rest = route[:k] + route[k + 1 :]
            for position in class_slots(problem, rest, p):
                trial = rest[:position] + [p] + rest[position:]
                timed = time_route(problem, v, trial)
                if timed is None:
                    continue
                score = (gain, base.travel - timed.travel)
                if best is None or score > best[0]:
                    best = (score, v, trial)
    return None if best is None else (best[1], best[2])

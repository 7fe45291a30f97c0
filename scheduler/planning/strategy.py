"""Step 5 of the day-planning pipeline: how a whole day is solved, and within what time.

:func:`solve_day` is the one owner of the day's time budget: it decides who takes the shared
(open) visits in one multi-therapist problem per group of neighbours, then solves each
therapist's route on its own (exactly, for a normal day) and offers the visits left out to
the next therapist who could take them. Pure: plain values in, :class:`DaySolution` out, so a
day can be solved in another process (:func:`scheduler.planning.plan_range`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from scheduler.optimizer.routing import SearchSettings
from scheduler.optimizer.solve import solve
from scheduler.planning.answer import PlannedRoute, Why, explain, read_solution
from scheduler.planning.problem import Task, Travel, Worker, build_problem

MAX_VEHICLES_PER_PROBLEM = 8
"""Therapists in one multi-vehicle problem; a larger day is split into groups of neighbours."""


ASSIGN_SOLUTIONS = 10
"""The work limit of each assignment solve (OR-Tools solutions; ruin and recreate does ten
iterations for each): the same work, so the same answer, on a quiet or a busy machine. The
day's time limit is only a cap on top, reached on very large days or a starved machine."""


ASSIGN_SHARE = 0.5
"""Part of the day's time budget given to assigning the shared visits; the rest to offers."""


MAX_OFFERED = 2
"""Visits left out elsewhere offered to one therapist's route solve (nearest first)."""


MAX_ROUTE_POOL = 10
"""Visits in one route solve with offers: the optimizer's exact method (up to 12 visits)
grows steeply with the number of visits; at 12 it took seconds on demo days."""


@dataclass(frozen=True)
class DaySolution:
    """Each therapist's route, why each task left out is out, and the solver's figures."""

    routes: dict[int, PlannedRoute]
    left_out: dict[str, Why]
    figures: dict[str, Any]


def solve_day(workers: Sequence[Worker], tasks: Sequence[Task], travel: Travel,
              candidates: Mapping[str, Sequence[int]], time_limit: float) -> DaySolution:
    """Plan every worker's day: who takes the shared visits, then each route on its own.

    1. *Assign*: when some task could go to more than one worker (an open visit), one
       multi-vehicle problem per group of at most :data:`MAX_VEHICLES_PER_PROBLEM` neighbouring
       workers decides who takes what; the groups share :data:`ASSIGN_SHARE` of
       ``time_limit``.
    2. *Each route*: every worker's route is solved again alone, over the tasks it was given
       and up to :data:`MAX_OFFERED` tasks still left out that it could take (highest priority
       first, then nearest to where it starts). A one-vehicle problem of up to a dozen visits
       is solved exactly by the optimizer, so each route is the best for what it was given,
       and proved so (``figures["routes_proved_optimal"]``); a visit left out by one worker
       is offered to the next who could take it. Route solves have no clock: the exact method
       proves a route of up to :data:`MAX_ROUTE_POOL` visits in well under a second.

    Everything here stops on counted work, so the same day gives the same plans whatever the
    machine's load (a re-plan of an unchanged day then keeps its version); ``time_limit``
    only caps the assignment, for days too large for its work limit.

    ``candidates`` maps a task key to the workers who may take it (its skills already say so;
    this tells own visits from shared ones without decoding skills).
    """
    started = time.perf_counter()
    by_key = {task.key: task for task in tasks}
    order = {task.key: k for k, task in enumerate(tasks)}
    assigned: dict[int, list[str]] = {w.therapist_id: [] for w in workers}
    left_out: dict[str, Why] = {}
    figures: dict[str, Any] = {"assign": [], "routes": []}
    shared = any(len(candidates[t.key]) > 1 for t in tasks)
    if shared and len(workers) > 1:
        groups = _groups(workers, travel)
        for group, group_tasks in _split(groups, tasks, candidates):
            if not group_tasks:
                continue
            cap = time_limit * ASSIGN_SHARE / len(groups)
            routes, out, seconds = _solve_once(
                group, group_tasks, travel,
                SearchSettings(solution_limit=ASSIGN_SOLUTIONS, time_limit=cap))
            for route in routes:
                assigned[route.therapist_id] = [leg.task.key for leg in route.legs]
            left_out.update(out)
            figures["assign"].append({"therapists": len(group), "visits": len(group_tasks),
                                      "seconds": seconds["seconds"]})
    else:
        for task in tasks:
            assigned[candidates[task.key][0]].append(task.key)
    final: dict[int, PlannedRoute] = {}
    proved = True
    for worker in workers:
        mine = assigned[worker.therapist_id]
        offered = _offers(worker, mine, left_out, by_key, candidates, travel, order)
        pool = [by_key[k] for k in mine + offered]
        if not pool:
            continue
        routes, out, seconds = _solve_once([worker], pool, travel, None)
        proved = proved and seconds["proved_optimal"]
        for key in [k for k in mine + offered if k not in out]:
            left_out.pop(key, None)
        for key, why in out.items():
            earlier = left_out.get(key)
            tried = (earlier.tried if earlier else ()) + (worker.therapist_id,)
            left_out[key] = replace(why, tried=tried)
        if routes:
            final[worker.therapist_id] = routes[0]
        figures["routes"].append({"therapist": worker.therapist_id, "visits": len(pool),
                                  "seconds": seconds["seconds"],
                                  "proved_optimal": seconds["proved_optimal"]})
    served = [leg.task for route in final.values() for leg in route.legs]
    figures.update(
        seconds=round(time.perf_counter() - started, 3),
        # The whole day is proved best only when no assignment between workers was searched.
        proved_optimal=proved and not figures["assign"],
        routes_proved_optimal=proved,
        objective={"priority": sum(t.priority for t in served), "visits": len(served),
                   "travel_seconds": sum(r.drive_seconds for r in final.values())},
    )
    return DaySolution(final, left_out, figures)


def _offers(worker: Worker, mine: list[str], left_out: Mapping[str, Why],
            tasks: Mapping[str, Task], candidates: Mapping[str, Sequence[int]], travel: Travel,
            order: Mapping[str, int]) -> list[str]:
    """The left-out tasks offered to ``worker``: highest priority, then nearest, first."""
    room = min(MAX_OFFERED, MAX_ROUTE_POOL - len(mine))
    if room <= 0:
        return []
    able = [k for k in left_out if worker.therapist_id in candidates[k] and k not in mine]
    able.sort(key=lambda k: (-tasks[k].priority, travel.drive(worker.start, tasks[k].place)[0],
                             order[k]))
    return able[:room]


def _solve_once(workers: Sequence[Worker], tasks: Sequence[Task], travel: Travel,
                settings: SearchSettings | None
                ) -> tuple[list[PlannedRoute], dict[str, Why], dict[str, Any]]:
    """One optimizer run over ``workers`` and ``tasks``, on the places they use; without
    ``settings``, on the optimizer's own work limits (no clock)."""
    started = time.perf_counter()
    used = {t.place for t in tasks} | {w.start for w in workers} | {w.end for w in workers}
    built = build_problem(workers, tasks, travel.subset(used))
    solution = solve(built.problem, settings=settings)
    routes, out = read_solution(built, solution)
    tried = tuple(w.therapist_id for w in workers)
    whys = {item.task.key: explain(built, item.reason, tried) for item in out}
    figures = {"seconds": round(time.perf_counter() - started, 3),
               "proved_optimal": solution.proved_optimal}
    return routes, whys, figures


def _groups(workers: Sequence[Worker], travel: Travel) -> list[list[Worker]]:
    """Workers in groups of at most MAX_VEHICLES_PER_PROBLEM neighbours: sectors around the
    centre of their starting points, so each group covers one part of the metro."""
    if len(workers) <= MAX_VEHICLES_PER_PROBLEM:
        return [list(workers)]
    points = [travel.places[travel.index[w.start]].point for w in workers]
    lat = sum(p[0] for p in points) / len(points)
    lon = sum(p[1] for p in points) / len(points)
    ordered = sorted(zip(workers, points, strict=True),
                     key=lambda wp: (math.atan2(wp[1][0] - lat, wp[1][1] - lon),
                                     wp[0].therapist_id))
    count = math.ceil(len(workers) / MAX_VEHICLES_PER_PROBLEM)
    size = math.ceil(len(workers) / count)
    return [[w for w, _ in ordered[k:k + size]] for k in range(0, len(ordered), size)]


def _split(groups: list[list[Worker]], tasks: Sequence[Task],
           candidates: Mapping[str, Sequence[int]]) -> list[tuple[list[Worker], list[Task]]]:
    """Each task goes to the group holding most of its candidates (the first on a tie)."""
    member = {w.therapist_id: g for g, group in enumerate(groups) for w in group}
    shares: list[list[Task]] = [[] for _ in groups]
    for task in tasks:
        counts = [0] * len(groups)
        for therapist_id in candidates[task.key]:
            if therapist_id in member:
                counts[member[therapist_id]] += 1
        shares[counts.index(max(counts))].append(task)
    return list(zip(groups, shares, strict=True))

"""The optimizer's one entry point: :func:`solve`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .beam import reselect_routes
from .errors import ProblemError
from .exact import MAX_EXACT_JOBS, greedy_route, solve_exact
from .json_io import parse_problem
from .problem import Problem
from .reasons import Reason, Unordered, candidate_vehicles, why_impossible, why_left_out
from .repair import insert_left_out, make_feasible, swap_in_left_out
from .routing import SearchSettings, search_routes
from .ruin_recreate import ruin_and_recreate
from .schedule import TimedRoute, time_route
from .solution import Solution, Unassigned
from .travel_model import TravelModel

OR_TOOLS_SHARE = 0.5
"""Share of the time left after our construction that OR-Tools gets; the rest is for the
swap moves and route re-selection that follow (they stop at the deadline)."""

OR_TOOLS_SHARE_BEFORE_RUIN = 0.3
"""OR-Tools' share when ruin and recreate follows: its guided local search stalls on windowed
days, where ruin and recreate keeps improving."""

FINISH_SHARE = 0.01
"""Share of ``time_limit`` kept for what follows the search (timing the routes, the reasons
of the visits left out), so that the whole call returns within its limit."""

FINISH_AT_LEAST = 0.05
"""Seconds kept for the same, whatever the limit: a reason costs a few re-timings per job."""

RUIN_SHARE = 0.9
"""Share of the time left after OR-Tools that ruin and recreate gets; the swaps and the beam
re-selection polish in the rest."""

RUIN_ITERATIONS_PER_SOLUTION = 10
"""Ruin-and-recreate iterations per OR-Tools solution of ``solution_limit``: the work limit
that keeps the answer reproducible when the clock does not stop the run."""


def default_settings(jobs: int, time_limit: float | None) -> SearchSettings:
    """Search effort by problem size: a deterministic budget under a wall-clock cap.

    ``solution_limit`` grows with the number of jobs; on small days it is reached before the
    cap, so the answer does not depend on timing; large days (a practice's 150 visits) run to
    the cap.
    """
    cap = time_limit if time_limit is not None else 2.0 + 0.2 * jobs
    return SearchSettings(time_limit=cap, solution_limit=100 + 5 * jobs)


def one_vehicle_settings(jobs: int, time_limit: float | None) -> SearchSettings:
    """A single therapist's long day: a short OR-Tools run, most of the time for re-selection."""
    cap = time_limit if time_limit is not None else 1.8
    return SearchSettings(time_limit=cap, solution_limit=50 + 2 * jobs)


def solve(
    problem: Mapping[str, Any] | Problem,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    settings: SearchSettings | None = None,
    travel_model: TravelModel | None = None,
) -> Solution:
    """Assign and order jobs on vehicles for VROOM's objective.

    Parameters
    ----------
    problem
        VROOM-style problem dict (see ``docs/optimizer.md``) or a typed :class:`Problem`.
    time_limit
        Wall-clock cap in seconds for the whole call, from reading the input to the reasons of
        the visits left out (default 1.8 s for one vehicle, else 2 s + 0.2 s per job). The
        search (OR-Tools, ruin and recreate, the swaps and the beam re-selection) stops early
        enough to leave ``FINISH_SHARE`` of it (at least ``FINISH_AT_LEAST`` seconds) for
        what follows. Small days stop earlier on deterministic work limits; see
        :class:`~.routing.SearchSettings`. The exact method (one vehicle, at most 12 jobs)
        runs to its proof after the search; its label budget, not the clock, bounds it.
    seed
        Seeds the ruin-and-recreate phase; with the same seed and a run stopped by its work
        limits, the same input gives the same output.
    settings
        Full control of the OR-Tools search (overrides the size-based defaults; ``time_limit``
        still overrides its cap when given).
    travel_model
        Calibration used when the problem has coordinates but no matrices.

    Returns
    -------
    Solution
        With ``code`` 2 and an ``error`` naming the field when the input is invalid; never
        raises for bad input.
    """
    started = time.perf_counter()
    try:
        typed = problem if isinstance(problem, Problem) else parse_problem(problem, travel_model)
    except ProblemError as error:
        return Solution.failure(str(error))
    loaded = time.perf_counter()
    if settings is None and len(typed.vehicles) == 1:
        settings = one_vehicle_settings(len(typed.jobs), time_limit)
    elif settings is None:
        settings = default_settings(len(typed.jobs), time_limit)
    elif time_limit is not None:
        settings = replace(settings, time_limit=time_limit)
    finish = max(FINISH_AT_LEAST, FINISH_SHARE * settings.time_limit)
    candidates = candidate_vehicles(typed)
    left = started + settings.time_limit - finish - time.perf_counter()
    settings = replace(settings, time_limit=max(0.05, left))
    try:
        routes, proved = _optimise(typed, settings, candidates, seed)
    except OverflowError as error:
        return Solution.failure(f"problem: {error}")
    served = {p for route in routes for p in route.jobs}
    unordered = Unordered(typed)
    unassigned = tuple(
        Unassigned(p, _reason(typed, p, routes, candidates[p], unordered))
        for p in range(len(typed.jobs))
        if p not in served
    )
    done = time.perf_counter()
    return Solution(
        problem=typed,
        routes=routes,
        unassigned=unassigned,
        proved_optimal=proved,
        computing_times={
            "loading": round((loaded - started) * 1000),
            "solving": round((done - loaded) * 1000),
        },
    )


def _optimise(
    problem: Problem, settings: SearchSettings, candidates: list[list[int]], seed: int = 0
) -> tuple[tuple[TimedRoute, ...], bool]:
    """OR-Tools, then repair and insertion; the exact method on small one-vehicle days.

    ``candidates`` are :func:`.reasons.candidate_vehicles`; ``settings.time_limit`` is what is
    left of the call's limit for the search.
    """
    possible = [p for p, c in enumerate(candidates) if c]
    exact = len(problem.vehicles) == 1 and len(possible) <= MAX_EXACT_JOBS
    if exact:
        # A quick local optimum is all the exact method needs to prune with.
        settings = replace(
            settings, metaheuristic="greedy_descent", solution_limit=None, operators="full"
        )
    found = (
        _search(problem, settings, candidates, possible, polish=not exact, seed=seed)
        if possible
        else {}
    )
    proved = False
    if exact:
        incumbent = found.get(0, [])
        timed = time_route(problem, 0, incumbent) if incumbent else None
        start = (tuple(incumbent), _objective(problem, timed))
        greedy = greedy_route(problem, 0, possible)  # sometimes the better bound to prune with
        if greedy[1] > start[1]:
            start = greedy
        result = solve_exact(problem, 0, possible, start)
        found = {0: list(result.jobs)}
        proved = result.proved
    routes = [time_route(problem, v, found[v]) for v in sorted(found) if found[v]]
    assert all(route is not None for route in routes)
    return tuple(r for r in routes if r is not None), proved


def _search(
    problem: Problem,
    settings: SearchSettings,
    candidates: list[list[int]],
    possible: list[int],
    polish: bool = True,
    seed: int = 0,
) -> dict[int, list[int]]:
    """OR-Tools' routes, each made feasible by our rules, then left-out jobs inserted.

    When priorities differ, the search starts from a priority-first insertion of our own:
    OR-Tools' constructions ignore priorities until the local search, which is slow to undo
    a first choice of the wrong jobs on a full day. Ruin and recreate (:mod:`.ruin_recreate`)
    then gets most of the time left. The time limit covers the whole. Without ``polish`` ruin
    and recreate, the swaps and the beam re-selection are skipped.
    """
    deadline = time.perf_counter() + settings.time_limit
    initial = None
    if len({problem.jobs[p].priority for p in possible}) > 1:
        built = insert_left_out(problem, {}, possible, candidates)
        initial = [built.get(v, []) for v in range(len(problem.vehicles))]
    if polish:
        share = OR_TOOLS_SHARE_BEFORE_RUIN
    else:  # the exact method follows; with equal priorities there is less to choose
        share = OR_TOOLS_SHARE if initial is not None else 0.95
    remaining = max(0.05, (deadline - time.perf_counter()) * share)
    found: dict[int, list[int]] = {}
    proposed = search_routes(problem, candidates, replace(settings, time_limit=remaining), initial)
    for v, jobs in enumerate(proposed or initial or []):
        timed = make_feasible(problem, v, jobs)
        if timed is not None:
            found[v] = list(timed.jobs)
    served = {p for jobs in found.values() for p in jobs}
    found = insert_left_out(problem, found, [p for p in possible if p not in served], candidates)
    if not polish:  # the exact method follows: it needs a start, not a polished one
        return found
    now = time.perf_counter()
    iterations = settings.solution_limit
    found = ruin_and_recreate(
        problem,
        found,
        candidates,
        seed=seed,
        deadline=now + max(0.0, deadline - now) * RUIN_SHARE,
        iterations=None if iterations is None else RUIN_ITERATIONS_PER_SOLUTION * iterations,
    )
    found = swap_in_left_out(problem, found, candidates, deadline=deadline)
    return reselect_routes(problem, found, candidates, deadline)


def _objective(problem: Problem, route: TimedRoute | None) -> tuple[int, int, int]:
    if route is None:
        return 0, 0, 0
    return sum(problem.jobs[p].priority for p in route.jobs), len(route.jobs), -route.travel


def _reason(
    problem: Problem,
    p: int,
    routes: tuple[TimedRoute, ...],
    candidates: list[int],
    unordered: Unordered,
) -> Reason:
    if not candidates:
        return why_impossible(problem, p)
    return why_left_out(problem, p, routes, candidates, unordered)

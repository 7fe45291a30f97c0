"""The optimizer's one entry point: :func:`solve`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .beam import WIDTHS, reselect_routes
from .errors import ProblemError
from .exact import MAX_EXACT_JOBS, greedy_route, solve_exact
from .json_io import parse_problem
from .problem import Problem
from .reasons import Reason, Unordered, candidate_vehicles, why_impossible, why_left_out
from .repair import insert_left_out, make_feasible, swap_in_left_out
from .routing import SearchSettings, search_routes
from .ruin_recreate import chains
from .schedule import TimedRoute, time_route
from .solution import Solution, Unassigned
from .travel_model import TravelModel

OR_TOOLS_SHARE = 0.5
"""Share of the time left after our construction that OR-Tools gets before the exact method
when priorities differ; with equal priorities it gets :data:`OR_TOOLS_SHARE_BEFORE_EXACT`."""

OR_TOOLS_SHARE_BEFORE_EXACT = 0.5
"""Share of the time left that OR-Tools' greedy descent may take before the exact method
(it stops at its local optimum long before on a therapist's day); the rest is the proof's."""

OR_TOOLS_SHARE_BEFORE_RUIN = 0.05
"""OR-Tools' share of the clock when ruin and recreate follows: its guided local search
stalls on windowed days, where ruin and recreate keeps improving. On the practice days of
``benchmarks/practice_days.py`` (10 s) a 2 % share beat 30 % on every one of four days."""

FINISH_BASE = 0.005
"""Seconds of ``time_limit`` kept for what follows the search (timing the routes, the reasons
of the visits left out, the solution), so that the whole call returns within its limit ..."""

FINISH_PER_JOB = 0.0003
"""... plus this per job: a reason costs a few re-timings (about 30 ms for 160 visits left
out of a 400-visit day)."""

RUIN_SHARE = 0.97
"""Share of the time left after OR-Tools that ruin and recreate gets; the swaps and the beam
re-selection polish in the rest. After ruin and recreate they rarely find anything (none of
three practice days at 10 s, where they had 0.9 s), so they get little."""

RUIN_ITERATIONS_PER_SOLUTION = 10
"""Ruin-and-recreate iterations per OR-Tools solution of ``solution_limit``: the work limit
that keeps the answer reproducible when the clock does not stop the run."""


def default_solution_limit(jobs: int, vehicles: int) -> int:
    """OR-Tools' work limit in a call without ``time_limit`` or ``solution_limit``.

    One therapist's long day: a short run, then the beam re-selection. Several therapists:
    a few solutions only, for guided local search costs about 0.2 s a solution on a practice
    day (150 visits, lunches) where ruin and recreate does hundreds of iterations a second
    (:data:`RUIN_ITERATIONS_PER_JOB`).
    """
    return 50 + 2 * jobs if vehicles == 1 else 10


RUIN_ITERATIONS_PER_JOB = 20
"""Ruin-and-recreate iterations per job in a multi-therapist call without ``time_limit`` or
``solution_limit``: 3,000 on a practice day, about 5 s on two cores."""


@dataclass(frozen=True)
class Budget:
    """What stops the search: ``deadline`` (a :func:`time.perf_counter` time) and the work
    limits ``solutions`` (OR-Tools' ``solution_limit``) and ``iterations`` (ruin and
    recreate). ``None`` means no such limit; a budget always has a deadline or work limits.
    """

    deadline: float | None
    solutions: int | None
    iterations: int | None

    def share(self, share: float) -> float | None:
        """A deadline ``share`` of the way from now to the budget's deadline."""
        if self.deadline is None:
            return None
        now = time.perf_counter()
        return now + max(0.0, self.deadline - now) * share


def budget(
    problem: Problem,
    time_limit: float | None,
    settings: SearchSettings | None,
    started: float,
) -> Budget:
    """The work limits and the deadline of a call, from its arguments.

    * ``time_limit`` given, no ``settings``: the clock alone; the search runs until
      ``time_limit`` less what the finish needs (:data:`FINISH_BASE`, :data:`FINISH_PER_JOB`),
      except where it ends by itself (the exact method's proof, a greedy descent).
    * ``settings`` with a ``solution_limit``: those work limits, under ``time_limit`` (or
      ``settings.time_limit``) as a cap when one is given.
    * neither a limit of time nor of work: :func:`default_solution_limit` and, with several
      therapists, :data:`RUIN_ITERATIONS_PER_JOB`; no clock at all.
    """
    cap = time_limit if time_limit is not None else settings.time_limit if settings else None
    solutions = settings.solution_limit if settings is not None else None
    iterations = None if solutions is None else RUIN_ITERATIONS_PER_SOLUTION * solutions
    if solutions is None and cap is None:
        jobs, vehicles = len(problem.jobs), len(problem.vehicles)
        solutions = default_solution_limit(jobs, vehicles)
        iterations = RUIN_ITERATIONS_PER_SOLUTION * solutions
        if vehicles > 1:
            iterations = RUIN_ITERATIONS_PER_JOB * jobs
    deadline = None
    if cap is not None:
        finish = min(cap / 2, FINISH_BASE + FINISH_PER_JOB * len(problem.jobs))
        deadline = started + cap - finish
    return Budget(deadline, solutions, iterations)


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
        Seconds for the whole call, from reading the input to the reasons of the visits left
        out: a bound, not a target. The search uses the time while it can still improve (on a
        therapist's day of up to 12 visits the exact method usually proves its answer sooner)
        and stops early enough to leave what the finish needs. Without ``settings`` nothing
        else stops a multi-therapist search, so the answer depends on the machine's speed.
        Without ``time_limit`` (and no cap in ``settings``), the search stops on work limits
        that grow with the size of the problem, and never looks at the clock.
    seed
        Seeds ruin and recreate; with the same seed and a run stopped by its work limits, the
        same input gives the same output, whatever the machine's load.
    settings
        Work limits (``solution_limit``) and OR-Tools' strategies; see :class:`SearchSettings`
        and :func:`budget`. ``time_limit`` overrides ``settings.time_limit`` when given.
    travel_model
        Calibration used when the problem has coordinates but no matrices.

    Returns
    -------
    Solution
        With ``code`` 2 and an ``error`` naming the field when the input is invalid; never
        raises for bad input.
    """
    started = time.perf_counter()
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit: must be positive, got {time_limit!r}")
    try:
        typed = problem if isinstance(problem, Problem) else parse_problem(problem, travel_model)
    except ProblemError as error:
        return Solution.failure(str(error))
    loaded = time.perf_counter()
    limits = budget(typed, time_limit, settings, started)
    candidates = candidate_vehicles(typed)
    try:
        routes, proved = _optimise(typed, settings or SearchSettings(), limits, candidates, seed)
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
    problem: Problem,
    settings: SearchSettings,
    limits: Budget,
    candidates: list[list[int]],
    seed: int = 0,
) -> tuple[tuple[TimedRoute, ...], bool]:
    """OR-Tools, then repair and insertion; the exact method on small one-vehicle days.

    ``candidates`` are :func:`.reasons.candidate_vehicles`; ``limits`` says when to stop.
    """
    possible = [p for p, c in enumerate(candidates) if c]
    exact = len(problem.vehicles) == 1 and len(possible) <= MAX_EXACT_JOBS
    if exact:
        # A quick local optimum is all the exact method needs to prune with.
        settings = replace(
            settings, metaheuristic="greedy_descent", solution_limit=None, operators="full"
        )
    found = (
        _search(problem, settings, limits, candidates, possible, polish=not exact, seed=seed)
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
        result = solve_exact(problem, 0, possible, start, deadline=limits.deadline)
        found = {0: list(result.jobs)}
        proved = result.proved
    routes = [time_route(problem, v, found[v]) for v in sorted(found) if found[v]]
    assert all(route is not None for route in routes)
    return tuple(r for r in routes if r is not None), proved


def _search(
    problem: Problem,
    settings: SearchSettings,
    limits: Budget,
    candidates: list[list[int]],
    possible: list[int],
    polish: bool = True,
    seed: int = 0,
) -> dict[int, list[int]]:
    """OR-Tools' routes, each made feasible by our rules, then left-out jobs inserted.

    When priorities differ, the search starts from a priority-first insertion of our own:
    OR-Tools' constructions ignore priorities until the local search, which is slow to undo
    a first choice of the wrong jobs on a full day. Ruin and recreate (:mod:`.ruin_recreate`)
    then gets most of the time left. Every phase stops on its own work limit (from
    ``limits``) or at its share of the deadline. Without ``polish`` ruin and recreate, the
    swaps and the beam re-selection are skipped.
    """
    deadline = limits.deadline
    initial = None
    if len({problem.jobs[p].priority for p in possible}) > 1:
        built = insert_left_out(problem, {}, possible, candidates, deadline)
        initial = [built.get(v, []) for v in range(len(problem.vehicles))]
    if polish:
        share = OR_TOOLS_SHARE_BEFORE_RUIN
    else:  # the exact method follows; with equal priorities there is less to choose
        share = OR_TOOLS_SHARE if initial is not None else OR_TOOLS_SHARE_BEFORE_EXACT
    found: dict[int, list[int]] = {}
    proposed = search_routes(
        problem,
        candidates,
        replace(settings, solution_limit=limits.solutions if polish else None),
        initial,
        limits.share(share),
    )
    for v, jobs in enumerate(proposed or initial or []):
        timed = make_feasible(problem, v, jobs)
        if timed is not None:
            found[v] = list(timed.jobs)
    served = {p for jobs in found.values() for p in jobs}
    found = insert_left_out(
        problem, found, [p for p in possible if p not in served], candidates, deadline
    )
    if not polish:  # the exact method follows: it needs a start, not a polished one
        return found
    found = chains(
        problem,
        found,
        candidates,
        seed=seed,
        deadline=limits.share(RUIN_SHARE),
        iterations=limits.iterations,
        others=[{}],  # the second chain starts from its own insertion of every job
    )
    found = swap_in_left_out(problem, found, candidates, deadline=deadline)
    # Without a clock, one sweep width: the wider ones cost seconds on a practice day and,
    # after ruin and recreate, rarely find anything.
    widths = WIDTHS if deadline is not None or len(problem.vehicles) == 1 else WIDTHS[:1]
    return reselect_routes(problem, found, candidates, deadline, widths=widths)


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

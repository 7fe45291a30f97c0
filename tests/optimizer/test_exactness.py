"""Exactness: the optimizer's answer on random one-therapist days equals the optimum.

Two oracles, layered: brute force (every subset, order and break placement, written in the
test helpers from the rules alone) checks the exact label method on tiny days; the exact
method, run from scratch without OR-Tools, then checks :func:`solve` on hundreds of days of up
to 12 visits. Every answer also goes through the independent checker.
"""

from __future__ import annotations

import pytest
from optimizer_checker import check_solution
from optimizer_days import brute_force, random_day

from scheduler.optimizer import MAX_EXACT_JOBS, parse_problem, solve, solve_exact, time_route

BRUTE_FORCE_SEEDS = range(150)
EXACT_SEEDS = range(300)


@pytest.mark.parametrize("seed", BRUTE_FORCE_SEEDS)
def test_exact_method_matches_brute_force(seed):
    problem = random_day(seed, jobs=1 + seed % 6, tight=seed % 2 == 0)
    typed = parse_problem(problem)
    result = solve_exact(typed, 0, range(len(typed.jobs)))
    assert result.proved
    assert result.objective == brute_force(problem)


@pytest.mark.parametrize("seed", EXACT_SEEDS)
def test_solve_is_optimal_on_a_therapist_day(seed):
    problem = random_day(1000 + seed, jobs=1 + seed % MAX_EXACT_JOBS, tight=seed % 3 == 0)
    solution = solve(problem)
    priority, served, travel = check_solution(problem, solution.to_json())
    optimum = solve_exact(parse_problem(problem), 0, range(len(problem["jobs"])))
    assert optimum.proved
    assert (priority, served, -travel) == optimum.objective
    assert solution.proved_optimal
    assert solution.to_json()["summary"]["proved_optimal"] is True


def test_exact_improves_a_poor_incumbent():
    # Hand the method a feasible but wasteful order (the optimum reversed): it must return
    # the optimum. Days where the reversed order is infeasible or as good are passed over.
    improved_days = 0
    for seed in range(60):
        problem = random_day(seed, jobs=8)
        for job in problem["jobs"]:
            job.pop("time_windows", None)  # wide open days: most orders are feasible
        typed = parse_problem(problem)
        best = solve_exact(typed, 0, range(8))
        worst_order = tuple(reversed(best.jobs))
        timed = time_route(typed, 0, worst_order)
        if timed is None or timed.travel == -best.objective[2]:
            continue
        incumbent = (worst_order, (best.objective[0], best.objective[1], -timed.travel))
        assert solve_exact(typed, 0, range(8), incumbent).objective == best.objective
        improved_days += 1
    assert improved_days >= 5


def test_label_budget_gives_up_the_proof_not_the_route():
    problem = random_day(11, jobs=12)
    for job in problem["jobs"]:
        job.pop("time_windows", None)
    typed = parse_problem(problem)
    result = solve_exact(typed, 0, range(12), incumbent=((), (0, 0, 0)), budget=10)
    assert not result.proved
    assert result.objective >= (0, 0, 0)

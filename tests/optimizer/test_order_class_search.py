"""Infection-control order on random days: exact, checked, reproducible.

The same layered oracles as test_exactness.py, on days whose visits get random classes
(``random_day(..., classes=True)``: about 30 % to protect, 30 % in isolation): brute force,
written from the rule alone in the test helpers, checks the exact label method; the exact
method run from scratch checks :func:`solve` and its proof. Then ruin and recreate (its O(1)
check against time_route, its answers) and several therapists, every answer through the
independent checker, which enforces the order itself.
"""

from __future__ import annotations

import copy

import pytest
from optimizer_checker import check_solution
from optimizer_days import brute_force, random_day
from test_recreate import (
    assert_solve_checks_and_repeats,
    checked,
    day_without_breaks,
    objective,
    start_routes,
)
from test_recreate import compare_insertions as compare_exact_insertions
from test_recreate_breaks import compare_insertions as compare_break_insertions
from test_recreate_breaks import day_with_breaks

from scheduler.optimizer import MAX_EXACT_JOBS, SearchSettings, parse_problem, solve, solve_exact
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.ruin_recreate import ruin_and_recreate

BRUTE_FORCE_SEEDS = range(150)
EXACT_SEEDS = range(300)
QUICK = SearchSettings(time_limit=5.0, solution_limit=30)


def in_class_order(problem, routes: dict[int, list[int]]) -> bool:
    return all(
        [problem.jobs[p].order_class for p in jobs]
        == sorted(problem.jobs[p].order_class for p in jobs)
        for jobs in routes.values()
    )


# ---------------------------------------------------------------------------------------------
# Exactness with the rule


@pytest.mark.parametrize("seed", BRUTE_FORCE_SEEDS)
def test_exact_method_matches_brute_force_with_classes(seed):
    problem = random_day(seed, jobs=1 + seed % 6, tight=seed % 2 == 0, classes=True)
    result = solve_exact(parse_problem(problem), 0, range(len(problem["jobs"])))
    assert result.proved
    assert result.objective == brute_force(problem)


def test_the_classes_change_the_brute_force_optimum():
    """The agreement above means something: on many of those days the rule bites."""
    changed = sum(
        brute_force(random_day(seed, jobs=1 + seed % 6, tight=seed % 2 == 0, classes=True))
        != brute_force(random_day(seed, jobs=1 + seed % 6, tight=seed % 2 == 0))
        for seed in BRUTE_FORCE_SEEDS
    )
    assert changed >= 30


@pytest.mark.parametrize("seed", EXACT_SEEDS)
def test_solve_is_optimal_on_a_therapist_day_with_classes(seed):
    problem = random_day(
        1000 + seed, jobs=1 + seed % MAX_EXACT_JOBS, tight=seed % 3 == 0, classes=True
    )
    solution = solve(problem)
    priority, served, travel = check_solution(problem, solution.to_json())
    optimum = solve_exact(parse_problem(problem), 0, range(len(problem["jobs"])))
    assert optimum.proved
    assert (priority, served, -travel) == optimum.objective
    assert solution.proved_optimal


# ---------------------------------------------------------------------------------------------
# Ruin and recreate


@pytest.mark.parametrize("seed", range(30))
def test_insertion_check_agrees_with_time_route_with_classes(seed):
    disagreements, _ = compare_exact_insertions(seed, classes=True)
    assert not disagreements


@pytest.mark.parametrize("seed", range(20))
def test_check_with_breaks_agrees_with_time_route_with_classes(seed):
    wrong, _, _ = compare_break_insertions(seed, classes=True)
    assert not wrong


def test_the_insertion_checks_see_both_answers_with_classes():
    assert sum(compare_exact_insertions(seed, classes=True)[1] for seed in range(10)) > 50
    assert sum(compare_break_insertions(seed, classes=True)[1] for seed in range(10)) > 50


@pytest.mark.parametrize("breaks", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_ruin_and_recreate_answers_are_in_order_checked_and_never_worse(seed, breaks):
    make = day_with_breaks if breaks else day_without_breaks
    raw = make(
        7100 + seed, jobs=10 + seed, vehicles=1 + seed % 3, tight=seed % 3 == 0, classes=True
    )
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=seed, iterations=150)
    checked(raw, problem, found)
    assert in_class_order(problem, found)
    assert objective(problem, found) >= objective(problem, given)


@pytest.mark.parametrize("seed", range(3))
def test_ruin_and_recreate_same_seed_same_answer_with_classes(seed):
    problem = parse_problem(day_without_breaks(7300 + seed, jobs=24, vehicles=3, classes=True))
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)

    def run() -> dict[int, list[int]]:
        return ruin_and_recreate(
            problem, copy.deepcopy(given), candidates, seed=seed, iterations=150
        )

    assert run() == run()


# ---------------------------------------------------------------------------------------------
# Several therapists, inside solve()


@pytest.mark.parametrize("seed", range(8))
def test_several_therapists_with_classes_pass_the_checker_and_repeat(seed):
    make = day_with_breaks if seed % 2 else day_without_breaks
    raw = make(
        7500 + seed, jobs=14 + seed, vehicles=2 + seed % 2, tight=seed % 3 == 0, classes=True
    )
    assert_solve_checks_and_repeats(raw, seed)


@pytest.mark.parametrize("seed", range(20))
def test_random_days_with_classes_pass_the_checker(seed):
    problem = random_day(
        7700 + seed, jobs=4 + seed % 14, vehicles=1 + seed % 3, tight=seed % 4 == 0, classes=True
    )
    answer = solve(problem, settings=QUICK).to_json()
    check_solution(problem, answer)

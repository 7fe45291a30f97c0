"""Ruin and recreate on days with breaks: the O(1) check with breaks (tables per number of
breaks taken) says exactly what time_route says, and the answers are feasible per the
independent checker, never worse, reproducible, and fill the day by priority around a lunch.
"""

from __future__ import annotations

import copy
import random

import pytest
from optimizer_days import DAY, HOUR, random_day
from test_recreate import assert_solve_checks_and_repeats, checked, objective, start_routes

from scheduler.optimizer import parse_problem, time_route
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.ruin_recreate import ruin_and_recreate
from scheduler.optimizer.slack import Tables


def day_with_breaks(
    seed: int, jobs: int, vehicles: int, tight: bool = False, classes: bool = False
) -> dict:
    """A random day where every therapist has a lunch (one or two windows), some two breaks;
    ``classes``: random infection-control classes too."""
    problem = random_day(seed, jobs=jobs, vehicles=vehicles, tight=tight, classes=classes)
    rng = random.Random(seed)
    for vehicle in problem["vehicles"]:
        begin = vehicle["time_window"][0]
        lunch = begin + rng.choice([2, 3, 4]) * HOUR
        windows = [[lunch, lunch + rng.choice([1800, HOUR])]]
        if rng.random() < 0.3:
            windows.append([lunch + 2 * HOUR, lunch + 2 * HOUR + 1800])
        breaks = [{"id": 1, "time_windows": windows, "service": rng.choice([1800, 2700])}]
        if rng.random() < 0.25:
            late = lunch + 3 * HOUR
            breaks.append({"id": 2, "time_windows": [[late, late + HOUR]], "service": 900})
        vehicle["breaks"] = breaks
    return problem


def random_route(problem, rng: random.Random, v: int, doable: list[int]) -> list[int]:
    """A feasible route by time_route, with room left: a quarter of the jobs tried in turn."""
    route: list[int] = []
    for p in rng.sample(doable, len(doable) // 4):
        for k in range(len(route) + 1):
            if time_route(problem, v, [*route[:k], p, *route[k:]]) is not None:
                route = [*route[:k], p, *route[k:]]
                break
    return route


def compare_insertions(seed: int, classes: bool = False) -> tuple[list[tuple], int, int]:
    """Every insertion into random routes: (disagreements of the O(1) check with time_route,
    insertions time_route accepts, insertions the break-free check alone would accept)."""
    raw = day_with_breaks(500 + seed, jobs=16, vehicles=3, tight=seed % 4 == 0, classes=classes)
    problem = parse_problem(raw)
    tables = Tables(problem)
    rng = random.Random(seed)
    wrong, both, relaxed_only = [], 0, 0
    for v, vehicle in enumerate(problem.vehicles):
        doable = [p for p, job in enumerate(problem.jobs) if vehicle.can_do(job)]
        route = random_route(problem, rng, v, doable)
        built = tables.build(v, route)
        assert (built is None) == (time_route(problem, v, route) is None)
        if built is None:
            continue
        for p in doable:
            if p in route:
                continue
            for k in range(len(route) + 1):
                exact = time_route(problem, v, [*route[:k], p, *route[k:]]) is not None
                d, before, after = tables.durations, built.places[k], built.places[k + 1]
                extra = d[before][tables.place[p]] + d[tables.place[p]][after] - d[before][after]
                statically = (
                    tables.room_for(built, p) and built.travel + extra <= tables.max_travel[v]
                )
                fast = statically and tables.insertion_fits(built, p, k)
                if fast != exact:
                    wrong.append((v, p, k, fast, exact))
                both += exact
                tables.timed[v] = False  # the same check as if there were no breaks
                relaxed_only += statically and tables.insertion_fits(built, p, k) and not exact
                tables.timed[v] = True
                if fast:
                    assert tables.with_job(built, p, k).jobs == [*route[:k], p, *route[k:]]
    return wrong, both, relaxed_only


@pytest.mark.parametrize("seed", range(30))
def test_the_check_with_breaks_agrees_with_time_route(seed):
    wrong, _, _ = compare_insertions(seed)
    assert not wrong


def test_the_breaks_matter_to_the_check():
    """Many insertions fit, and some would fit but for the breaks: the agreement above tests
    the break tables, not only the break-free ones."""
    counts = [compare_insertions(seed)[1:] for seed in range(12)]
    assert sum(both for both, _ in counts) > 100
    assert sum(relaxed_only for _, relaxed_only in counts) > 10


@pytest.mark.parametrize("seed", range(10))
def test_removing_jobs_is_verified(seed):
    raw = day_with_breaks(600 + seed, jobs=18, vehicles=2)
    problem = parse_problem(raw)
    tables = Tables(problem)
    rng = random.Random(seed)
    for v, vehicle in enumerate(problem.vehicles):
        doable = [p for p, job in enumerate(problem.jobs) if vehicle.can_do(job)]
        route = random_route(problem, rng, v, doable)
        built = tables.build(v, route)
        if built is None:
            continue
        for removed in route:
            shorter = [p for p in route if p != removed]
            expected = time_route(problem, v, shorter) is not None
            assert (tables.without(built, {removed}) is not None) == expected


# ---------------------------------------------------------------------------------------------
# The search


@pytest.mark.parametrize("seed", range(20))
def test_answers_are_feasible_and_never_worse(seed):
    raw = day_with_breaks(
        1900 + seed, jobs=8 + seed % 20, vehicles=1 + seed % 3, tight=seed % 3 == 0
    )
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    before = objective(problem, given)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=seed, iterations=150)
    checked(raw, problem, found)
    assert objective(problem, found) >= before
    for v, jobs in found.items():
        assert all(v in candidates[p] for p in jobs), "a job on a vehicle that cannot do it"


@pytest.mark.parametrize("seed", range(12))
def test_days_mixing_vehicles_with_and_without_breaks(seed):
    """Exact positions (no breaks) and verified ones (breaks) compete for the same visits."""
    raw = random_day(2700 + seed, jobs=14 + seed, vehicles=3, tight=seed % 3 == 0)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=seed, iterations=150)
    checked(raw, problem, found)
    assert objective(problem, found) >= objective(problem, given)


def test_it_improves_a_poor_start():
    raw = day_with_breaks(4243, jobs=30, vehicles=3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates, share=3)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=1, iterations=300)
    assert objective(problem, found) > objective(problem, given)


@pytest.mark.parametrize("seed", range(6))
def test_same_seed_and_iterations_same_answer(seed):
    problem = parse_problem(day_with_breaks(330 + seed, jobs=25, vehicles=3))
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)

    def run() -> dict[int, list[int]]:
        return ruin_and_recreate(
            problem, copy.deepcopy(given), candidates, seed=seed, iterations=120
        )

    assert run() == run()


def lunch_problem(shift_end: int, extra_priority: int) -> dict:
    """One therapist from 8:00, a 30 min lunch starting 9:00-11:00, two one-hour visits."""
    return {
        "vehicles": [
            {
                "id": 1,
                "start_index": 0,
                "end_index": 0,
                "time_window": [DAY + 8 * HOUR, DAY + shift_end],
                "breaks": [
                    {"id": 1, "service": 1800, "time_windows": [[DAY + 9 * HOUR, DAY + 11 * HOUR]]}
                ],
            }
        ],
        "jobs": [
            {"id": 1, "location_index": 1, "service": HOUR, "setup": 300, "priority": 0},
            {"id": 2, "location_index": 2, "service": HOUR, "priority": extra_priority},
        ],
        "matrices": {"car": {"durations": [[0, 600, 600], [600, 0, 600], [600, 600, 0]]}},
    }


def test_a_left_out_high_priority_visit_gets_in_around_the_lunch():
    # 8:00-11:30 holds both visits and the lunch: 10 min, 5 + 60, 30 lunch, 10, 60, 10 min.
    raw = lunch_problem(shift_end=11 * HOUR + 1800, extra_priority=90)
    problem = parse_problem(raw)
    found = ruin_and_recreate(problem, {0: [0]}, candidate_vehicles(problem), iterations=5)
    assert sorted(found[0]) == [0, 1]
    checked(raw, problem, found)


def test_without_room_for_the_lunch_the_higher_priority_visit_takes_the_slot():
    # Without the lunch both visits would fit in 8:00-10:50 (2 h 35 min); with it, one does.
    raw = lunch_problem(shift_end=10 * HOUR + 3000, extra_priority=90)
    problem = parse_problem(raw)
    assert time_route(problem, 0, [0, 1]) is None and time_route(problem, 0, [1, 0]) is None
    found = ruin_and_recreate(problem, {0: [0]}, candidate_vehicles(problem), iterations=20)
    assert found == {0: [1]}
    checked(raw, problem, found)


# ---------------------------------------------------------------------------------------------
# Inside solve()


@pytest.mark.parametrize("seed", range(6))
def test_solve_with_breaks_passes_the_checker_and_repeats(seed):
    raw = day_with_breaks(2300 + seed, jobs=14 + seed, vehicles=2 + seed % 2, tight=seed % 2)
    assert_solve_checks_and_repeats(raw, seed)

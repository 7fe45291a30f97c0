"""Ruin and recreate: its O(1) insertion check agrees with time_route, and its answers are
feasible (per the independent checker), never worse, reproducible, and fill the day by priority.
"""

from __future__ import annotations

import copy
import random

import pytest
from optimizer_checker import check_solution
from optimizer_days import random_day

from scheduler.optimizer import (
    Reason,
    SearchSettings,
    Solution,
    parse_problem,
    solve,
    time_route,
)
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.repair import insert_left_out
from scheduler.optimizer.ruin_recreate import RuinSettings, _Search, ruin_and_recreate
from scheduler.optimizer.slack import Tables
from scheduler.optimizer.solution import Unassigned


def day_without_breaks(
    seed: int, jobs: int, vehicles: int, tight: bool = False, classes: bool = False
) -> dict:
    """A random day (setups, several windows, skills, limits) with no breaks; some open ends;
    ``classes``: random infection-control classes too."""
    problem = random_day(seed, jobs=jobs, vehicles=vehicles, tight=tight, classes=classes)
    rng = random.Random(seed)
    for vehicle in problem["vehicles"]:
        vehicle.pop("breaks", None)
        if rng.random() < 0.2:
            vehicle.pop(rng.choice(["start_index", "end_index"]))
    return problem


def objective(problem, routes: dict[int, list[int]]) -> tuple[int, int, int]:
    priority = served = travel = 0
    for v, jobs in routes.items():
        if jobs:
            timed = time_route(problem, v, jobs)
            assert timed is not None, f"vehicle {v}: route breaks a rule"
            priority += sum(problem.jobs[p].priority for p in jobs)
            served += len(jobs)
            travel += timed.travel
    return priority, served, -travel


def checked(raw: dict, problem, routes: dict[int, list[int]]) -> None:
    """Run the independent checker on ``routes`` laid out as a solution."""
    timed = tuple(time_route(problem, v, jobs) for v, jobs in sorted(routes.items()) if jobs)
    assert all(t is not None for t in timed)
    served = {p for jobs in routes.values() for p in jobs}
    assert len(served) == sum(len(jobs) for jobs in routes.values()), "a job served twice"
    out = Reason("full", "left out", "no_room")  # the checker only asks for some reason
    left = tuple(Unassigned(p, out) for p in range(len(problem.jobs)) if p not in served)
    check_solution(raw, Solution(problem=problem, routes=timed, unassigned=left).to_json())


# ---------------------------------------------------------------------------------------------
# The fast check is the rules of schedule.py


def compare_insertions(seed: int, classes: bool = False) -> tuple[list[tuple], int]:
    """Each insertion into random routes, fast check vs time_route: (disagreements, fits)."""
    problem = parse_problem(
        day_without_breaks(700 + seed, jobs=16, vehicles=3, tight=seed % 4 == 0, classes=classes)
    )
    tables = Tables(problem)
    rng = random.Random(seed)
    disagreements = []
    fitting = 0
    for v, vehicle in enumerate(problem.vehicles):
        doable = [p for p, job in enumerate(problem.jobs) if vehicle.can_do(job)]
        route: list[int] = []
        for p in rng.sample(doable, len(doable) // 4):  # a random feasible route, with room left
            for k in range(len(route) + 1):
                if time_route(problem, v, [*route[:k], p, *route[k:]]) is not None:
                    route = [*route[:k], p, *route[k:]]
                    break
        built = tables.build(v, route)
        timed = time_route(problem, v, route)
        assert (built is None) == (timed is None)
        if built is None:
            continue
        assert built.travel == timed.travel
        for p in doable:
            if p in route:
                continue
            for k in range(len(route) + 1):
                trial = [*route[:k], p, *route[k:]]
                before, after, here = built.places[k], built.places[k + 1], tables.place[p]
                d = tables.durations
                extra = d[before][here] + d[here][after] - d[before][after]
                fast = (
                    tables.room_for(built, p)
                    and built.travel + extra <= tables.max_travel[v]
                    and tables.insertion_fits(built, p, k)
                )
                exact = time_route(problem, v, trial) is not None
                fitting += exact
                if fast != exact:
                    disagreements.append((v, p, k, fast, exact))
                if fast:  # the updated tables are the rebuilt ones
                    updated, rebuilt = tables.with_job(built, p, k), tables.build(v, trial)
                    assert rebuilt is not None
                    for name in ("jobs", "places", "departs", "latest", "load", "travel"):
                        assert getattr(updated, name) == getattr(rebuilt, name), name
                    assert updated.class_starts == rebuilt.class_starts
    return disagreements, fitting


@pytest.mark.parametrize("seed", range(40))
def test_insertion_check_agrees_with_time_route(seed):
    disagreements, _ = compare_insertions(seed)
    assert not disagreements


def test_insertion_check_sees_both_answers():
    """The agreement above means something: many insertions fit."""
    assert sum(compare_insertions(seed)[1] for seed in range(10)) > 100


# ---------------------------------------------------------------------------------------------
# The search


def start_routes(problem, candidates, share: int = 2) -> dict[int, list[int]]:
    """A weak start: every ``share``-th possible job inserted cheapest-first."""
    possible = [p for p, c in enumerate(candidates) if c]
    return insert_left_out(problem, {}, possible[::share], candidates)


@pytest.mark.parametrize("seed", range(24))
def test_answers_are_feasible_and_never_worse(seed):
    raw = day_without_breaks(
        900 + seed, jobs=8 + seed % 20, vehicles=1 + seed % 3, tight=seed % 3 == 0
    )
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    before = objective(problem, given)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=seed, iterations=200)
    checked(raw, problem, found)
    assert objective(problem, found) >= before
    for v, jobs in found.items():
        assert all(v in candidates[p] for p in jobs), "a job on a vehicle that cannot do it"


def test_route_removal_empties_one_whole_route():
    raw = day_without_breaks(4243, jobs=30, vehicles=3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    assert sum(1 for jobs in given.values() if jobs) >= 2
    search = _Search(problem, candidates, RuinSettings(route_rate=1.0), random.Random(3))
    state = search.load(given)
    assert state is not None
    routes = state.routes[:]
    removed = search._ruin(routes)
    assert removed is not None
    emptied = [v for v, jobs in given.items() if jobs and sorted(jobs) == sorted(removed)]
    assert len(emptied) == 1, "the removed jobs are exactly one route's"
    assert routes[emptied[0]] is not None and routes[emptied[0]].jobs == []
    assert all(r.jobs == given.get(r.vehicle, []) for r in routes if r and r.vehicle != emptied[0])


@pytest.mark.parametrize("seed", range(8))
def test_answers_with_only_route_removals_are_feasible_and_never_worse(seed):
    raw = day_without_breaks(1900 + seed, jobs=10 + seed * 3, vehicles=2 + seed % 3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    found = ruin_and_recreate(
        problem,
        copy.deepcopy(given),
        candidates,
        seed=seed,
        iterations=100,
        settings=RuinSettings(route_rate=1.0),
    )
    checked(raw, problem, found)
    assert objective(problem, found) >= objective(problem, given)


def test_it_improves_a_poor_start():
    raw = day_without_breaks(4242, jobs=30, vehicles=3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates, share=3)
    found = ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=1, iterations=300)
    assert objective(problem, found) > objective(problem, given)


@pytest.mark.parametrize("seed", range(4))
def test_same_seed_and_iterations_same_answer(seed):
    problem = parse_problem(day_without_breaks(300 + seed, jobs=25, vehicles=3))
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)

    def run(s: int) -> dict[int, list[int]]:
        return ruin_and_recreate(problem, copy.deepcopy(given), candidates, seed=s, iterations=150)

    assert run(seed) == run(seed)


def one_slot_problem(extra_jobs: list[dict]) -> dict:
    """One vehicle with room for one 3000 s visit at place 1."""
    return {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 4000]}],
        "jobs": [{"id": 1, "location_index": 1, "service": 3000, "priority": 0}, *extra_jobs],
        "matrices": {"car": {"durations": [[0, 100], [100, 0]]}},
    }


def test_a_left_out_higher_priority_job_takes_the_slot():
    raw = one_slot_problem([{"id": 2, "location_index": 1, "service": 3000, "priority": 90}])
    problem = parse_problem(raw)
    found = ruin_and_recreate(problem, {0: [0]}, candidate_vehicles(problem), iterations=20)
    assert found == {0: [1]}


def test_a_left_out_job_that_fits_gets_in():
    raw = one_slot_problem([{"id": 2, "location_index": 1, "service": 500, "priority": 0}])
    problem = parse_problem(raw)
    found = ruin_and_recreate(problem, {0: [0]}, candidate_vehicles(problem), iterations=1)
    assert sorted(found[0]) == [0, 1]


def test_setup_is_paid_once_per_place():
    # Two visits in one building: with setup paid twice they would not fit in the shift.
    raw = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 2000]}],
        "jobs": [{"id": k, "location_index": 1, "setup": 600, "service": 300} for k in (1, 2)],
        "matrices": {"car": {"durations": [[0, 100], [100, 0]]}},
    }
    problem = parse_problem(raw)
    found = ruin_and_recreate(problem, {0: [0]}, candidate_vehicles(problem), iterations=5)
    assert sorted(found[0]) == [0, 1]
    checked(raw, problem, found)


# ---------------------------------------------------------------------------------------------
# Inside solve()

QUICK = SearchSettings(time_limit=30.0, solution_limit=20)


def assert_solve_checks_and_repeats(raw: dict, seed: int) -> None:
    """solve() passes the independent checker and gives the same answer twice."""
    first = solve(copy.deepcopy(raw), settings=QUICK, seed=seed).to_json()
    check_solution(raw, first)
    again = solve(copy.deepcopy(raw), settings=QUICK, seed=seed).to_json()
    for answer in (first, again):
        answer["summary"].pop("computing_times")
    assert first == again


@pytest.mark.parametrize("seed", range(8))
def test_solve_without_breaks_passes_the_checker_and_repeats(seed):
    raw = day_without_breaks(1300 + seed, jobs=14 + seed, vehicles=2 + seed % 2, tight=seed % 2)
    assert_solve_checks_and_repeats(raw, seed)

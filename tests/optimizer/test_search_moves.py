"""The moves after OR-Tools: insertion, swaps and beam re-selection never make things worse."""

from __future__ import annotations

import time

import pytest
from optimizer_days import random_day

from scheduler.optimizer import parse_problem, time_route
from scheduler.optimizer.beam import best_route, reselect_routes
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.repair import insert_left_out, swap_in_left_out


def value(problem, routes):
    total = [0, 0, 0]
    for v, jobs in routes.items():
        if not jobs:
            continue
        timed = time_route(problem, v, jobs)
        assert timed is not None, f"vehicle {v} route infeasible"
        total[0] += sum(problem.jobs[p].priority for p in jobs)
        total[1] += len(jobs)
        total[2] -= timed.travel
    return tuple(total)


def test_swap_trades_a_low_priority_visit_for_a_high_one():
    # One slot in the day: job 1 (priority 0) holds it, job 2 (priority 90) is left out.
    problem = parse_problem(
        {
            "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 4000]}],
            "jobs": [
                {"id": 1, "location_index": 1, "service": 3000, "priority": 0},
                {"id": 2, "location_index": 1, "service": 3000, "priority": 90},
            ],
            "matrices": {"car": {"durations": [[0, 100], [100, 0]]}},
        }
    )
    routes = swap_in_left_out(problem, {0: [0]}, candidate_vehicles(problem))
    assert routes == {0: [1]}


@pytest.mark.parametrize("seed", range(8))
def test_moves_keep_routes_feasible_and_never_worse(seed):
    problem = parse_problem(random_day(9000 + seed, jobs=24, vehicles=2, tight=seed % 2 == 0))
    candidates = candidate_vehicles(problem)
    possible = [p for p, c in enumerate(candidates) if c]
    routes = insert_left_out(problem, {}, possible[::2], candidates)
    before = value(problem, routes)
    routes = insert_left_out(problem, routes, possible[1::2], candidates)
    after_insert = value(problem, routes)
    routes = swap_in_left_out(problem, routes, candidates)
    after_swap = value(problem, routes)
    routes = reselect_routes(problem, routes, candidates, time.perf_counter() + 2)
    after_beam = value(problem, routes)
    assert before <= after_insert <= after_swap <= after_beam
    served = [p for jobs in routes.values() for p in jobs]
    assert len(served) == len(set(served))


@pytest.mark.parametrize("seed", range(20))
def test_beam_route_is_feasible_and_valued_right(seed):
    problem = parse_problem(random_day(9500 + seed, jobs=10))
    route, claimed = best_route(problem, 0, range(10), width=8)
    if not route:
        assert claimed == (0, 0, 0)
        return
    timed = time_route(problem, 0, route)
    assert timed is not None
    assert claimed == (sum(problem.jobs[p].priority for p in route), len(route), -timed.travel)

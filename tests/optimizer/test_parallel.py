"""Chains side by side: the same answer forked or in turn, and a late child never holds the
call up."""

from __future__ import annotations

import copy
import time

import pytest
from test_recreate import checked, day_without_breaks, objective, start_routes
from test_recreate_breaks import day_with_breaks

from scheduler.optimizer import parallel, parse_problem
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.ruin_recreate import chains


@pytest.mark.parametrize("seed", range(4))
def test_forked_or_in_turn_the_chains_give_the_same_answer(seed, monkeypatch):
    maker = day_with_breaks if seed % 2 else day_without_breaks
    raw = maker(4100 + seed, jobs=20 + seed, vehicles=3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    forked = chains(problem, copy.deepcopy(given), candidates, seed=seed, iterations=120)
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    in_turn = chains(problem, copy.deepcopy(given), candidates, seed=seed, iterations=120)
    assert forked == in_turn
    checked(raw, problem, forked)
    assert objective(problem, forked) >= objective(problem, given)


def test_a_child_past_the_deadline_is_ended_and_left_out(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: True)

    def quick(_deadline):
        return {0: [1]}

    def stuck(_deadline):
        time.sleep(60)
        return {0: [2]}

    answers = parallel.side_by_side([quick, stuck], time.perf_counter())
    assert answers == [{0: [1]}, None]


def test_a_failing_child_is_left_out(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: True)

    def failing(_deadline):
        raise RuntimeError("boom")

    answers = parallel.side_by_side([lambda _d: {0: [1]}, failing], None)
    assert answers == [{0: [1]}, None]


def test_a_later_round_goes_on_from_the_best_answer(monkeypatch):
    """Round 2: chain 0 starts from the best answer of round 1, chain 1 from its own; the
    seeds are new and the cooling goes on where round 1 stopped. Chain 1 runs hotter in
    both rounds (the portfolio of coolings)."""
    from scheduler.optimizer import ruin_recreate

    raw = day_without_breaks(4200, jobs=18, vehicles=3)
    problem = parse_problem(raw)
    candidates = candidate_vehicles(problem)
    given = start_routes(problem, candidates)
    calls, heat = [], []
    real = ruin_recreate.ruin_and_recreate

    def recorded(problem, routes, candidates, **kwargs):
        answer = real(problem, routes, candidates, **kwargs)
        settings = kwargs["settings"]
        calls.append((copy.deepcopy(routes), kwargs["seed"], kwargs["cooling"], answer))
        heat.append((settings.start_temperature, settings.end_temperature))
        return answer

    monkeypatch.setattr(parallel, "can_fork", lambda: False)  # the calls in this process
    monkeypatch.setattr(ruin_recreate, "ruin_and_recreate", recorded)
    answer = chains(
        problem, copy.deepcopy(given), candidates, seed=3, iterations=80, others=[{}]
    )
    assert [(seed, cooling) for _, seed, cooling, _ in calls] == [
        (3_000_009, (0.0, 0.5)),
        (3_000_010, (0.0, 0.5)),
        (3_000_011, (0.5, 1.0)),
        (3_000_012, (0.5, 1.0)),
    ]
    assert heat == [(1.0, 0.01), (3.0, 0.03), (1.0, 0.01), (3.0, 0.03)]
    (start_0, *_, first_0), (start_1, *_, first_1) = calls[0], calls[1]
    assert start_0 == given and start_1 == {}
    better = max((first_0, first_1), key=lambda routes: objective(problem, routes))
    assert calls[2][0] == better and calls[3][0] == first_1
    assert answer == max((c[3] for c in calls), key=lambda routes: objective(problem, routes))
    checked(raw, problem, answer)

"""What stops the search: work limits decide the answer, the clock only caps it.

No test here measures speed. A run bounded by work must give the same answer whatever the
clock says (a clock that jumps stands for a busy machine); a run whose deadline has passed
must still return a valid answer, without claiming a proof it did not finish.
"""

from __future__ import annotations

import copy
import random
import time

import pytest
from optimizer_checker import check_solution
from optimizer_days import random_day
from test_recreate_breaks import day_with_breaks

from scheduler.optimizer import SearchSettings, parse_problem, solve, solve_exact
from scheduler.optimizer.solve import Budget, budget

REAL_CLOCK = time.perf_counter


def jumpy_clock(seed: int):
    """A perf_counter that jumps ahead by up to 50 ms at each look: a machine under load."""
    rng = random.Random(seed)
    late = 0.0

    def clock() -> float:
        nonlocal late
        late += rng.random() * 0.05
        return REAL_CLOCK() + late

    return clock


def test_a_call_without_limits_gets_work_limits_and_no_clock():
    problem = parse_problem(random_day(1, jobs=20, vehicles=3))
    limits = budget(problem, None, None, started=0.0)
    assert limits.deadline is None and limits.solutions and limits.iterations


def test_a_time_limit_alone_is_a_clock_without_work_limits():
    problem = parse_problem(random_day(1, jobs=20, vehicles=3))
    limits = budget(problem, 10.0, None, started=100.0)
    assert limits.solutions is None and limits.iterations is None
    assert limits.deadline is not None and 109.9 < limits.deadline < 110.0


def test_settings_give_work_limits_under_a_cap():
    problem = parse_problem(random_day(1, jobs=20, vehicles=3))
    limits = budget(problem, None, SearchSettings(time_limit=30, solution_limit=20), 0.0)
    assert limits == Budget(limits.deadline, 20, limits.iterations)
    assert limits.deadline is not None and limits.iterations == 200


@pytest.mark.parametrize("bad", [0, -1.0])
def test_a_time_limit_must_be_positive(bad):
    with pytest.raises(ValueError):
        solve(random_day(1, jobs=3), time_limit=bad)


@pytest.mark.parametrize("seed", range(4))
def test_a_jumpy_clock_does_not_change_a_work_limited_answer(seed, monkeypatch):
    raw = day_with_breaks(2300 + seed, jobs=14 + seed, vehicles=2 + seed % 2, tight=seed % 2)
    settings = SearchSettings(solution_limit=20)
    calm = solve(copy.deepcopy(raw), settings=settings, seed=seed).to_json()
    monkeypatch.setattr(time, "perf_counter", jumpy_clock(seed))
    busy = solve(copy.deepcopy(raw), settings=settings, seed=seed).to_json()
    monkeypatch.undo()
    for answer in (calm, busy):
        answer["summary"].pop("computing_times")
    assert calm == busy


def test_the_exact_method_past_its_deadline_keeps_the_route_not_the_proof():
    raw = random_day(11, jobs=12)
    for job in raw["jobs"]:
        job.pop("time_windows", None)
    problem = parse_problem(raw)
    result = solve_exact(problem, 0, range(12), deadline=time.perf_counter() - 1)
    assert not result.proved
    finished = solve_exact(problem, 0, range(12))
    assert finished.proved and finished.objective >= result.objective


@pytest.mark.parametrize("seed", range(6))
def test_a_deadline_already_passed_still_gives_a_checked_answer(seed, monkeypatch):
    """Every phase gives up at its first look at the clock; the answer is still valid."""
    raw = random_day(300 + seed, jobs=6 + seed * 3, vehicles=1 + seed % 3)
    state = {"calls": 0}

    def late_clock() -> float:  # the call starts on time, then the clock is an hour late
        state["calls"] += 1
        return REAL_CLOCK() + (3600.0 if state["calls"] > 1 else 0.0)

    monkeypatch.setattr(time, "perf_counter", late_clock)
    solution = solve(copy.deepcopy(raw), time_limit=1.0, seed=seed)
    monkeypatch.undo()
    check_solution(raw, solution.to_json())

"""The compiled insertion loop (scheduler/optimizer/_insertion.c) computes what the Python
definitions in slack.py compute, draws the same random numbers, and so leaves a whole ruin and
recreate search unchanged.

Each compiled function is set beside its Python definition on random days (several windows,
setups, capacities, travel limits, open starts and ends, breaks on some vehicles, order
classes) and random routes, feasible and not.
"""

from __future__ import annotations

import math
import random

import pytest
from optimizer_days import random_day

from scheduler.optimizer import parse_problem
from scheduler.optimizer import slack as slack_module
from scheduler.optimizer.reasons import candidate_vehicles
from scheduler.optimizer.ruin_recreate import ruin_and_recreate
from scheduler.optimizer.slack import Route, Tables

FIELDS = ("vehicle", "jobs", "places", "departs", "latest", "load", "travel", "legs",
          "class_starts")  # fmt: skip


def test_the_compiled_loop_is_built():
    """`scripts/bootstrap` builds it (setup.py); without it the tests below would compare the
    Python loop with itself, so its absence is a failure here, not a skip."""
    assert slack_module.kernel_available(), (
        "scheduler/optimizer/_insertion.c is not built: scripts/bootstrap builds it with the C"
        " compiler and Python's headers (see .venv/install.log)"
    )


def day(seed: int, *, breaks: bool, classes: bool = False):
    raw = random_day(seed, jobs=18, vehicles=4, tight=seed % 3 == 0, classes=classes)
    rng = random.Random(seed)
    for vehicle in raw["vehicles"]:
        if not breaks or rng.random() < 0.5:
            vehicle.pop("breaks", None)
        if rng.random() < 0.2:
            vehicle.pop(rng.choice(["start_index", "end_index"]))
    return parse_problem(raw)


def random_routes(problem, tables: Tables, rng: random.Random) -> list[Route | None]:
    """One route per vehicle, built by cheapest feasible insertion of a random share of jobs
    (some vehicles left empty)."""
    routes: list[Route | None] = []
    for v, vehicle in enumerate(problem.vehicles):
        route = tables.build(v, [])
        doable = [p for p, job in enumerate(problem.jobs) if vehicle.can_do(job)]
        for p in rng.sample(doable, len(doable) // 3 if rng.random() < 0.8 else 0):
            if route is None:
                break
            for k in range(len(route.jobs) + 1):
                trial = tables.build(v, [*route.jobs[:k], p, *route.jobs[k:]])
                if trial is not None:
                    route = trial
                    break
        routes.append(route)
    return routes


def same_route(a: Route, b: Route) -> None:
    for name in FIELDS:
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("seed", range(30))
def test_cheapest_and_best_are_the_python_ones(seed):
    problem = day(seed, breaks=True, classes=seed % 2 == 1)
    tables = Tables(problem)
    assert tables.kernel is not None
    rng = random.Random(seed)
    routes = random_routes(problem, tables, rng)
    blink = (0.0, 0.3, 0.0, 0.9)[seed % 4]  # 0.9: nearly every position skipped
    compared = found = 0
    for p in range(len(problem.jobs)):
        drawn = rng.random()
        for v, route in enumerate(routes):
            if route is None or tables.timed[v]:
                continue
            best = math.inf if drawn < 0.5 else rng.randrange(-50, 3000)
            budget = tables.max_travel[v] - route.travel
            ours, theirs = random.Random(p), random.Random(p)
            compiled = tables.kernel.cheapest(route, p, best, budget, ours.random, blink)
            python = tables.python_cheapest(route, p, best, budget, theirs.random, blink)
            assert compiled == python
            assert ours.getstate() == theirs.getstate(), "not the same draws"
            compared += 1
            found += compiled is not None
        vehicles = [v for v in range(len(routes)) if rng.random() < 0.8]
        ours, theirs = random.Random(seed * 100 + p), random.Random(seed * 100 + p)
        compiled = tables.kernel.best(
            routes, vehicles, p, ours.random, blink, tables.python_cheapest
        )
        assert compiled == tables.python_best(routes, vehicles, p, theirs.random, blink)
        assert ours.getstate() == theirs.getstate(), "not the same draws"
    assert compared >= 10 and (found > 0 or blink > 0.5)


@pytest.mark.parametrize("seed", range(30))
def test_with_job_and_relaxed_are_the_python_ones(seed):
    problem = day(seed, breaks=False)
    tables = Tables(problem)
    assert tables.kernel is not None and tables.one_class is not None
    rng = random.Random(seed)
    routes = random_routes(problem, tables, rng)
    updated = 0
    for route in routes:
        if route is None:
            continue
        for p in range(len(problem.jobs)):
            if p in route.jobs or not tables.room_for(route, p):
                continue
            for k in range(len(route.jobs) + 1):
                if not tables.insertion_fits(route, p, k):
                    continue
                same_route(tables.with_job(route, p, k), tables.python_with_job(route, p, k))
                updated += 1
    assert updated > 5
    for _ in range(200):  # any order of any jobs: feasible or not, the same answer
        v = rng.randrange(len(problem.vehicles))
        jobs = rng.sample(range(len(problem.jobs)), rng.randrange(0, 8))
        compiled, python = tables._relaxed(v, jobs), tables.python_relaxed(v, list(jobs))
        assert (compiled is None) == (python is None)
        if compiled is not None and python is not None:
            same_route(compiled, python)


@pytest.mark.parametrize("seed", range(6))
def test_a_search_gives_the_same_answer_without_it(seed, monkeypatch):
    problem = day(500 + seed, breaks=seed % 2 == 1)
    candidates = candidate_vehicles(problem)
    compiled = ruin_and_recreate(problem, {}, candidates, seed=seed, iterations=300)
    monkeypatch.setattr(slack_module, "kernel_available", lambda: False)
    python = ruin_and_recreate(problem, {}, candidates, seed=seed, iterations=300)
    assert compiled == python
    assert sum(len(jobs) for jobs in compiled.values()) > 0


def test_bad_arguments_raise_instead_of_crashing():
    problem = day(1, breaks=False)
    tables = Tables(problem)
    assert tables.kernel is not None
    route = tables.build(0, [])
    assert route is not None
    with pytest.raises(IndexError):
        tables.kernel.cheapest(route, len(problem.jobs), math.inf, 0, random.random, 0.0)
    with pytest.raises(AttributeError):
        tables.kernel.cheapest(object(), 0, math.inf, 0, random.random, 0.0)
    with pytest.raises(IndexError):
        tables.kernel.relaxed(len(problem.vehicles), [0])
    with pytest.raises(IndexError):
        tables.kernel.relaxed(0, [len(problem.jobs)])
    with pytest.raises(IndexError):
        tables.kernel.with_job(route, 0, 5)
    route.places = route.places[:-1]  # tables that do not match the jobs
    with pytest.raises(ValueError):
        tables.kernel.cheapest(route, 0, math.inf, 0, random.random, 0.0)

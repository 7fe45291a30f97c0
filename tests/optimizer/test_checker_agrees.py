"""The independent checker re-derives every route of random multi-therapist days.

Also: the checker itself catches broken solutions (so its agreement means something), and
the same input gives the same output.
"""

from __future__ import annotations

import copy
import json

import pytest
from optimizer_checker import CheckFailed, check_solution
from optimizer_days import random_day

from scheduler.optimizer import SearchSettings, solve

QUICK = SearchSettings(time_limit=5.0, solution_limit=30)
SEEDS = range(120)


@pytest.mark.parametrize("seed", SEEDS)
def test_checker_agrees_on_random_days(seed):
    problem = random_day(
        5000 + seed, jobs=4 + seed % 14, vehicles=1 + seed % 3, tight=seed % 4 == 0
    )
    answer = solve(problem, settings=QUICK).to_json()
    check_solution(problem, answer)
    served = {s["id"] for r in answer["routes"] for s in r["steps"] if s["type"] == "job"}
    assert served | {u["id"] for u in answer["unassigned"]} == {j["id"] for j in problem["jobs"]}


@pytest.fixture(scope="module")
def solved():
    problem = random_day(77, jobs=10, vehicles=2)
    return problem, solve(problem, settings=QUICK).to_json()


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda a: a["routes"][0]["steps"][1].update(arrival=1), "arrival"),
        (lambda a: a["routes"][0]["steps"][1].update(waiting_time=-1), "negative"),
        (lambda a: a["routes"][0].update(cost=a["routes"][0]["cost"] + 1), "cost"),
        (lambda a: a["summary"].update(duration=0), "summary duration"),
        (
            lambda a: a["unassigned"].append(
                {"id": a["routes"][0]["steps"][1]["id"], "reason": "x"}
            ),
            "both served and unassigned",
        ),
        (lambda a: a["routes"][0]["steps"].pop(1), "arrival|drive|neither served"),
    ],
)
def test_checker_catches_broken_solutions(solved, damage, words):
    problem, answer = solved
    broken = copy.deepcopy(answer)
    damage(broken)
    with pytest.raises(CheckFailed, match=words):
        check_solution(problem, broken)


def test_checker_catches_a_missed_window(solved):
    problem, answer = solved
    first = answer["routes"][0]["steps"][1]
    changed = copy.deepcopy(problem)
    job = next(j for j in changed["jobs"] if j["id"] == first["id"])
    start = first["arrival"] + first["waiting_time"]
    job["time_windows"] = [[start + 1, start + 100]]
    with pytest.raises(CheckFailed, match="outside its windows"):
        check_solution(changed, answer)


@pytest.mark.parametrize(("jobs", "vehicles"), [(9, 1), (12, 2), (25, 3)])
def test_same_input_same_output(jobs, vehicles):
    problem = random_day(31, jobs=jobs, vehicles=vehicles)

    # A generous cap, so the run stops on its work limits (solution count, beam widths).
    settings = SearchSettings(time_limit=60.0, solution_limit=30)

    def run() -> str:
        answer = solve(copy.deepcopy(problem), settings=settings, seed=5).to_json()
        answer["summary"].pop("computing_times")
        return json.dumps(answer, sort_keys=True)

    assert run() == run()

"""Infection-control order (issue 11): a job's ``order_class`` never decreases along a route.

Class 0 must come first (a neutropenic client to protect), 1 is the default middle, 2 must
come last (an isolation room): the therapist's hands, bag and linens go from clean to
contaminated, never back. Small days worked out by hand in the comments (same map as
test_rules.py: 0 home, 1 and 2 two rooms of one hospital, 3 a clinic), then the parts of the
solver one by one: the timing rules, OR-Tools' proposals, the beam, the reasons, and the
independent checker. The random days with classes are in test_order_class_search.py.
"""

from __future__ import annotations

import copy
import json

import pytest
from optimizer_checker import CheckFailed, check_solution
from optimizer_days import random_day
from test_rules import T0, day, steps_of

from scheduler.optimizer import Reason, SearchSettings, parse_problem, solve, time_route
from scheduler.optimizer.beam import best_route
from scheduler.optimizer.reasons import (
    Unordered,
    candidate_vehicles,
    why_left_out,
    without_classes,
)
from scheduler.optimizer.routing import search_routes
from scheduler.optimizer.schedule import class_slots

HOUR = 3600
PROTECT, MIDDLE, ISOLATION = 0, 1, 2
WORK_LIMITED = SearchSettings(time_limit=60.0, solution_limit=20)
"""A cap far above the work limits, so the runs stop on work, not on the clock."""


def served_ids(answer: dict) -> list[int]:
    return [s["id"] for s in steps_of(answer, "job")]


def classes_along(problem, jobs) -> list[int]:
    return [problem.jobs[p].order_class for p in jobs]


# ---------------------------------------------------------------------------------------------
# Hand-worked days


def open_day(with_classes: bool) -> dict:
    """Home 0, no way back: an isolation room at 1 and a protect client at the clinic 3."""
    jobs = [{"id": 1, "location_index": 1}, {"id": 2, "location_index": 3}]
    if with_classes:
        jobs[0]["order_class"], jobs[1]["order_class"] = ISOLATION, PROTECT
    problem = day(jobs)
    problem["vehicles"][0].pop("end_index")
    return problem


@pytest.mark.parametrize(
    ("with_classes", "order", "cost"),
    [
        # Unconstrained: home -> room 600, room -> clinic 300 = 900 beats 900 + 300 = 1200.
        (False, [1, 2], 900),
        # The protect client at the clinic first: home -> clinic 900 + clinic -> room 300.
        (True, [2, 1], 1200),
    ],
)
def test_the_order_changes_the_route_penalised_and_unpenalised(with_classes, order, cost):
    answer = solve(open_day(with_classes)).to_json()
    assert served_ids(answer) == order
    assert answer["summary"]["cost"] == cost
    assert answer["summary"]["proved_optimal"] is True


def hospital_day(with_classes: bool) -> dict:
    """Two 3 h visits in one hospital (index 1, setup 600) and a 75 min one at the clinic."""
    jobs = [
        {"id": 1, "location_index": 1, "setup": 600, "service": 3 * HOUR},
        {"id": 2, "location_index": 3, "service": 4500},
        {"id": 3, "location_index": 1, "setup": 600, "service": 3 * HOUR},
    ]
    if with_classes:
        for job, order_class in zip(jobs, (PROTECT, MIDDLE, ISOLATION), strict=True):
            job["order_class"] = order_class
    return day(jobs)


def test_without_the_order_all_three_visits_fit():
    # Clinic first, then both hospital rooms (setup once): drives 900 + 300 + 0 + 600 = 1800,
    # setup 600, visits 4500 + 2 * 10800: 28 500 s of the 28 800 s shift. (The mirror order,
    # hospital first, costs the same.)
    answer = solve(hospital_day(with_classes=False)).to_json()
    assert sorted(served_ids(answer)) == [1, 2, 3]
    assert answer["summary"]["cost"] == 1800
    assert answer["summary"]["setup"] == 600


def test_the_order_costs_a_second_setup_and_a_visit():
    # Protect (1), middle (2), isolation (3) puts the clinic between the two hospital rooms:
    # drives 600 + 300 + 300 + 600 = 1800, setups 2 * 600, visits 26 100: 29 100 s > 28 800.
    # Of the pairs, the two hospital rooms drive least (600 + 0 + 600 = 1200 against 1800), in
    # class order 1 then 3. The clinic visit would fit before job 1 or after job 3 (28 500 s
    # either way), so it is the order that keeps it out, and both are in its way.
    solution = solve(hospital_day(with_classes=True))
    answer = solution.to_json()
    assert served_ids(answer) == [1, 3]
    assert answer["summary"]["cost"] == 1200
    (left,) = solution.unassigned
    assert (left.reason.kind, left.reason.rule) == ("full", "order")
    assert left.reason.rivals == ((1, 0), (3, 0)) and left.reason.more == 0


@pytest.mark.parametrize(
    ("protect_priority", "served", "left_out", "in_the_way"),
    [
        # The isolation visit (priority 50) must start at 08:10; the protect client (10) can
        # only start from 08:30, so only after it, which the order forbids: one of the two.
        (10, 1, 2, (1, 50)),
        # The protect client worth more: served; the isolation visit would fit only before it.
        (60, 2, 1, (2, 60)),
    ],
)
def test_a_visit_the_order_keeps_out_gets_the_order_reason(
    protect_priority, served, left_out, in_the_way
):
    jobs = [
        {
            "id": 1,
            "location_index": 1,
            "service": HOUR,
            "priority": 50,
            "order_class": ISOLATION,
            "time_windows": [[T0 + 600, T0 + 600]],
        },
        {
            "id": 2,
            "location_index": 3,
            "service": HOUR,
            "priority": protect_priority,
            "order_class": PROTECT,
            "time_windows": [[T0 + 1800, T0 + 3 * HOUR]],
        },
    ]
    solution = solve(day(jobs))
    answer = solution.to_json()
    assert served_ids(answer) == [served]
    (left,) = answer["unassigned"]
    assert left["id"] == left_out
    assert left["reason_detail"] == {
        "kind": "full",
        "rule": "order",
        "skills": [],
        "vehicles": [],
        "rivals": [{"id": in_the_way[0], "priority": in_the_way[1]}],
        "more": 0,
    }
    reason = solution.unassigned[0].reason
    assert reason.headline() == (
        "the day is full in infection-control order: it would fit only on the wrong side of "
        "visits that must come before or after it"
    )
    assert reason.text == (
        f"{reason.headline()}; in its way: {in_the_way[0]} (priority {in_the_way[1]})"
    )


def test_a_visit_that_does_not_fit_anywhere_is_outranked_not_ordered():
    # Two 7 h visits of different classes in an 8 h shift: the second does not fit either
    # side of the first, so the order is not what keeps it out.
    jobs = [
        {"id": 1, "location_index": 1, "service": 7 * HOUR, "priority": 50, "order_class": 2},
        {"id": 2, "location_index": 1, "service": 7 * HOUR, "priority": 10, "order_class": 0},
    ]
    (left,) = solve(day(jobs)).unassigned
    assert (left.reason.rule, left.reason.rivals) == ("outranked", ((1, 50),))


def test_all_three_classes_go_in_order_around_a_lunch():
    # Given isolation, protect, middle; the route must be protect, middle, isolation whatever
    # the drive: 1 (room) -> 3 (clinic) -> 2 (room) = 600 + 300 + 300 + 600 = 1800. The lunch
    # (a break has no class) goes wherever it fits.
    jobs = [
        {"id": 1, "location_index": 2, "service": HOUR, "order_class": ISOLATION},
        {"id": 2, "location_index": 1, "service": HOUR, "order_class": PROTECT},
        {"id": 3, "location_index": 3, "service": HOUR},
    ]
    lunch = {"id": 9, "time_windows": [[T0 + 2 * HOUR, T0 + 3 * HOUR]], "service": 1800}
    answer = solve(day(jobs, breaks=[lunch])).to_json()
    assert served_ids(answer) == [2, 3, 1]
    assert answer["summary"]["cost"] == 1800
    assert [s["type"] for s in steps_of(answer)].count("break") == 1


def test_time_route_refuses_an_order_that_breaks_the_rule():
    problem = parse_problem(open_day(with_classes=True))  # job 0 isolation, job 1 protect
    assert time_route(problem, 0, [0, 1]) is None
    assert time_route(problem, 0, [1, 0]) is not None
    assert time_route(problem, 0, [0]) is not None  # one visit alone is always in order


def test_class_slots_are_the_places_the_order_allows():
    # Route classes 0, 1, 1, 2: a class-1 job may go after the 0 and before the 2 (places
    # 1 to 3), a class-0 job before the first 1 (0 to 1), a class-2 job after the last 1.
    jobs = [
        {"id": k + 1, "location_index": 1, "order_class": c}
        for k, c in enumerate((PROTECT, MIDDLE, MIDDLE, ISOLATION, PROTECT, MIDDLE, ISOLATION))
    ]
    problem = parse_problem(day(jobs))
    route = [0, 1, 2, 3]
    assert class_slots(problem, route, 5) == range(1, 4)
    assert class_slots(problem, route, 4) == range(0, 2)
    assert class_slots(problem, route, 6) == range(3, 5)
    assert class_slots(problem, [], 6) == range(0, 1)


# ---------------------------------------------------------------------------------------------
# The field absent, or every job in one class: exactly today's answers


def answer_text(problem: dict, settings: SearchSettings = WORK_LIMITED) -> str:
    answer = solve(copy.deepcopy(problem), settings=settings, seed=4).to_json()
    answer["summary"].pop("computing_times")
    return json.dumps(answer, sort_keys=True)


def every_job_in(problem: dict, order_class: int) -> dict:
    changed = copy.deepcopy(problem)
    for job in changed["jobs"]:
        job["order_class"] = order_class
    return changed


@pytest.mark.parametrize("order_class", [PROTECT, MIDDLE, ISOLATION])
@pytest.mark.parametrize("seed", [3, 17, 40])
def test_one_class_for_all_solves_as_without_the_field_one_therapist(seed, order_class):
    problem = random_day(seed, jobs=6 + seed % 7, tight=seed % 2 == 0)
    assert answer_text(every_job_in(problem, order_class)) == answer_text(problem)


@pytest.mark.parametrize("order_class", [PROTECT, MIDDLE, ISOLATION])
def test_one_class_for_all_solves_as_without_the_field_several_therapists(order_class):
    problem = random_day(61, jobs=18, vehicles=3)
    assert answer_text(every_job_in(problem, order_class)) == answer_text(problem)


def test_the_field_is_read_as_the_typed_job():
    problem = parse_problem(random_day(5, jobs=12, classes=True))
    written = [job.get("order_class") for job in random_day(5, jobs=12, classes=True)["jobs"]]
    assert [job.order_class for job in problem.jobs] == written
    assert set(written) == {PROTECT, MIDDLE, ISOLATION}
    assert {job.order_class for job in parse_problem(random_day(5, jobs=12)).jobs} == {MIDDLE}


# ---------------------------------------------------------------------------------------------
# The independent checker


def hand_made_out_of_order() -> tuple[dict, dict]:
    """An isolation room (job 1) visited before a protect client (job 2), written by hand.

    Leave 0, drive 60 to job 1, 600 of service, drive 30 to job 2 (arrival 690), 600 of
    service, drive 90 home (arrival 1380): travel 180, service 1200, no waiting.
    """
    problem = {
        "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 36000]}],
        "jobs": [
            {"id": 1, "location_index": 1, "service": 600, "order_class": ISOLATION},
            {"id": 2, "location_index": 2, "service": 600, "order_class": PROTECT},
        ],
        "matrices": {"car": {"durations": [[0, 60, 90], [60, 0, 30], [90, 30, 0]]}},
    }

    def step(kind, arrival, duration, service=0, job=None) -> dict:
        item = {
            "type": kind,
            "arrival": arrival,
            "duration": duration,
            "setup": 0,
            "service": service,
            "waiting_time": 0,
            "violations": [],
        }
        if job is not None:
            item["id"] = job
        return item

    steps = [
        step("start", 0, 0),
        step("job", 60, 60, 600, 1),
        step("job", 690, 90, 600, 2),
        step("end", 1380, 180),
    ]
    figures = {
        "cost": 180,
        "setup": 0,
        "service": 1200,
        "duration": 180,
        "waiting_time": 0,
        "priority": 0,
    }
    solution = {
        "code": 0,
        "summary": {**figures, "routes": 1, "unassigned": 0, "violations": []},
        "unassigned": [],
        "routes": [{"vehicle": 1, **figures, "violations": [], "steps": steps}],
    }
    return problem, solution


def test_checker_rejects_a_route_out_of_class_order():
    problem, solution = hand_made_out_of_order()
    with pytest.raises(CheckFailed, match=r"job 2 \(order_class 0\) after job 1 \(order_class 2\)"):
        check_solution(problem, solution)


def test_the_hand_made_route_is_right_but_for_the_order():
    problem, solution = hand_made_out_of_order()
    for job in problem["jobs"]:
        del job["order_class"]
    assert check_solution(problem, solution) == (0, 2, 180)
    problem["jobs"][1]["order_class"] = ISOLATION  # equal classes may go in any order
    assert check_solution(problem, solution) == (0, 2, 180)


# ---------------------------------------------------------------------------------------------
# Each part of the solver on its own


@pytest.mark.parametrize("seed", range(6))
def test_or_tools_proposes_only_routes_in_class_order(seed):
    # Its routes are re-timed and repaired later; here they are read as OR-Tools returns them.
    problem = parse_problem(random_day(3300 + seed, jobs=14, vehicles=2, classes=True))
    routes = search_routes(
        problem,
        candidate_vehicles(problem),
        SearchSettings(time_limit=30.0, solution_limit=15, operators="full"),
    )
    assert routes is not None and any(routes)
    for jobs in routes:
        assert classes_along(problem, jobs) == sorted(classes_along(problem, jobs))


@pytest.mark.parametrize("seed", range(12))
def test_the_beam_builds_routes_in_class_order(seed):
    problem = parse_problem(random_day(9500 + seed, jobs=10, classes=True))
    route, claimed = best_route(problem, 0, range(10), width=8)
    if not route:
        assert claimed == (0, 0, 0)
        return
    timed = time_route(problem, 0, route)
    assert timed is not None
    assert classes_along(problem, route) == sorted(classes_along(problem, route))
    assert claimed == (sum(problem.jobs[p].priority for p in route), len(route), -timed.travel)


def order_reasons(seeds, **day_options) -> list[tuple[object, int, Reason, tuple]]:
    """(problem, job, reason, routes) of each left-out job with the order rule."""
    found = []
    for seed in seeds:
        problem = random_day(seed, classes=True, **day_options)
        solution = solve(problem, settings=WORK_LIMITED)
        found.extend(
            (solution.problem, item.job, item.reason, solution.routes)
            for item in solution.unassigned
            if item.reason.rule == "order"
        )
    return found


def test_order_reasons_name_the_visits_in_the_way():
    # On random days: the job fits some planned route at a place the order forbids, and each
    # named visit is served, of another class, on the wrong side of such a place.
    found = order_reasons(range(4000, 4040), jobs=9, tight=True)
    assert len(found) >= 5
    for problem, p, reason, routes in found:
        wanted = problem.jobs[p].order_class
        ids = {job.id: q for q, job in enumerate(problem.jobs)}
        assert reason.kind == "full" and reason.rivals
        named = [ids[job_id] for job_id, _ in reason.rivals]
        places = [
            (route, route.jobs.index(q)) for q in named for route in routes if q in route.jobs
        ]
        assert len(places) == len(named), "a visit in the way is not served"
        assert all(problem.jobs[q].order_class != wanted for q in named)
        assert reason == why_left_out(problem, p, routes, candidate_vehicles(problem)[p])


def compare_fits(seed: int) -> tuple[list[tuple], int]:
    """Unordered.fits against time_route on the day without classes, at every place of every
    planned route: (disagreements, places that fit)."""
    raw = random_day(4100 + seed, jobs=14, vehicles=2, classes=True)
    solution = solve(raw, settings=WORK_LIMITED)
    problem = solution.problem
    unordered, plain = Unordered(problem), without_classes(problem)
    disagreements, fitting = [], 0
    for route in solution.routes:
        jobs = list(route.jobs)
        for p in range(len(problem.jobs)):
            if p in jobs:
                continue
            for k in range(len(jobs) + 1):
                exact = time_route(plain, route.vehicle, [*jobs[:k], p, *jobs[k:]]) is not None
                fitting += exact
                if unordered.fits(route.vehicle, jobs, p, k) != exact:
                    disagreements.append((route.vehicle, p, k, exact))
    return disagreements, fitting


@pytest.mark.parametrize("seed", range(10))
def test_the_fit_ignoring_the_order_is_time_route_on_the_day_without_classes(seed):
    # Unordered.fits filters with the slack tables before re-timing; it must say exactly what
    # time_route says of the same day with every job in one class.
    disagreements, _ = compare_fits(seed)
    assert not disagreements


def test_the_fit_ignoring_the_order_sees_both_answers():
    assert sum(compare_fits(seed)[1] for seed in range(10)) > 30

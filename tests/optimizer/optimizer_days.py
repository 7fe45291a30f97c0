"""Seeded random therapist days in VROOM's JSON, and a brute-force oracle for tiny ones.

Days are placed at Unix epoch times near 1.79e9 (2026) as Rounds sends them. Some visits share
a facility (same location index: setup paid once), some have two or three windows, some
therapists have a lunch break with one or two windows, skills, visit limits and a travel cap.
With ``classes`` the visits also get an infection-control ``order_class`` (0 first, 2 last).
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

DAY = 1_790_000_000 - 1_790_000_000 % 86_400  # a midnight in 2026, in epoch seconds
HOUR = 3600


CLASS_SHARES = ((0, 0.3), (2, 0.3))
"""With ``classes``: the share of visits to protect (class 0) and in isolation (class 2); the
rest are written out as class 1, so the field is read in all three values."""


def random_day(
    seed: int, jobs: int, vehicles: int = 1, tight: bool = False, classes: bool = False
) -> dict[str, Any]:
    """A random problem with explicit matrices; ``tight`` shortens shifts and windows.

    ``classes`` adds an ``order_class`` to every job, drawn from a generator of its own, so
    the day is otherwise the very day drawn without it.
    """
    rng = random.Random(seed)
    facilities = max(2, jobs - rng.randrange(0, max(1, jobs // 2)))
    points = [(rng.uniform(0, 30), rng.uniform(0, 30)) for _ in range(facilities + 2)]
    durations = [
        [round(math.dist(a, b) * 60) + (0 if a == b else 120) for b in points] for a in points
    ]
    distances = [[round(math.dist(a, b) * 900) for b in points] for a in points]
    shift = (6 if tight else 9) * HOUR
    problem: dict[str, Any] = {
        "vehicles": [_vehicle(rng, k, shift, facilities, tight) for k in range(vehicles)],
        "jobs": [_job(rng, k, facilities, tight) for k in range(jobs)],
        "matrices": {"car": {"durations": durations, "distances": distances}},
    }
    if classes:
        add_classes(problem, random.Random(f"classes {seed}"))
    return problem


def add_classes(problem: dict[str, Any], rng: random.Random, shares=CLASS_SHARES) -> None:
    """Give every job an ``order_class``: each of ``shares`` (class, share), else 1."""
    for job in problem["jobs"]:
        draw, job["order_class"] = rng.random(), 1
        for order_class, share in shares:
            if draw < share:
                job["order_class"] = order_class
                break
            draw -= share


def _vehicle(rng: random.Random, k: int, shift: int, facilities: int, tight: bool) -> dict:
    begin = DAY + rng.choice([7, 8, 9]) * HOUR
    vehicle: dict[str, Any] = {
        "id": 100 + k,
        "start_index": facilities + rng.randrange(2),
        "end_index": facilities + rng.randrange(2),
        "time_window": [begin, begin + shift],
        "skills": sorted(rng.sample([1, 2, 3], rng.randrange(0, 4))),
    }
    if rng.random() < 0.6:
        lunch = begin + rng.choice([3, 4]) * HOUR
        windows = [[lunch, lunch + HOUR]]
        if rng.random() < 0.3:
            windows.append([lunch + 2 * HOUR, lunch + 2 * HOUR + 1800])
        vehicle["breaks"] = [{"id": 1, "time_windows": windows, "service": 1800}]
    if rng.random() < 0.2:
        vehicle["max_tasks"] = rng.randrange(2, 8)
    if rng.random() < 0.2:
        vehicle["max_travel_time"] = rng.randrange(3600, 4 * 3600)
    if rng.random() < 0.2:
        vehicle["capacity"] = [rng.randrange(3, 10)]
    return vehicle


def _job(rng: random.Random, k: int, facilities: int, tight: bool) -> dict:
    job: dict[str, Any] = {
        "id": k + 1,
        "location_index": rng.randrange(facilities),
        "setup": rng.choice([0, 300, 600, 900]),
        "service": rng.choice([1800, 2700, 3600]) if not tight else rng.choice([2700, 3600]),
        "priority": rng.choice([0, 0, 10, 50, 100]),
        "delivery": [rng.randrange(0, 3)],
    }
    if rng.random() < 0.8:
        count = rng.choice([1, 1, 2, 3])
        start = DAY + rng.randrange(7 * HOUR, 15 * HOUR, 900)
        windows = []
        for _ in range(count):
            length = rng.choice([1800, 3600, 2 * 3600]) if not tight else 1800
            windows.append([start, start + length])
            start += length + rng.choice([1800, 3600])
        job["time_windows"] = windows
    if rng.random() < 0.2:
        job["skills"] = [rng.choice([1, 2, 3])]
    return job


# ---------------------------------------------------------------------------------------------
# Brute force: every subset, every order, every placement of the breaks. Written without the
# optimizer's code, from the rules in docs/optimizer.md.


def brute_force(problem: dict[str, Any]) -> tuple[int, int, int]:
    """Best (priority, served, -travel) of a one-vehicle problem, by enumeration."""
    vehicle = problem["vehicles"][0]
    jobs = problem["jobs"]
    best = (0, 0, 0)
    for size in range(1, len(jobs) + 1):
        for order in itertools.permutations(range(len(jobs)), size):
            route = [jobs[k] for k in order]
            value = (sum(j.get("priority", 0) for j in route), size, 0)
            if value[:2] < best[:2]:
                continue
            travel = _order_travel(problem, vehicle, route)
            if (value[0], value[1], -travel) <= best:
                continue
            if _order_feasible(problem, vehicle, route, travel):
                best = (value[0], value[1], -travel)
    return best


def _order_travel(problem, vehicle, route) -> int:
    d = problem["matrices"]["car"]["durations"]
    places = [vehicle["start_index"], *(j["location_index"] for j in route), vehicle["end_index"]]
    return sum(d[a][b] for a, b in zip(places, places[1:], strict=False))


def _order_feasible(problem, vehicle, route, travel) -> bool:
    if not all(set(j.get("skills", [])) <= set(vehicle.get("skills", [])) for j in route):
        return False
    classes = [j.get("order_class", 1) for j in route]
    if classes != sorted(classes):  # protect visits first, isolation rooms last
        return False
    if vehicle.get("max_tasks") is not None and len(route) > vehicle["max_tasks"]:
        return False
    if vehicle.get("max_travel_time") is not None and travel > vehicle["max_travel_time"]:
        return False
    if vehicle.get("capacity") is not None:
        if sum(j.get("delivery", [0])[0] for j in route) > vehicle["capacity"][0]:
            return False
    breaks = vehicle.get("breaks", [])
    gaps = len(route) + 1
    for placement in itertools.combinations_with_replacement(range(gaps), len(breaks)):
        if _timed_ok(problem, vehicle, route, placement):
            return True
    return False


def _first_at_or_after(t: int, windows) -> int | None:
    if not windows:
        return t
    for a, b in windows:
        if t <= b:
            return max(t, a)
    return None


def _timed_ok(problem, vehicle, route, placement) -> bool:
    """Earliest schedule with break q taken in gap placement[q] (split drives allowed)."""
    d = problem["matrices"]["car"]["durations"]
    breaks = vehicle.get("breaks", [])
    day_start, day_end = vehicle["time_window"]
    clock = day_start
    place = vehicle["start_index"]
    stops = [*route, None]
    for gap, job in enumerate(stops):
        here = vehicle["end_index"] if job is None else job["location_index"]
        drive = d[place][here]
        moving_from = clock
        for q, pause in enumerate(breaks):
            if placement[q] != gap:
                continue
            begin = _first_at_or_after(clock, pause.get("time_windows"))
            if begin is None:
                return False
            clock = begin + pause["service"]
        pauses = sum(p["service"] for q, p in enumerate(breaks) if placement[q] == gap)
        arrival = max(moving_from + drive + pauses, clock)
        if job is None:
            return arrival <= day_end
        begin = _first_at_or_after(arrival, job.get("time_windows"))
        if begin is None:
            return False
        clock = begin + (0 if place == here else job.get("setup", 0)) + job.get("service", 0)
        place = here
    return True

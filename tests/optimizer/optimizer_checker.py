"""An independent checker of solutions: re-derives every route from the raw JSON.

It shares no code with ``scheduler.optimizer``: it reads the problem dict and the solution dict
as a stranger would, recomputes arrivals, waits, setups, windows, breaks, skills, capacity,
``max_tasks``, ``max_travel_time``, the vehicle's working hours and the infection-control
order (a job's ``order_class``, 1 when absent, never decreases along a route), and compares
every figure the solution states with its own. It needs problems with explicit matrices.

Step timing it expects (the contract in docs/optimizer.md): for consecutive steps a, b,
``b.arrival = a.arrival + a.waiting_time + a.setup + a.service + (b.duration - a.duration)``;
the drive between two located steps is split over the breaks between them and sums to the
matrix entry; a task starts at ``arrival + waiting_time``.
"""

from __future__ import annotations

from typing import Any

BIG = 2**62


class CheckFailed(AssertionError):
    """A rule is broken or a stated figure disagrees with the re-derived one."""


def _fail(message: str) -> None:
    raise CheckFailed(message)


def check_solution(problem: dict[str, Any], solution: dict[str, Any]) -> tuple[int, int, int]:
    """Raise :class:`CheckFailed` on any violation; return (priority, served, travel)."""
    if solution.get("code") != 0:
        _fail(f"solution has code {solution.get('code')}: {solution.get('error')}")
    durations = problem["matrices"]["car"]["durations"]
    distances = problem["matrices"]["car"].get("distances")
    jobs = {job["id"]: job for job in problem.get("jobs", [])}
    vehicles = {vehicle["id"]: vehicle for vehicle in problem["vehicles"]}
    seen: set[int] = set()
    totals = {
        "cost": 0,
        "setup": 0,
        "service": 0,
        "duration": 0,
        "waiting_time": 0,
        "priority": 0,
        "distance": 0,
    }
    used_vehicles = set()
    for route in solution["routes"]:
        vehicle = vehicles.get(route["vehicle"])
        if vehicle is None:
            _fail(f"route for unknown vehicle {route['vehicle']}")
        if route["vehicle"] in used_vehicles:
            _fail(f"vehicle {route['vehicle']} has two routes")
        used_vehicles.add(route["vehicle"])
        figures = _check_route(vehicle, route, jobs, durations, distances, seen)
        for key, value in figures.items():
            if key in route and route[key] != value:
                _fail(f"vehicle {vehicle['id']}: stated {key} {route[key]} != derived {value}")
            totals[key] += value
    for item in solution["unassigned"]:
        if item["id"] not in jobs:
            _fail(f"unassigned unknown job {item['id']}")
        if item["id"] in seen:
            _fail(f"job {item['id']} both served and unassigned")
        if not item.get("reason"):
            _fail(f"job {item['id']} unassigned without a reason")
        seen.add(item["id"])
    if seen != set(jobs):
        _fail(f"jobs neither served nor unassigned: {sorted(set(jobs) - seen)}")
    summary = solution["summary"]
    for key, value in totals.items():
        if key == "distance" and distances is None:
            continue
        if summary[key] != value:
            _fail(f"summary {key} {summary[key]} != derived {value}")
    if summary["unassigned"] != len(solution["unassigned"]):
        _fail("summary unassigned count is wrong")
    if summary["routes"] != len(solution["routes"]):
        _fail("summary routes count is wrong")
    served = len(jobs) - len(solution["unassigned"])
    return totals["priority"], served, totals["duration"]


def _check_route(vehicle, route, jobs, durations, distances, seen) -> dict[str, int]:
    steps = route["steps"]
    vid = vehicle["id"]
    if steps[0]["type"] != "start" or steps[-1]["type"] != "end":
        _fail(f"vehicle {vid}: route must go from start to end")
    day_start, day_end = vehicle.get("time_window", [0, BIG])
    if steps[0]["arrival"] < day_start:
        _fail(f"vehicle {vid}: leaves before its working hours")
    if steps[-1]["arrival"] > day_end:
        _fail(f"vehicle {vid}: ends after its working hours")
    breaks = {b["id"]: b for b in vehicle.get("breaks", [])}
    taken_breaks: list[int] = []
    served_here: list[dict] = []
    place = vehicle.get("start_index")
    leg_drive = 0  # drive done since the last located step
    travel = setup_total = service_total = waiting_total = distance = 0
    for k, step in enumerate(steps):
        if step["waiting_time"] < 0 or step["setup"] < 0 or step["service"] < 0:
            _fail(f"vehicle {vid}: negative figure at step {k}")
        if k > 0:
            prev = steps[k - 1]
            drive = step["duration"] - prev["duration"]
            if drive < 0:
                _fail(f"vehicle {vid}: cumulated travel decreases at step {k}")
            expected = (
                prev["arrival"] + prev["waiting_time"] + prev["setup"] + prev["service"] + drive
            )
            if step["arrival"] != expected:
                _fail(f"vehicle {vid}: step {k} arrival {step['arrival']} != {expected}")
            leg_drive += drive
        kind = step["type"]
        start = step["arrival"] + step["waiting_time"]
        if kind == "break":
            pause = breaks.get(step["id"])
            if pause is None or step["id"] in taken_breaks:
                _fail(f"vehicle {vid}: break {step['id']} unknown or taken twice")
            if step["service"] != pause.get("service", 0) or step["setup"] != 0:
                _fail(f"vehicle {vid}: break {step['id']} has the wrong length")
            _check_in_windows(start, pause.get("time_windows"), f"break {step['id']}")
            taken_breaks.append(step["id"])
        elif kind in ("job", "end"):
            here = jobs[step["id"]]["location_index"] if kind == "job" else vehicle.get("end_index")
            leg = 0 if place is None or here is None else durations[place][here]
            if leg_drive != leg:
                _fail(f"vehicle {vid}: drive to step {k} is {leg_drive}, matrix says {leg}")
            if distances is not None and place is not None and here is not None:
                distance += distances[place][here]
            if kind == "job":
                job = jobs.get(step["id"])
                if step["id"] in seen:
                    _fail(f"job {step['id']} served twice")
                seen.add(step["id"])
                if not set(job.get("skills", [])) <= set(vehicle.get("skills", [])):
                    _fail(f"vehicle {vid} lacks skills for job {step['id']}")
                due = 0 if place == here else job.get("setup", 0)
                if step["setup"] != due:
                    _fail(f"job {step['id']}: setup {step['setup']} but {due} is due")
                if step["service"] != job.get("service", 0):
                    _fail(f"job {step['id']}: wrong service")
                _check_in_windows(start, job.get("time_windows"), f"job {step['id']}")
                _check_order(vid, served_here, job)
                served_here.append(job)
            place = here if here is not None else place
            leg_drive = 0
        elif kind == "start":
            if k != 0:
                _fail(f"vehicle {vid}: start step in the middle")
        if kind != "job" and kind != "break" and (step["waiting_time"] or step["service"]):
            _fail(f"vehicle {vid}: start/end steps take no time")
        setup_total += step["setup"]
        service_total += step["service"]
        waiting_total += step["waiting_time"]
        if distances is not None and step.get("distance") is not None and kind != "break":
            if step["distance"] != distance:
                _fail(f"vehicle {vid}: step {k} distance {step['distance']} != {distance}")
    travel = steps[-1]["duration"]
    if sorted(taken_breaks) != sorted(breaks):
        _fail(f"vehicle {vid}: breaks taken {taken_breaks}, expected {sorted(breaks)}")
    _check_limits(vehicle, served_here, travel)
    figures = {
        "cost": travel,
        "setup": setup_total,
        "service": service_total,
        "duration": travel,
        "waiting_time": waiting_total,
        "priority": sum(job.get("priority", 0) for job in served_here),
    }
    if distances is not None:
        figures["distance"] = distance
    return figures


def _check_in_windows(start: int, windows, what: str) -> None:
    if windows and not any(a <= start <= b for a, b in windows):
        _fail(f"{what} starts at {start}, outside its windows {windows}")


def _check_order(vid, served_before, job) -> None:
    """No job after one of a higher ``order_class`` (protect first, isolation last)."""
    mine = job.get("order_class", 1)
    for earlier in served_before:
        if earlier.get("order_class", 1) > mine:
            _fail(
                f"vehicle {vid}: job {job['id']} (order_class {mine}) after job "
                f"{earlier['id']} (order_class {earlier.get('order_class', 1)})"
            )


def _check_limits(vehicle, served, travel) -> None:
    vid = vehicle["id"]
    if vehicle.get("max_tasks") is not None and len(served) > vehicle["max_tasks"]:
        _fail(f"vehicle {vid}: more than max_tasks jobs")
    if vehicle.get("max_travel_time") is not None and travel > vehicle["max_travel_time"]:
        _fail(f"vehicle {vid}: travel {travel} above max_travel_time")
    capacity = vehicle.get("capacity")
    if capacity is not None:
        for dim, limit in enumerate(capacity):
            load = sum(job.get("delivery", [0] * len(capacity))[dim] for job in served)
            if load > limit:
                _fail(f"vehicle {vid}: load {load} above capacity {limit}")

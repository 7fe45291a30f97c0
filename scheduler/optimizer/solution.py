"""The answer: timed routes, unassigned jobs with reasons, and VROOM's solution JSON.

Each unassigned job carries a typed :class:`~.reasons.Reason`; the JSON writes its English
``reason`` (as before) and, beside it, ``reason_detail``: the same facts for programs (see
:mod:`.reasons` for the fields).

Figures are never stored twice: a route's travel, waiting or priority are sums over its timed
steps, computed when asked, so the JSON cannot disagree with the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .problem import Problem
from .reasons import Reason
from .schedule import TimedRoute

INPUT_ERROR = 2
"""VROOM's status code for an input error (``0`` is success, ``1`` an internal error)."""


@dataclass(frozen=True)
class Unassigned:
    """A job left out, with the reason: words a scheduler understands, and fields to read."""

    job: int  # position in problem.jobs
    reason: Reason


@dataclass(frozen=True)
class Solution:
    """What :func:`scheduler.optimizer.solve` returns.

    ``code`` 0 means success; otherwise ``error`` says which field of the problem is wrong and
    there are no routes. ``proved_optimal`` is true when the exact method has shown no better
    answer exists (single-vehicle days of up to :data:`~.exact.MAX_EXACT_JOBS` jobs).
    """

    problem: Problem | None
    routes: tuple[TimedRoute, ...] = ()
    unassigned: tuple[Unassigned, ...] = ()
    code: int = 0
    error: str | None = None
    proved_optimal: bool = False
    computing_times: dict[str, int] = field(default_factory=dict)

    @classmethod
    def failure(cls, error: str, code: int = INPUT_ERROR) -> Solution:
        """A solution that only reports what went wrong."""
        return cls(problem=None, code=code, error=error)

    def is_feasible(self) -> bool:
        """True when the problem was solved (every returned route satisfies every rule)."""
        return self.code == 0

    def cost(self) -> int:
        """VROOM's cost: total travel seconds of all routes."""
        return sum(route.travel for route in self.routes)

    def priority(self) -> int:
        """Sum of the priorities of the jobs served."""
        assert self.problem is not None
        return sum(self.problem.jobs[j].priority for route in self.routes for j in route.jobs)

    def objective(self) -> tuple[int, int, int]:
        """The value being maximised, compared lexicographically: (priority, served, -travel)."""
        served = sum(len(route.jobs) for route in self.routes)
        return self.priority(), served, -self.cost()

    def summary(self) -> dict[str, Any]:
        """VROOM's ``summary`` object."""
        return self.to_json().get("summary", {})

    def to_json(self) -> dict[str, Any]:
        """The solution in VROOM's format, ``unassigned[].reason`` and ``reason_detail`` added."""
        if self.code != 0:
            return {"code": self.code, "error": self.error}
        assert self.problem is not None
        routes = [_route_json(self.problem, route) for route in self.routes]
        summary: dict[str, Any] = {
            "cost": sum(r["cost"] for r in routes),
            "routes": len(routes),
            "unassigned": len(self.unassigned),
            "setup": sum(r["setup"] for r in routes),
            "service": sum(r["service"] for r in routes),
            "duration": sum(r["duration"] for r in routes),
            "waiting_time": sum(r["waiting_time"] for r in routes),
            "priority": sum(r["priority"] for r in routes),
            "violations": [],
        }
        if self.problem.distances is not None:
            summary["distance"] = sum(r["distance"] for r in routes)
        if _amount_size(self.problem):
            summary["delivery"] = _add_all([r["delivery"] for r in routes], self.problem)
        summary["computing_times"] = dict(self.computing_times)
        summary["proved_optimal"] = self.proved_optimal
        return {
            "code": 0,
            "summary": summary,
            "unassigned": [_unassigned_json(self.problem, u) for u in self.unassigned],
            "routes": routes,
        }


def _route_json(problem: Problem, route: TimedRoute) -> dict[str, Any]:
    vehicle = problem.vehicles[route.vehicle]
    steps = []
    travelled = distance = 0
    load = _add_all([problem.jobs[j].delivery for j in route.jobs], problem)
    for step in route.steps:
        travelled += step.travel
        distance += step.distance
        item: dict[str, Any] = {"type": step.kind}
        if step.kind == "job":
            job = problem.jobs[step.index]
            item["id"] = job.id
            _add_place(item, problem, job.location, job.location_index)
            if job.description is not None:
                item["description"] = job.description
            load = [a - b for a, b in zip(load, _padded(job.delivery, problem), strict=True)]
        elif step.kind == "break":
            pause = vehicle.breaks[step.index]
            item["id"] = pause.id
            if pause.description is not None:
                item["description"] = pause.description
        elif step.kind == "start":
            _add_place(item, problem, vehicle.start, vehicle.start_index)
        else:
            _add_place(item, problem, vehicle.end, vehicle.end_index)
        item.update(
            setup=step.setup,
            service=step.service,
            waiting_time=step.waiting,
            arrival=step.arrival,
            duration=travelled,
            violations=[],
        )
        if load:
            item["load"] = list(load)
        if problem.distances is not None:
            item["distance"] = distance
        steps.append(item)
    result: dict[str, Any] = {
        "vehicle": vehicle.id,
        "cost": route.travel,
        "setup": sum(s.setup for s in route.steps),
        "service": sum(s.service for s in route.steps),
        "duration": route.travel,
        "waiting_time": sum(s.waiting for s in route.steps),
        "priority": sum(problem.jobs[j].priority for j in route.jobs),
        "violations": [],
        "steps": steps,
    }
    if problem.distances is not None:
        result["distance"] = distance
    if _amount_size(problem):
        result["delivery"] = _add_all([problem.jobs[j].delivery for j in route.jobs], problem)
    if vehicle.description is not None:
        result["description"] = vehicle.description
    return result


def _unassigned_json(problem: Problem, item: Unassigned) -> dict[str, Any]:
    job = problem.jobs[item.job]
    result: dict[str, Any] = {"id": job.id, "type": "job"}
    _add_place(result, problem, job.location, job.location_index)
    if job.description is not None:
        result["description"] = job.description
    result["reason"] = item.reason.text
    result["reason_detail"] = item.reason.to_json()
    return result


def _add_place(item: dict[str, Any], problem: Problem, coords: Any, index: int | None) -> None:
    if coords is not None:
        item["location"] = list(coords)
    if index is not None and problem.indices_given:
        item["location_index"] = index


def _amount_size(problem: Problem) -> int:
    for job in problem.jobs:
        if job.delivery:
            return len(job.delivery)
    for vehicle in problem.vehicles:
        if vehicle.capacity is not None:
            return len(vehicle.capacity)
    return 0


def _padded(amount: tuple[int, ...], problem: Problem) -> tuple[int, ...]:
    return amount if amount else (0,) * _amount_size(problem)


def _add_all(amounts: list[Any], problem: Problem) -> list[int]:
    total = [0] * _amount_size(problem)
    for amount in amounts:
        for dim, value in enumerate(amount):
            total[dim] += value
    return total

"""The exact method for one therapist's day: labels over subsets of visits.

OR-Tools' local search finds good routes but cannot say they are the best. For a single
vehicle with at most :data:`MAX_EXACT_JOBS` jobs this module enumerates partial routes as
*labels* ``(visited set, last job, breaks taken, ready time, travel so far)`` and keeps only
labels no other label with the same ``(set, last, breaks)`` beats on both time and travel
(waiting is allowed, so being ready earlier with less travel can only help). Every label is
closed at the vehicle's end; the best closed label is the optimum of VROOM's objective
(priority served, then jobs served, then least travel).

With an incumbent (OR-Tools' answer) a label is also dropped when even serving every job it
could still reach cannot beat the incumbent, using a lower bound on the remaining travel
(each job still to serve, and the end, must be entered by some arc: at least its cheapest
incoming arc). When the enumeration finishes, the result is *proved* optimal; a label budget
keeps pathological inputs bounded (then ``proved`` is false).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .problem import Problem
from .schedule import earliest_in, fits_statically, setup_paid, through_gap, vehicle_window

MAX_EXACT_JOBS = 12
"""Largest single-vehicle day the exact method is run on."""

LABEL_BUDGET = 400_000
"""Labels created before giving up the proof (far above what a therapist's day needs)."""

Objective = tuple[int, int, int]  # (priority, served, -travel), larger is better


@dataclass(frozen=True)
class ExactResult:
    """The best order found, its objective, and whether no better order exists."""

    jobs: tuple[int, ...]
    objective: Objective
    proved: bool


def solve_exact(
    problem: Problem,
    vehicle_pos: int,
    job_positions: Sequence[int],
    incumbent: tuple[Sequence[int], Objective] | None = None,
    budget: int = LABEL_BUDGET,
) -> ExactResult:
    """Best route of ``vehicle_pos`` over a subset of ``job_positions`` (at most 12 or so).

    ``incumbent`` is a known feasible order and its objective; it is returned unchanged unless
    something strictly better exists.
    """
    search = _LabelSearch(problem, vehicle_pos, list(job_positions), budget)
    if incumbent is not None:
        search.best_jobs, search.best = tuple(incumbent[0]), incumbent[1]
    search.run()
    return ExactResult(search.best_jobs, search.best, not search.exhausted)


class _LabelSearch:
    def __init__(self, problem: Problem, vehicle_pos: int, jobs: list[int], budget: int) -> None:
        self.problem = problem
        self.vehicle = vehicle = problem.vehicles[vehicle_pos]
        self.jobs = [p for p in jobs if fits_statically(problem, vehicle, [problem.jobs[p]])]
        self.budget = budget
        self.exhausted = False
        self.best_jobs: tuple[int, ...] = ()
        self.best: Objective = (0, 0, 0)
        n = len(self.jobs)
        job = [problem.jobs[p] for p in self.jobs]
        self.job = job
        self.places = [j.location_index for j in job]
        start, end = vehicle.start_index, vehicle.end_index
        self.from_start = [problem.travel(start, q) for q in self.places]
        self.to_end = [problem.travel(q, end) for q in self.places]
        self.between = [[problem.travel(a, b) for b in self.places] for a in self.places]
        self.direct = problem.travel(start, end)
        self.day_start, self.day_end = vehicle_window(vehicle)
        self.last_start = [j.time_windows[-1][1] if j.time_windows else self.day_end for j in job]
        # Cheapest way into each job and into the end: the travel lower bound.
        self.min_in = [
            min([self.from_start[u]] + [self.between[v][u] for v in range(n) if v != u])
            for u in range(n)
        ]
        self.min_in_end = min([self.direct] + self.to_end)

    # ------------------------------------------------------------------ enumeration

    def run(self) -> None:
        vehicle, n = self.vehicle, len(self.jobs)
        breaks = vehicle.breaks
        layer: dict[tuple[int, int, int], list[tuple[int, int]]] = {(0, -1, 0): [(self.day_start, 0)]}
        self._close(0, -1, 0, self.day_start, 0)
        created = 0
        paths: dict[tuple[int, int, int, int, int], tuple[int, ...]] = {
            (0, -1, 0, self.day_start, 0): ()
        }
        for _size in range(n):
            following: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
            new_paths: dict[tuple[int, int, int, int, int], tuple[int, ...]] = {}
            for (mask, last, taken), labels in layer.items():
                for ready, cost in labels:
                    path = paths[(mask, last, taken, ready, cost)]
                    if self._hopeless(mask, last, ready, cost):
                        continue
                    for u in range(n):
                        if mask >> u & 1 or not self._fits(mask, u, cost, last):
                            continue
                        travel = self.from_start[u] if last < 0 else self.between[last][u]
                        previous_place = vehicle.start_index if last < 0 else self.places[last]
                        for until in range(taken, len(breaks) + 1):
                            passed = through_gap(ready, travel, breaks[taken:until])
                            if passed is None:
                                break
                            start = earliest_in(passed[0], self.job[u].time_windows)
                            if start is None:
                                continue
                            done = start + setup_paid(previous_place, self.job[u]) + self.job[
                                u
                            ].service
                            key = (mask | 1 << u, u, until)
                            if _insert(following.setdefault(key, []), done, cost + travel):
                                created += 1
                                new_paths[(*key, done, cost + travel)] = (*path, u)
                                self._close(*key, done, cost + travel, (*path, u))
                if created > self.budget:
                    self.exhausted = True
                    return
            layer = following
            paths = {
                k: v for k, v in new_paths.items() if (k[3], k[4]) in layer.get(k[:3], ())
            }
            if not layer:
                return

    def _close(
        self, mask: int, last: int, taken: int, ready: int, cost: int, path: tuple[int, ...] = ()
    ) -> None:
        """Offer the route ending here: take the remaining breaks, drive to the end."""
        if not path:
            return  # the empty route is the default answer (0, 0, 0)
        travel = self.to_end[last]
        passed = through_gap(ready, travel, self.vehicle.breaks[taken:])
        if passed is None or passed[0] > self.day_end:
            return
        total = cost + travel
        limit = self.vehicle.max_travel_time
        if limit is not None and total > limit:
            return
        objective = (sum(self.job[u].priority for u in path), len(path), -total)
        if objective > self.best:
            self.best = objective
            self.best_jobs = tuple(self.jobs[u] for u in path)

    # ------------------------------------------------------------------ pruning

    def _fits(self, mask: int, u: int, cost: int, last: int) -> bool:
        """Skills, capacity, max_tasks and max_travel_time of adding job ``u``."""
        members = [self.problem.jobs[self.jobs[v]] for v in range(len(self.jobs)) if mask >> v & 1]
        members.append(self.job[u])
        vehicle = self.vehicle
        if vehicle.max_tasks is not None and len(members) > vehicle.max_tasks:
            return False
        if vehicle.capacity is not None:
            for dim, limit in enumerate(vehicle.capacity):
                if sum(j.delivery[dim] if j.delivery else 0 for j in members) > limit:
                    return False
        if vehicle.max_travel_time is not None:
            travel = self.from_start[u] if last < 0 else self.between[last][u]
            return cost + travel <= vehicle.max_travel_time
        return True

    def _hopeless(self, mask: int, last: int, ready: int, cost: int) -> bool:
        """True when no completion of this label can beat the best route known."""
        served = [u for u in range(len(self.jobs)) if mask >> u & 1]
        reach = []
        for u in range(len(self.jobs)):
            if mask >> u & 1:
                continue
            travel = self.from_start[u] if last < 0 else self.between[last][u]
            if ready + travel <= self.last_start[u]:
                reach.append(u)
        room = len(reach)
        if self.vehicle.max_tasks is not None:
            room = min(room, self.vehicle.max_tasks - len(served))
        priorities = sorted((self.job[u].priority for u in reach), reverse=True)
        best_priority = sum(self.job[u].priority for u in served) + sum(priorities[:room])
        best_count = len(served) + room
        target = self.best[:2]
        if (best_priority, best_count) != target:
            return (best_priority, best_count) < target
        entering = sorted(self.min_in[u] for u in reach)[: room]
        lower_bound = cost + sum(entering) + self.min_in_end
        return -lower_bound <= self.best[2]


def _insert(labels: list[tuple[int, int]], ready: int, cost: int) -> bool:
    """Add ``(ready, cost)`` unless dominated; drop the labels it dominates. True if added."""
    for other_ready, other_cost in labels:
        if other_ready <= ready and other_cost <= cost:
            return False
    labels[:] = [(r, c) for r, c in labels if not (ready <= r and cost <= c)]
    labels.append((ready, cost))
    return True

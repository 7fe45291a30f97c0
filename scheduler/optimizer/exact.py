"""The exact method for one therapist's day: labels over subsets of visits.

OR-Tools' local search finds good routes but cannot say they are the best. For a single
vehicle with at most :data:`MAX_EXACT_JOBS` jobs this module enumerates partial routes as
*labels* ``(visited set, last job, breaks taken, ready time, travel so far)`` and keeps only
labels no other label with the same ``(set, last, breaks)`` beats on both time and travel
(waiting is allowed, so being ready earlier with less travel can only help). Every label is
closed at the vehicle's end; the best closed label is the optimum of VROOM's objective
(priority served, then jobs served, then least travel).

With an incumbent (OR-Tools' answer) a label is also dropped when even serving every job it
could still reach cannot beat the incumbent. The travel still to come is bounded below by
:func:`_completion_bounds`: the shortest path from the label's last job through exactly the
jobs it must still serve to the end, time windows ignored (a Held-Karp table computed once
with numpy); when the label may choose among the jobs left, the weaker bound "each job still
to serve must be entered by its cheapest arc" is used. When the enumeration finishes, the
result is *proved* optimal; a label budget and, under a time limit, the deadline keep
pathological inputs bounded (then ``proved`` is false and the best route found is kept).

The class order (``order_class`` never decreases along a route) is one more condition on
extending a label: its next job must be of its last job's class or higher. Labels with the
same last job have the same class, so the dominance rule is unchanged; the bounds only count
jobs a label may still take (of its last job's class or higher) and the Held-Karp table and
the cheapest ways in use only the arcs the order allows: every bound stays a bound, and the
proof holds with the rule.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .problem import Problem
from .schedule import (
    NO_END,
    class_slots,
    earliest_in,
    fits_statically,
    setup_paid,
    through_gap,
    time_route,
    vehicle_window,
)

MAX_EXACT_JOBS = 12
"""Largest single-vehicle day the exact method is run on."""

LABEL_BUDGET = 400_000
"""Labels created before giving up the proof (far above what a therapist's day needs)."""

CLOCK_EVERY = 32
"""Labels extended between two looks at the clock (each costs well under a millisecond)."""

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
    deadline: float | None = None,
) -> ExactResult:
    """Best route of ``vehicle_pos`` over a subset of ``job_positions`` (at most 12 or so).

    ``incumbent`` is a known feasible order and its objective; it is returned unchanged unless
    something strictly better exists. The enumeration stops at the label ``budget`` or at
    ``deadline`` (a :func:`time.perf_counter` time, looked at every
    :data:`CLOCK_EVERY` labels extended), whichever comes first; then the best route found is
    returned with ``proved`` false.
    """
    search = _LabelSearch(problem, vehicle_pos, list(job_positions), budget, deadline)
    if incumbent is None:
        incumbent = greedy_route(problem, vehicle_pos, search.jobs)
    search.best_jobs, search.best = tuple(incumbent[0]), incumbent[1]
    search.run()
    return ExactResult(search.best_jobs, search.best, not search.exhausted)


def greedy_route(
    problem: Problem, vehicle_pos: int, job_positions: Sequence[int]
) -> tuple[tuple[int, ...], Objective]:
    """A quick feasible route to prune with: cheapest insertion, most valuable jobs first."""
    route: list[int] = []
    travel = 0
    for p in sorted(job_positions, key=lambda q: (-problem.jobs[q].priority, q)):
        best: tuple[int, list[int]] | None = None
        for position in class_slots(problem, route, p):
            trial = [*route[:position], p, *route[position:]]
            timed = time_route(problem, vehicle_pos, trial)
            if timed is not None and (best is None or timed.travel < best[0]):
                best = (timed.travel, trial)
        if best is not None:
            travel, route = best
    priority = sum(problem.jobs[p].priority for p in route)
    return tuple(route), (priority, len(route), -travel) if route else (0, 0, 0)


class _LabelSearch:
    def __init__(
        self,
        problem: Problem,
        vehicle_pos: int,
        jobs: list[int],
        budget: int,
        deadline: float | None = None,
    ) -> None:
        self.problem = problem
        self.deadline = deadline
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
        self.classes = [j.order_class for j in job]
        self.direct = problem.travel(start, end)
        self.day_start, self.day_end = vehicle_window(vehicle)
        self.last_start = [j.time_windows[-1][1] if j.time_windows else self.day_end for j in job]
        # Cheapest way into each job (from the start or a job that may precede it) and into
        # the end: the travel lower bound.
        self.min_in = [
            min(
                [self.from_start[u]]
                + [self.between[v][u] for v in range(n) if v != u and self._may_follow(v, u)]
            )
            for u in range(n)
        ]
        self.min_in_end = min([self.direct] + self.to_end)
        self.completion = _completion_bounds(
            self.between, self.from_start, self.to_end, self.classes
        )
        self.loads: dict[int, list[int]] = {0: [0] * len(vehicle.capacity or ())}

    # ------------------------------------------------------------------ enumeration

    def run(self) -> None:
        vehicle, n = self.vehicle, len(self.jobs)
        breaks = vehicle.breaks
        Key = tuple[int, int, int]
        layer: dict[Key, list[tuple[int, int]]] = {(0, -1, 0): [(self.day_start, 0)]}
        self._close(0, -1, 0, self.day_start, 0)
        created = extended = 0
        deadline = self.deadline
        paths: dict[tuple[int, int, int, int, int], tuple[int, ...]] = {
            (0, -1, 0, self.day_start, 0): ()
        }
        for _size in range(n):
            following: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
            new_paths: dict[tuple[int, int, int, int, int], tuple[int, ...]] = {}
            for (mask, last, taken), labels in layer.items():
                for ready, cost in labels:
                    extended += 1
                    if deadline is not None and extended % CLOCK_EVERY == 0:
                        if time.perf_counter() >= deadline:
                            self.exhausted = True
                            return
                    path = paths[(mask, last, taken, ready, cost)]
                    if self._hopeless(mask, last, ready, cost, taken):
                        continue
                    for u in range(n):
                        if mask >> u & 1 or not self._may_follow(last, u):
                            continue
                        if not self._fits(mask, u, cost, last):
                            continue
                        travel = self.from_start[u] if last < 0 else self.between[last][u]
                        if self._hopeless(mask | 1 << u, u, None, cost + travel):
                            continue
                        previous_place = vehicle.start_index if last < 0 else self.places[last]
                        for until in range(taken, len(breaks) + 1):
                            passed = through_gap(ready, travel, breaks[taken:until])
                            if passed is None:
                                break
                            start = earliest_in(passed[0], self.job[u].time_windows)
                            if start is None:
                                continue
                            done = (
                                start
                                + setup_paid(previous_place, self.job[u])
                                + self.job[u].service
                            )
                            key = (mask | 1 << u, u, until)
                            if _insert(following.setdefault(key, []), done, cost + travel):
                                created += 1
                                new_paths[(*key, done, cost + travel)] = (*path, u)
                                self._close(*key, done, cost + travel, (*path, u))
                if created > self.budget:
                    self.exhausted = True
                    return
            layer = following
            paths = {k: v for k, v in new_paths.items() if (k[3], k[4]) in layer.get(k[:3], ())}
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

    def _may_follow(self, last: int, u: int) -> bool:
        """The class order: job ``u`` may come right after ``last`` (-1: the start)."""
        return last < 0 or self.classes[u] >= self.classes[last]

    def _fits(self, mask: int, u: int, cost: int, last: int) -> bool:
        """Skills, capacity, max_tasks and max_travel_time of adding job ``u``."""
        vehicle = self.vehicle
        if vehicle.max_tasks is not None and mask.bit_count() + 1 > vehicle.max_tasks:
            return False
        if vehicle.capacity is not None:
            grown = mask | 1 << u
            if grown not in self.loads:
                delivery = self.job[u].delivery or (0,) * len(vehicle.capacity)
                self.loads[grown] = [a + b for a, b in zip(self.loads[mask], delivery, strict=True)]
            if any(a > b for a, b in zip(self.loads[grown], vehicle.capacity, strict=True)):
                return False
        if vehicle.max_travel_time is not None:
            travel = self.from_start[u] if last < 0 else self.between[last][u]
            return cost + travel <= vehicle.max_travel_time
        return True

    def _hopeless(self, mask: int, last: int, ready: int | None, cost: int, taken: int = 0) -> bool:
        """True when no completion of this label can beat the best route known.

        ``ready`` ``None`` skips the time-based bounds (used to test a label before it is
        built, when only its travel is known).
        """
        served = mask.bit_count()
        reach = []
        reach_mask = 0
        for u in range(len(self.jobs)):
            if mask >> u & 1 or not self._may_follow(last, u):
                continue
            if ready is not None:
                travel = self.from_start[u] if last < 0 else self.between[last][u]
                if ready + travel > self.last_start[u]:
                    continue
            reach.append(u)
            reach_mask |= 1 << u
        room = len(reach)
        if self.vehicle.max_tasks is not None:
            room = min(room, self.vehicle.max_tasks - served)
        priorities = sorted((self.job[u].priority for u in reach), reverse=True)
        gain = sum(priorities[:room])
        if ready is not None and self.day_end < NO_END:
            fitting, most = self._time_bounds(reach, ready, taken)
            room, gain = min(room, fitting), min(gain, most)
        done_priority = sum(self.job[u].priority for u in range(len(self.jobs)) if mask >> u & 1)
        best_priority = done_priority + gain
        best_count = served + room
        target = self.best[:2]
        if (best_priority, best_count) != target:
            return (best_priority, best_count) < target
        if room == len(reach):
            # last == -1 (the start) reads the table's last column, the start's row.
            lower_bound = cost + int(self.completion[reach_mask, last])
        else:
            entering = sorted(self.min_in[u] for u in reach)[:room]
            lower_bound = cost + sum(entering) + self.min_in_end
        return -lower_bound <= self.best[2]

    def _time_bounds(self, reach: list[int], ready: int, taken: int) -> tuple[int, int]:
        """How many of ``reach`` fit in the time left, and at most how much priority.

        Each job served still needs its service and at least its cheapest way in; the breaks
        left and the cheapest way to the end need time too. A knapsack on time: the count is
        the most of the shortest jobs that fit, the priority a fractional knapsack bound.
        """
        left = (
            self.day_end
            - ready
            - self.min_in_end
            - sum(b.service for b in self.vehicle.breaks[taken:])
        )
        weights = [(self.job[u].service + self.min_in[u], self.job[u].priority) for u in reach]
        fitting, used = 0, 0
        for weight, _ in sorted(weights):
            if used + weight > left:
                break
            used, fitting = used + weight, fitting + 1
        most, room = 0.0, float(left)
        for weight, priority in sorted(weights, key=lambda w: -w[1] / w[0] if w[0] else -1e18):
            if weight <= room:
                most, room = most + priority, room - weight
            else:
                most += priority * max(room, 0.0) / weight
                break
        return fitting, int(most + 1e-9)


FORBIDDEN_ARC = np.iinfo(np.int64).max // 8
"""Travel of an arc the class order forbids in the Held-Karp table: larger than any route,
small enough that two of them and a table entry still add up inside int64."""


def _completion_bounds(
    between: list[list[int]], from_start: list[int], to_end: list[int], classes: list[int]
) -> np.ndarray:
    """``table[S, j]``: least travel from job ``j`` through every job of set ``S`` to the end,
    in class order.

    Held-Karp backwards over subsets, time ignored, vectorised over the last job; row ``j``
    equal to the number of jobs stands for the start. Entries for ``j`` in ``S`` are unused.
    An arc to a lower class costs :data:`FORBIDDEN_ARC`, so a set no ordered path covers gets
    a bound above any incumbent.
    """
    n = len(to_end)
    travel = np.array([*between, from_start], dtype=np.int64).reshape(n + 1, n)
    order = np.array(classes, dtype=np.int64)
    travel[:n][order[:, None] > order[None, :]] = FORBIDDEN_ARC
    table = np.zeros((1 << n, n + 1), dtype=np.int64)
    table[0, :n] = to_end
    table[0, n] = 0  # an empty route never reaches this bound
    masks = np.arange(1 << n)
    sizes = np.array([int(m).bit_count() for m in masks])
    for size in range(1, n + 1):
        layer = masks[sizes == size]
        best = np.full((len(layer), n + 1), np.iinfo(np.int64).max // 4, dtype=np.int64)
        for k in range(n):
            members = layer[(layer >> k) & 1 == 1]
            if not len(members):
                continue
            rows = np.searchsorted(layer, members)
            via = travel[:, k][None, :] + table[members ^ (1 << k), k][:, None]
            best[rows] = np.minimum(best[rows], via)
        table[layer] = best
    return table


def _insert(labels: list[tuple[int, int]], ready: int, cost: int) -> bool:
    """Add ``(ready, cost)`` unless dominated; drop the labels it dominates. True if added."""
    for other_ready, other_cost in labels:
        if other_ready <= ready and other_cost <= cost:
            return False
    labels[:] = [(r, c) for r, c in labels if not (ready <= r and cost <= c)]
    labels.append((ready, cost))
    return True

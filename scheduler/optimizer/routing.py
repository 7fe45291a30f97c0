"""The OR-Tools routing model. Every OR-Tools import of the optimizer is in this module.

OR-Tools proposes the orders of jobs; :mod:`.schedule` re-times them. The model therefore
mirrors the rules of :mod:`.schedule` as closely as OR-Tools allows, one small function per
rule:

* cost: travel seconds on each arc (VROOM's cost);
* served jobs: each job is an optional visit (a *disjunction*) whose penalty for being left
  out is ``priority * PRIORITY_WEIGHT + COUNT_WEIGHT``; the weights are chosen so one more
  point of priority outweighs any number of extra jobs, and one more job outweighs any
  travel saving, which is VROOM's lexicographic objective exactly;
* time: the cumul of a job is its *start* (windows bound it); leaving a job takes its setup,
  its service and the drive. Setup depends on the predecessor (paid only from another
  place), which an arc-based model cannot say directly, so a job that shares its place with
  another job or a vehicle start gets a second node, "already here", without setup, that only
  same-place nodes may precede; the two nodes are alternatives of one disjunction;
* breaks: OR-Tools break intervals, clipped to the vehicle's working hours;
* capacity, ``max_tasks``, ``max_travel_time``: one dimension each; skills and jobs that a
  vehicle cannot do even alone: the job's vehicle variable;
* class order (``order_class`` never decreases along a route): the arcs from a job to a job
  of a lower class are removed from the successor variables' domains, so first solutions and
  every local search move see only orders that respect it.

Times handed to OR-Tools are shifted by an origin (the earliest time in the problem) and
checked against :data:`.integers.MAX_VALUE`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from .integers import MAX_VALUE, check_range
from .problem import Problem
from .schedule import NO_END, vehicle_window

STRATEGIES = {
    "path_cheapest_arc": routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    "parallel_cheapest_insertion": (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    ),
    "local_cheapest_insertion": routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION,
    "savings": routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
    "automatic": routing_enums_pb2.FirstSolutionStrategy.AUTOMATIC,
}
METAHEURISTICS = {
    "guided_local_search": routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    "greedy_descent": routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
    "simulated_annealing": routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING,
    "tabu_search": routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
}


@dataclass(frozen=True)
class SearchSettings:
    """How much and how the search works: its work limits, a clock cap, OR-Tools' strategies.

    ``solution_limit`` is the *work* limit: OR-Tools stops its local search after that many
    accepted solutions, and every later phase takes its own work limit from it (ruin and
    recreate runs :data:`.solve.RUIN_ITERATIONS_PER_SOLUTION` iterations per solution). A run
    that stops on its work limits does the same work on any machine under any load, so the
    same input and seed give the same answer.
    ``time_limit`` (seconds, optional) is a wall-clock cap on top: when the cap is what stops
    a run, the answer depends on the machine's speed. Without a ``solution_limit`` the search
    runs to the cap; without either, :func:`.solve.solve` picks work limits by size.

    ``operators``: ``"full"`` is OR-Tools' default set, including its insertion-based LNS
    moves that help choose which jobs to serve on a full day; ``"lean"`` drops those (and the
    moves that only unassign jobs), several times faster per move when every job fits, as in
    Solomon's instances; ``"auto"`` builds a first solution and picks ``lean`` when it serves
    every job that can be served, ``full`` otherwise.
    """

    time_limit: float | None = None
    solution_limit: int | None = None
    first_solution: str = "local_cheapest_insertion"
    metaheuristic: str = "guided_local_search"
    operators: str = "auto"

    def __post_init__(self) -> None:
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"time_limit: must be positive, got {self.time_limit!r}")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError(f"solution_limit: must be at least 1, got {self.solution_limit!r}")
        if self.first_solution not in STRATEGIES:
            raise ValueError(f"first_solution: one of {sorted(STRATEGIES)}")
        if self.metaheuristic not in METAHEURISTICS:
            raise ValueError(f"metaheuristic: one of {sorted(METAHEURISTICS)}")
        if self.operators not in ("auto", "full", "lean"):
            raise ValueError("operators: one of auto, full, lean")


def objective_weights(problem: Problem) -> tuple[int, int]:
    """``(PRIORITY_WEIGHT, COUNT_WEIGHT)`` making the penalties lexicographic.

    Any solution's travel is below ``COUNT_WEIGHT`` (each of the at most jobs + vehicles legs
    costs at most the largest matrix entry), and all jobs together are worth less than one
    point of priority.
    """
    longest = max((max(row) for row in problem.durations), default=0)
    legs = len(problem.jobs) + len(problem.vehicles)
    count_weight = longest * legs + 1
    priority_weight = count_weight * (len(problem.jobs) + 1)
    check_range("the penalty of a job", priority_weight * 101)
    return priority_weight, count_weight


@dataclass(frozen=True)
class _Node:
    """A node of the OR-Tools graph: a job (with or without setup) or a vehicle's start/end."""

    job: int  # position in problem.jobs, -1 for a depot node
    place: int | None  # location index, None for an open start/end
    leave: int  # seconds spent at the node before driving on (setup if paid + service)
    same_place_only: bool = False  # the "already here" twin of a job


LNS_OPERATORS = (
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_global_cheapest_insertion_visit_types_lns",
    "use_local_cheapest_insertion_visit_types_lns",
    "use_relocate_expensive_chain",
    "use_shortest_path_swap_active",
    "use_shortest_path_two_opt",
    "use_swap_active_chain",
    "use_make_chain_inactive",
    "use_make_inactive",
)
PAIR_OPERATORS = (  # pickup-and-delivery moves: no pairs in this model
    "use_relocate_pair", "use_light_relocate_pair", "use_exchange_pair",
    "use_exchange_subtrip", "use_relocate_subtrip",
)  # fmt: skip
OFF, ON = 2, 3  # OptionalBoolean.BOOL_FALSE, BOOL_TRUE
LEAN_GLS_LAMBDA = 0.2
"""Guided local search penalty factor in lean mode (OR-Tools' default is 0.1)."""


def search_routes(
    problem: Problem,
    candidates: Sequence[Sequence[int]],
    settings: SearchSettings,
    initial: Sequence[Sequence[int]] | None = None,
    deadline: float | None = None,
) -> list[list[int]] | None:
    """Routes (job positions per vehicle) from OR-Tools, choosing the operator set if asked.

    ``initial`` (job positions per vehicle, feasible) replaces OR-Tools' first solution.
    ``deadline`` (a :func:`time.perf_counter` time) is the clock cap; ``settings.time_limit``
    is not read here. Without a deadline the search must have a work limit: a
    ``solution_limit``, or the greedy descent, which stops at its local optimum.
    """
    if deadline is None and settings.solution_limit is None:
        if settings.metaheuristic != "greedy_descent":
            raise ValueError("an OR-Tools search needs a deadline or a solution_limit")
    if settings.operators != "auto":
        lean = settings.operators == "lean"
        return RoutingModelBuilder(problem, candidates, lean).search(settings, initial, deadline)
    routes: Sequence[Sequence[int]] | None = initial
    if routes is None:
        routes = _best_first_solution(problem, candidates, settings, deadline)
    if routes is None:
        return None
    possible = sum(1 for c in candidates if c)
    lean = sum(len(route) for route in routes) == possible
    if _past(deadline):
        return [list(route) for route in routes]
    second = RoutingModelBuilder(problem, candidates, lean)
    if _past(deadline):
        return [list(route) for route in routes]
    found = second.search(settings, initial=routes, deadline=deadline)
    return found if found is not None else [list(route) for route in routes]


def _past(deadline: float | None, margin: float = 0.002) -> bool:
    """Whether the clock has (nearly) reached ``deadline``; never without one."""
    return deadline is not None and time.perf_counter() >= deadline - margin


NO_CLOCK = 10**6
"""Seconds handed to OR-Tools as its time limit when the run is bounded by work only: never
reached, so the clock cannot change the answer."""


FIRST_SOLUTION_PORTFOLIO = ("savings",)
"""First-solution strategies tried beside the configured one; the best start is searched.

Guided local search rarely escapes a poor start within seconds. On the Solomon instances
OR-Tools' cheapest insertion (in node order) starts 30-140 % above the best known distance and
the savings heuristic 14-50 %, except on a few tight-window instances (R101) where insertion
wins; each costs well under a second on 100 visits, so both are built and the better kept.
"""


def _best_first_solution(
    problem: Problem,
    candidates: Sequence[Sequence[int]],
    settings: SearchSettings,
    deadline: float | None,
) -> list[list[int]] | None:
    """OR-Tools' first solutions by the configured strategy and the portfolio's; the best by
    (jobs served, priority served, travel)."""
    strategies = dict.fromkeys((settings.first_solution, *FIRST_SOLUTION_PORTFOLIO))
    best: tuple[tuple[int, int, int], list[list[int]]] | None = None
    for strategy in strategies:
        if best is not None and _past(deadline):
            break
        builder = RoutingModelBuilder(problem, candidates, lean=False)
        found = builder.search(
            replace(settings, solution_limit=1, metaheuristic="greedy_descent",
                    first_solution=strategy),
            deadline=deadline,
        )
        if found is None:
            continue
        score = _first_solution_score(problem, found)
        if best is None or score > best[0]:
            best = (score, found)
    return None if best is None else best[1]


def _first_solution_score(
    problem: Problem, routes: Sequence[Sequence[int]]
) -> tuple[int, int, int]:
    """VROOM's objective of OR-Tools' routes as proposed (travel between consecutive places)."""
    jobs = [p for route in routes for p in route]
    travel = 0
    for v, route in enumerate(routes):
        places = [problem.vehicles[v].start_index]
        places += [problem.jobs[p].location_index for p in route]
        places.append(problem.vehicles[v].end_index)
        travel += sum(problem.travel(a, b) for a, b in zip(places, places[1:], strict=False))
    return sum(problem.jobs[p].priority for p in jobs), len(jobs), -travel


class RoutingModelBuilder:
    """Builds the OR-Tools model of a problem, then searches and reads routes back."""

    def __init__(
        self, problem: Problem, candidates: Sequence[Sequence[int]], lean: bool = False
    ) -> None:
        """``candidates[p]``: vehicles that could serve job ``p`` alone; ``lean``: see
        :class:`SearchSettings` ``operators``."""
        self.lean = lean
        self.problem = problem
        self.candidates = candidates
        self.origin = _origin(problem)
        self.nodes = self._make_nodes()
        vehicles = len(problem.vehicles)
        depot = len(self.nodes) - 2 * vehicles
        self.manager = pywrapcp.RoutingIndexManager(
            len(self.nodes),
            vehicles,
            [depot + 2 * v for v in range(vehicles)],
            [depot + 2 * v + 1 for v in range(vehicles)],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.horizon = self._horizon()
        self._add_travel_cost()
        self._add_time()
        self._add_job_choices()
        self._add_class_order()
        self._add_capacities()
        self._add_task_limits()
        self._add_travel_limits()

    # ---------------------------------------------------------------- graph

    def _make_nodes(self) -> list[_Node]:
        problem = self.problem
        starts = {v.start_index for v in problem.vehicles}
        places = [job.location_index for job in problem.jobs]
        nodes: list[_Node] = []
        self.job_nodes: dict[int, list[int]] = {}
        for p, job in enumerate(problem.jobs):
            if not self.candidates[p]:
                continue
            self.job_nodes[p] = [len(nodes)]
            nodes.append(_Node(p, job.location_index, job.setup + job.service))
            shared = places.count(job.location_index) > 1 or job.location_index in starts
            if job.setup and shared:
                self.job_nodes[p].append(len(nodes))
                nodes.append(_Node(p, job.location_index, job.service, same_place_only=True))
        for vehicle in problem.vehicles:
            nodes.append(_Node(-1, vehicle.start_index, 0))
            nodes.append(_Node(-1, vehicle.end_index, 0))
        return nodes

    def _travel_matrix(self) -> list[list[int]]:
        travel = self.problem.travel
        return [[travel(a.place, b.place) for b in self.nodes] for a in self.nodes]

    # ---------------------------------------------------------------- rules

    def _add_travel_cost(self) -> None:
        """Cost: travel seconds of each arc, as VROOM's default cost."""
        self.travel = self._travel_matrix()
        callback = self.routing.RegisterTransitMatrix(self.travel)
        self.routing.SetArcCostEvaluatorOfAllVehicles(callback)

    def _add_time(self) -> None:
        """Time: start of each task inside its windows; setup + service + drive between."""
        transit = [
            [node.leave + self.travel[i][j] for j in range(len(self.nodes))]
            for i, node in enumerate(self.nodes)
        ]
        for i in range(len(self.nodes)):
            transit[i][i] = 0
        callback = self.routing.RegisterTransitMatrix(transit)
        self.routing.AddDimension(callback, self.horizon, self.horizon, False, "time")
        self.time = self.routing.GetDimensionOrDie("time")
        for p, nodes in self.job_nodes.items():
            for node in nodes:
                self._restrict_to_windows(
                    self.time.CumulVar(self._index(node)), self.problem.jobs[p].time_windows
                )
        for v, vehicle in enumerate(self.problem.vehicles):
            start, end = self._shifted_window(vehicle_window(vehicle))
            self.time.CumulVar(self.routing.Start(v)).SetRange(start, end)
            self.time.CumulVar(self.routing.End(v)).SetRange(start, end)
        self._add_breaks()

    def _add_breaks(self) -> None:
        """Breaks: intervals the vehicle is not visiting during, inside its working hours."""
        if not any(vehicle.breaks for vehicle in self.problem.vehicles):
            return
        visit = [0] * self.routing.Size()
        for index in range(self.routing.Size()):
            visit[index] = self.nodes[self.manager.IndexToNode(index)].leave
        solver = self.routing.solver()
        for v, vehicle in enumerate(self.problem.vehicles):
            if not vehicle.breaks:
                continue
            day_start, day_end = self._shifted_window(vehicle_window(vehicle))
            intervals = []
            for pause in vehicle.breaks:
                windows = [self._shifted_window(w) for w in pause.time_windows] or [
                    (day_start, day_end)
                ]
                low = max(day_start, windows[0][0])
                high = min(day_end - pause.service, windows[-1][1])
                if low > high:  # cannot be taken: the vehicle must stay unused
                    self._forbid_vehicle(v)
                    low = high = day_start
                intervals.append(
                    solver.FixedDurationIntervalVar(low, high, pause.service, False, f"b{v}")
                )
            self.time.SetBreakIntervalsOfVehicle(intervals, v, visit)

    def _add_job_choices(self) -> None:
        """Each job optional at a lexicographic penalty; only capable vehicles; setup twins."""
        priority_weight, count_weight = objective_weights(self.problem)
        same_place_twins = [n for nodes in self.job_nodes.values() for n in nodes[1:]]
        for p, nodes in self.job_nodes.items():
            job = self.problem.jobs[p]
            penalty = job.priority * priority_weight + count_weight
            indices = [self._index(n) for n in nodes]
            self.routing.AddDisjunction(indices, penalty, 1)
            allowed = [-1, *self.candidates[p]]
            for index in indices:
                self.routing.VehicleVar(index).SetValues(allowed)
        for twin in same_place_twins:
            self._only_from_same_place(twin)

    def _only_from_same_place(self, twin: int) -> None:
        place = self.nodes[twin].place
        twin_index = self._index(twin)
        for k, node in enumerate(self.nodes):
            if node.place == place or k == twin:
                continue
            if self._is_end(k):
                continue
            self.routing.NextVar(self._index(k)).RemoveValue(twin_index)

    def _add_class_order(self) -> None:
        """Class order: no arc from a job to a job of a lower ``order_class``.

        A route's classes never decrease iff no consecutive pair decreases, so removing those
        arcs is the whole rule. Nothing is removed when all classes are equal (the default),
        so such a model is the one built before classes existed.
        """
        jobs = self.problem.jobs
        by_class: dict[int, list[int]] = {}
        for p, nodes in self.job_nodes.items():
            by_class.setdefault(jobs[p].order_class, []).extend(self._index(n) for n in nodes)
        for p, nodes in self.job_nodes.items():
            lower = [
                index
                for order_class, indices in by_class.items()
                if order_class < jobs[p].order_class
                for index in indices
            ]
            if not lower:
                continue
            for node in nodes:
                self.routing.NextVar(self._index(node)).RemoveValues(lower)

    def _add_capacities(self) -> None:
        """Capacity: deliveries loaded at the start, one dimension per amount component."""
        problem = self.problem
        size = max((len(job.delivery) for job in problem.jobs), default=0)
        for dim in range(size):
            demand = [
                problem.jobs[n.job].delivery[dim]
                if n.job >= 0 and problem.jobs[n.job].delivery
                else 0
                for n in self.nodes
            ]
            total = sum(demand) or 1
            caps = [v.capacity[dim] if v.capacity is not None else total for v in problem.vehicles]
            callback = self.routing.RegisterUnaryTransitVector(demand)
            self.routing.AddDimensionWithVehicleCapacity(callback, 0, caps, True, f"load{dim}")

    def _add_task_limits(self) -> None:
        """``max_tasks``: count the job nodes on each route."""
        vehicles = self.problem.vehicles
        if all(v.max_tasks is None for v in vehicles):
            return
        count = [1 if n.job >= 0 else 0 for n in self.nodes]
        limit = [v.max_tasks if v.max_tasks is not None else len(self.nodes) for v in vehicles]
        callback = self.routing.RegisterUnaryTransitVector(count)
        self.routing.AddDimensionWithVehicleCapacity(callback, 0, limit, True, "tasks")

    def _add_travel_limits(self) -> None:
        """``max_travel_time``: sum of drives on each route."""
        vehicles = self.problem.vehicles
        if all(v.max_travel_time is None for v in vehicles):
            return
        callback = self.routing.RegisterTransitMatrix(self.travel)
        cap = min(MAX_VALUE, sum(max(row) for row in self.travel) + 1)
        limit = [
            min(cap, v.max_travel_time) if v.max_travel_time is not None else cap for v in vehicles
        ]
        self.routing.AddDimensionWithVehicleCapacity(callback, 0, limit, True, "travel")

    # ---------------------------------------------------------------- search

    def search(
        self,
        settings: SearchSettings,
        initial: Sequence[Sequence[int]] | None = None,
        deadline: float | None = None,
    ) -> list[list[int]] | None:
        """Run OR-Tools; per vehicle the job positions in order, or ``None`` if nothing found.

        ``initial`` (job positions per vehicle) seeds the search when given and valid. The
        search stops at ``settings.solution_limit`` or at ``deadline``, whichever comes first.
        OR-Tools' own limit on each LNS neighbourhood (``lns_time_limit``, 0.1 s by default)
        is set to the whole time left, so that under load it cannot cut a neighbourhood short
        and change the answer: only the caller's deadline is a clock.
        """
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = STRATEGIES[settings.first_solution]
        params.local_search_metaheuristic = METAHEURISTICS[settings.metaheuristic]
        seconds = NO_CLOCK if deadline is None else deadline - time.perf_counter()
        milliseconds = max(1, int(seconds * 1000))
        params.time_limit.FromMilliseconds(milliseconds)
        params.lns_time_limit.FromMilliseconds(milliseconds)
        if settings.solution_limit is not None:
            params.solution_limit = settings.solution_limit
        operators = params.local_search_operators
        for name in PAIR_OPERATORS + (LNS_OPERATORS if self.lean else ()):
            setattr(operators, name, OFF)
        if self.lean:
            # Tried on the Solomon instances where plain GLS did worst (benchmarks/solomon.py):
            # inter-route chain swaps, and stronger penalties to leave local optima.
            operators.use_cross_exchange = ON
            operators.use_relocate_neighbors = ON
            params.guided_local_search_lambda_coefficient = LEAN_GLS_LAMBDA
        assignment = None
        if initial is not None:
            self.routing.CloseModelWithParameters(params)
            start = self.routing.ReadAssignmentFromRoutes(self._initial_indices(initial), True)
            if start is not None:
                assignment = self.routing.SolveFromAssignmentWithParameters(start, params)
        if assignment is None:
            assignment = self.routing.SolveWithParameters(params)
        if assignment is None:
            return None
        return self._read_routes(assignment)

    def _initial_indices(self, initial: Sequence[Sequence[int]]) -> list[list[int]]:
        """Routing indices of given routes, using the no-setup twin after a same-place stop."""
        routes = []
        for v, jobs in enumerate(initial):
            place = self.problem.vehicles[v].start_index
            indices = []
            for p in jobs:
                nodes = self.job_nodes.get(p)
                if nodes is None:
                    continue
                here = self.problem.jobs[p].location_index
                twin = len(nodes) > 1 and place == here
                indices.append(self._index(nodes[1] if twin else nodes[0]))
                place = here
            routes.append(indices)
        return routes

    def _read_routes(self, assignment: pywrapcp.Assignment) -> list[list[int]]:
        routes = []
        for v in range(len(self.problem.vehicles)):
            jobs = []
            index = assignment.Value(self.routing.NextVar(self.routing.Start(v)))
            while not self.routing.IsEnd(index):
                jobs.append(self.nodes[self.manager.IndexToNode(index)].job)
                index = assignment.Value(self.routing.NextVar(index))
            routes.append(jobs)
        return routes

    # ---------------------------------------------------------------- helpers

    def _index(self, node: int) -> int:
        return self.manager.NodeToIndex(node)

    def _is_end(self, node: int) -> bool:
        depot = len(self.nodes) - 2 * len(self.problem.vehicles)
        return node >= depot and (node - depot) % 2 == 1

    def _forbid_vehicle(self, v: int) -> None:
        for nodes in self.job_nodes.values():
            for node in nodes:
                self.routing.VehicleVar(self._index(node)).RemoveValue(v)

    def _shifted_window(self, window: tuple[int, int]) -> tuple[int, int]:
        start, end = window
        return (
            max(0, start - self.origin),
            self.horizon if end >= NO_END else min(self.horizon, end - self.origin),
        )

    def _restrict_to_windows(self, cumul: pywrapcp.IntVar, windows: Sequence[tuple[int, int]]):
        if not windows:
            return
        shifted = [self._shifted_window(w) for w in windows]
        cumul.SetRange(shifted[0][0], shifted[-1][1])
        for (_, end), (start, _) in zip(shifted, shifted[1:], strict=False):
            if start - 1 >= end + 1:
                cumul.RemoveInterval(end + 1, start - 1)

    def _horizon(self) -> int:
        """Latest shifted time any cumul may take: the last finite time plus a full day's work."""
        problem = self.problem
        times = [end for v in problem.vehicles if v.time_window for end in v.time_window]
        times += [w[1] for job in problem.jobs for w in job.time_windows]
        times += [w[1] for v in problem.vehicles for b in v.breaks for w in b.time_windows]
        last = max(times, default=self.origin) - self.origin
        work = sum(n.leave for n in self.nodes) + sum(
            b.service for v in problem.vehicles for b in v.breaks
        )
        longest = max((max(row) for row in problem.durations), default=0)
        horizon = last + work + longest * (len(self.nodes) + 1)
        return check_range("the planning horizon (seconds from the earliest time)", horizon)


def _origin(problem: Problem) -> int:
    """The earliest time named anywhere in the problem (0 if none): the model's zero."""
    times = [v.time_window[0] for v in problem.vehicles if v.time_window]
    times += [w[0] for job in problem.jobs for w in job.time_windows]
    times += [w[0] for v in problem.vehicles for b in v.breaks for w in b.time_windows]
    return min(times, default=0)
